from __future__ import annotations

from types import SimpleNamespace

import pytest
from langchain_core.language_models import FakeListChatModel

from localchain.errors import ConfigError
from localchain.prompts import (
    StrictChatPromptTemplate,
    StrictPromptTemplate,
    find_task,
    get_prompt,
    kind_for_model,
    list_tasks,
    load_task_file,
    load_tasks,
)
from localchain.prompts.library import DATA_DIR

EXPECTED_TASKS = ["classify", "extract", "qa", "rewrite", "summarize", "translate"]


@pytest.mark.parametrize("path", sorted(DATA_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_yaml_file_loads(path):
    task = load_task_file(path)
    assert task.name == path.stem
    assert "step" in task.cot.chat.human
    assert "step-by-step" in task.cot.seq2seq


def test_tasks_listed():
    assert list_tasks() == EXPECTED_TASKS
    assert set(load_tasks()) == set(EXPECTED_TASKS)


def test_bad_file_is_config_error(tmp_path):
    good = (DATA_DIR / "qa.yaml").read_text()
    path = tmp_path / "bad.yaml"
    path.write_text(good.replace("Question: {question}\nseq2seq", "Question: {questoin}\nseq2seq"))
    path.write_text(good.replace("{context}", "{ctx}", 1))
    with pytest.raises(ConfigError, match="ctx"):
        load_task_file(path)
    path.write_text("name: x\n")
    with pytest.raises(ConfigError, match="invalid"):
        load_task_file(path)


def test_alias_and_did_you_mean():
    assert find_task("Summarise").name == "summarize"
    with pytest.raises(ConfigError, match=r"Did you mean 'translate'\?.*Known tasks: classify"):
        get_prompt("transalte")


def test_seq2seq_qa_is_flan_string():
    prompt = get_prompt("qa", kind="seq2seq")
    assert isinstance(prompt, StrictPromptTemplate)
    text = prompt.format(context="C.", question="Q?")
    assert text.startswith("Read this and answer the question.")
    cot = get_prompt("qa", kind="seq2seq", cot=True).format(context="C.", question="Q?")
    assert cot.startswith("Answer the following question by reasoning step-by-step.")


def test_chat_cot_says_step_by_step():
    prompt = get_prompt("qa", kind="chat", cot=True)
    assert isinstance(prompt, StrictChatPromptTemplate)
    assert "Let's think step by step" in prompt.format(context="C.", question="Q?")


def _engine_model(kind):
    model = FakeListChatModel(responses=["ok"])
    object.__setattr__(model, "_get_engine", lambda: SimpleNamespace(kind=kind))
    return model


def test_kind_from_model():
    assert kind_for_model(None) == "chat"
    assert kind_for_model(FakeListChatModel(responses=["x"])) == "chat"  # any LangChain model
    assert kind_for_model(_engine_model("causal")) == "chat"
    assert kind_for_model(_engine_model("seq2seq")) == "seq2seq"
    assert isinstance(get_prompt("summarize", model=_engine_model("seq2seq")), StrictPromptTemplate)
    # an explicit kind wins over the model's
    chat = get_prompt("summarize", model=_engine_model("seq2seq"), kind="chat")
    assert isinstance(chat, StrictChatPromptTemplate)


def test_unknown_kind():
    with pytest.raises(ConfigError, match="'chat' or 'seq2seq'"):
        get_prompt("qa", kind="causal")


def test_values_bind_options_as_list():
    prompt = get_prompt("classify", kind="seq2seq", values={"options": ["pos", "neg"]})
    assert prompt.input_variables == ["text"]
    assert prompt.format(text="Great!").endswith("OPTIONS:\n- pos\n- neg")
    with pytest.raises(ConfigError, match="labels"):
        get_prompt("classify", values={"labels": ["a"]})


def test_composes_with_a_model():
    chain = get_prompt("summarize") | FakeListChatModel(responses=["short"])
    assert chain.invoke({"text": "long text"}).content == "short"


def test_import_is_light():
    import subprocess
    import sys

    code = (
        "import sys, localchain.prompts; "
        "print([m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
