"""The tool-calling training data parses with localchain's own loader and reply parser."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import pytest

from localchain.datasets import load_examples
from localchain.models.tool_calling import parse_tool_output, tool_call_schema, tools_system_prompt
from tests._scripts import load_script

SCRIPT = Path(__file__).resolve().parents[3] / "examples" / "tool_calls" / "make_data.py"


@pytest.fixture(scope="module")
def make_data():
    yield load_script(SCRIPT, "tool_calls_make_data")
    sys.modules.pop("tool_calls_make_data", None)


@pytest.fixture(scope="module")
def splits(make_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("tool-calls")
    make_data.main(["--out", str(out), "--train", "120", "--val", "30", "--test", "60"])
    return out


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("split", ["train", "val", "test"])
def test_every_split_loads_with_the_tuning_loader(splits, split):
    examples = load_examples(splits / f"{split}.jsonl")
    records = _records(splits / f"{split}.jsonl")
    assert len(examples) == len(records) == {"train": 120, "val": 30, "test": 60}[split]
    assert {r["kind"] for r in records} == {"single", "choose", "parallel", "no_call", "answer"}


@pytest.mark.parametrize("split", ["train", "val", "test"])
def test_every_assistant_turn_parses_as_chatlocal_parses_replies(splits, split):
    for record in _records(splits / f"{split}.jsonl"):
        tools, kind = record["tools"], record["kind"]
        messages = record["messages"]
        # The system prompt is the one ChatLocal.bind_tools(tools, tool_choice="auto") adds.
        assert messages[0]["role"] == "system"
        assert messages[0]["content"].endswith(
            tools_system_prompt(tools, "auto", parallel_tool_calls=True)
        )
        for turn in messages[1:-1]:
            if turn["role"] == "assistant":  # earlier calls, one JSON object per line
                for line in turn["content"].splitlines():
                    assert parse_tool_output(line, tools)[1]
        completion = messages[-1]["content"]
        content, calls = parse_tool_output(completion, tools)
        if kind in ("single", "choose"):
            assert len(calls) == 1 and content == ""
        elif kind == "parallel":
            assert len(calls) >= 2 and content == ""
        else:
            assert calls == [] and content.strip()
        # Each call (or the text answer) matches the schema the grammar enforces, with the
        # arguments in the schema's property order.
        validator = jsonschema.Draft202012Validator(
            tool_call_schema(tools, "auto", parallel_tool_calls=True)
        )
        data = json.loads(completion)
        for item in data if isinstance(data, list) else [data]:
            validator.validate(item)
            if "arguments" in item:
                tool = next(t for t in tools if t["function"]["name"] == item["name"])
                order = list(tool["function"]["parameters"]["properties"])
                assert list(item["arguments"]) == [k for k in order if k in item["arguments"]]


def test_tool_results_are_rendered_as_chatlocal_renders_them(splits):
    answers = [r for r in _records(splits / "train.jsonl") if r["kind"] == "answer"]
    assert answers
    for record in answers:
        call_turn, result_turn = record["messages"][-3], record["messages"][-2]
        call = json.loads(call_turn["content"])
        assert result_turn["role"] == "user"
        assert result_turn["content"].startswith(f"Tool result ({call['name']}, call_")


def test_held_out_tools_appear_only_in_the_test_split(make_data, splits):
    held_out = {t.name for t in make_data.ALL_HELD_OUT}

    def used(split):
        return {
            t["function"]["name"] for r in _records(splits / f"{split}.jsonl") for t in r["tools"]
        }

    assert not used("train") & held_out
    assert not used("val") & held_out
    assert used("test") & held_out


def test_the_data_is_deterministic(make_data, splits, tmp_path):
    make_data.main(["--out", str(tmp_path), "--train", "120", "--val", "30", "--test", "60"])
    for split in ("train", "val", "test"):
        assert (tmp_path / f"{split}.jsonl").read_bytes() == (
            splits / f"{split}.jsonl"
        ).read_bytes()


CALIBRATE = SCRIPT.with_name("calibrate_relevance.py")


@pytest.fixture(scope="module")
def calibrate_relevance():
    yield load_script(CALIBRATE, "tool_calls_calibrate")
    sys.modules.pop("tool_calls_calibrate", None)


def test_calibration_counts_kept_calls_and_declined_no_calls(calibrate_relevance):
    rows = {floor: (kept, declined) for floor, kept, declined in
            calibrate_relevance.calibrate([0.2, 0.5, 0.6, 0.9], [0.1, 0.3])}  # fmt: skip
    assert rows[0.0] == (1.0, 0.0)
    assert rows[0.25] == (0.75, 0.5)  # 0.2 is dropped; 0.1 declined
    assert rows[0.35] == (0.75, 1.0)
    assert rows[0.6] == (0.5, 1.0)  # a score equal to the floor is kept


class _WordOverlap:
    """Embeddings over a few words, so the nearest tool of a request is predictable."""

    words = ("weather", "temperature", "convert", "currency", "hello", "thanks")

    def embed_query(self, text):
        return [float(w in text.lower()) for w in self.words]

    def embed_documents(self, texts):
        return [self.embed_query(t) for t in texts]


def test_nearest_scores_the_request_against_the_offered_tools(calibrate_relevance):
    from localchain.models.tool_relevance import ToolScorer

    tools = [{"type": "function", "function": {"name": "get_weather",
                                               "description": "Current weather."}}]  # fmt: skip
    asked = {"messages": [{"role": "user", "content": "Weather in Oslo?"}], "tools": tools}
    other = {"messages": [{"role": "user", "content": "Hello!"}], "tools": tools}
    scorer = ToolScorer(_WordOverlap())
    assert calibrate_relevance.nearest(scorer, asked) == pytest.approx(1.0)
    assert calibrate_relevance.nearest(scorer, other) == 0.0
