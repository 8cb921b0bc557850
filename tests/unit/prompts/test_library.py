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


def _qa_yaml() -> str:
    return (DATA_DIR / "qa.yaml").read_text()


def _edit(old: str, new: str) -> str:
    good = _qa_yaml()
    assert good.count(old) >= 1, f"qa.yaml no longer contains {old!r}: update this test"
    return good.replace(old, new, 1)


BAD_FILES = {
    # The chat variant's human message misspells a declared variable.
    "misspelt_variable": (
        lambda: _edit("Question: {question}\nseq2seq", "Question: {questoin}\nseq2seq"),
        r"chat variant uses variables \['context', 'questoin'\], but the file declares "
        r"\['context', 'question'\]",
    ),
    # The chat variant uses a variable the file does not declare (and drops one it does).
    "renamed_variable": (
        lambda: _edit("{context}", "{ctx}"),
        r"chat variant uses variables \['ctx', 'question'\]",
    ),
    # Only the seq2seq cot variant is wrong: every variant is checked, not just the first.
    "cot_variant_only": (
        lambda: _edit("step-by-step.\n\n    {context}", "step-by-step.\n\n    {contxt}"),
        r"seq2seq cot variant uses variables \['contxt', 'question'\]",
    ),
    # Required fields are missing.
    "missing_fields": (lambda: "name: x\n", r"(?s)is invalid: .*description\n  Field required"),
    # Not YAML at all.
    "not_yaml": (lambda: "name: [unclosed\n", r"(?s)is invalid: .*(flow sequence|expected)"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_is_config_error(tmp_path, case):
    make_text, message = BAD_FILES[case]
    path = tmp_path / "bad.yaml"
    path.write_text(make_text())
    with pytest.raises(ConfigError, match=message) as caught:
        load_task_file(path)
    assert str(path) in str(caught.value)


def test_good_copy_of_a_bad_file_loads(tmp_path):
    """The bad files above are edits of this one, so it must load: they fail for their edit."""
    path = tmp_path / "good.yaml"
    path.write_text(_qa_yaml())
    assert load_task_file(path).name == "qa"


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
