"""The agent-steps training data: rendered as the agent renders its steps, and bench-free."""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

import jsonschema
import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from localchain.datasets import load_examples
from localchain.models.tool_calling import parse_tool_output, tool_call_schema, tools_system_prompt
from tests._scripts import load_script

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "examples" / "agent_steps" / "make_data.py"
BENCH = ROOT / "bench" / "agent_tasks.py"


@pytest.fixture(scope="module")
def make_data():
    yield load_script(SCRIPT, "agent_steps_make_data")
    sys.modules.pop("agent_steps_make_data", None)


@pytest.fixture(scope="module")
def records(make_data):
    # Random embeddings: most searches miss their note and those runs are skipped; the graph,
    # SQL and read_file runs stay (the real generator embeds with all-MiniLM-L6-v2).
    return make_data.make_split(random.Random(7), 40, DeterministicFakeEmbedding(size=16))


def test_records_load_with_the_tuning_loader(records, tmp_path):
    path = tmp_path / "steps.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    assert len(load_examples(path)) == len(records) > 40
    kinds = {r["kind"] for r in records}
    assert {"agent_step_1", "agent_step_2", "agent_step_3"} <= kinds


def test_each_step_is_rendered_as_the_agent_renders_it(records):
    for record in records:
        tools, choice, messages = record["tools"], record["tool_choice"], record["messages"]
        first = record["kind"] == "agent_step_1"
        # The first step of a run forces a call (first_tool_choice="any"); later ones are auto.
        assert choice == ("any" if first else "auto")
        assert messages[0]["content"].endswith(
            tools_system_prompt(tools, choice, parallel_tool_calls=False)
        )
        assert 3 <= len(tools) <= 5
        completion = messages[-1]["content"]
        jsonschema.validate(
            json.loads(completion), tool_call_schema(tools, choice, parallel_tool_calls=False)
        )
        content, calls = parse_tool_output(completion, tools)
        assert len(calls) == 1 if first else (len(calls) == 1) != bool(content.strip())


def test_a_computed_answer_states_the_computed_number(records):
    checked = 0
    for record in records:
        messages = record["messages"]
        content, calls = parse_tool_output(messages[-1]["content"], record["tools"])
        last_result = messages[-2]["content"]
        if calls or not last_result.startswith("Tool result (calculator"):
            continue
        number = last_result.split(": ", 1)[1].strip()
        assert number in content, (number, content)
        checked += 1
    assert checked >= 5


def test_no_name_or_question_of_the_agent_bench_is_in_the_data(make_data, records):
    bench = BENCH.read_text(encoding="utf-8")
    vocabulary = [
        *make_data.PLACE_NAMES,
        *make_data.PEOPLE,
        *make_data.TOWNS,
        *make_data.COUNTRIES,
        *make_data.ORGS,
    ]
    assert [word for word in vocabulary if word in bench] == []
    questions = re.findall(r'^\s+"([A-Z][^"]+\?)"', bench, flags=re.MULTILINE)
    assert len(questions) >= 10
    asked = {r["messages"][1]["content"] for r in records}
    assert asked.isdisjoint(questions)
