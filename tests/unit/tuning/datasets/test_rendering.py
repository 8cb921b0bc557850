"""The prompt a task adapter trains on is the prompt ChatLocal renders for the chain's call."""

from __future__ import annotations

import json

import pytest

from localchain.chains.pal import build_messages
from localchain.chains.triples import Facts, Triples
from localchain.models.chat import ChatLocal
from localchain.models.chat_format import format_chat
from localchain.models.loading import load_model
from localchain.tuning.datasets.pal import generate_problems
from localchain.tuning.datasets.rendering import (
    STRUCTURED_OUTPUT_NOTE,
    render_messages,
    write_json,
    write_jsonl,
)
from localchain.tuning.datasets.triples import generate_passages, record_chain_calls


@pytest.fixture(scope="module")
def chat(tiny_decoder_path):
    return ChatLocal(model=str(tiny_decoder_path), device="cpu", max_new_tokens=4)


@pytest.fixture(scope="module")
def trainer_format(tiny_decoder_path):
    loaded = load_model(str(tiny_decoder_path), device="cpu")
    return lambda messages: format_chat(loaded.tokenizer, loaded.kind, messages)


def test_pal_record_prompt_is_chatlocals_prompt(chat, trainer_format):
    problem = generate_problems("train", 3, seed=0)[2]
    record = problem.record()
    sent = build_messages(problem.task, problem.question, few_shot=False)
    request = chat._prepare(sent, {})
    prompt, schema = request.prompt, request.schema
    assert schema is None
    assert trainer_format(record["messages"][:-1]) == prompt


def test_triples_record_prompts_are_chatlocals_structured_prompts(chat, trainer_format):
    passage = generate_passages("train", 4, seed=0)[3]
    schemas = {"facts": Facts.model_json_schema(), "triples": Triples.model_json_schema()}
    steps = []
    for (step, rendered, _), record in zip(
        record_chain_calls(passage.text, passage.facts, passage.raw), passage.records(), strict=True
    ):
        assert record["messages"][:-1] == rendered and record["step"] == step
        # What the chain would send ChatLocal for this step, rebuilt from the rendered roles.
        request = chat._prepare(_as_messages(rendered, step), {"response_format": schemas[step]})
        prompt, schema = request.prompt, request.schema
        assert schema == schemas[step]
        assert trainer_format(rendered) == prompt
        steps.append(step)
    assert steps == ["triples"]  # the direct step the chain asks with its adapter


def _as_messages(rendered, step):
    """The chain's own messages: system text without ChatLocal's note, then the turns."""
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    system = rendered[0]["content"].split("\n\n" + STRUCTURED_OUTPUT_NOTE)[0]
    kinds = {"user": HumanMessage, "assistant": AIMessage}
    return [SystemMessage(system), *(kinds[m["role"]](m["content"]) for m in rendered[1:])]


def test_structured_note_matches_chatlocal_without_a_system_message(chat):
    from langchain_core.messages import HumanMessage

    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    mine = render_messages([HumanMessage("hi")], response_format=schema)
    prompt = chat._prepare([HumanMessage("hi")], {"response_format": schema}).prompt
    engine_prompt = chat._get_engine().format_chat(mine)
    assert prompt == engine_prompt
    assert mine[0]["content"] == STRUCTURED_OUTPUT_NOTE + json.dumps(schema, separators=(",", ":"))


def test_writers_round_trip(tmp_path):
    rows = [{"a": 1, "b": "é"}, {"a": 2}]
    path = write_jsonl(tmp_path / "x" / "rows.jsonl", rows)
    assert [json.loads(line) for line in path.read_text("utf-8").splitlines()] == rows
    assert json.loads(write_json(tmp_path / "y.json", rows).read_text("utf-8")) == rows
