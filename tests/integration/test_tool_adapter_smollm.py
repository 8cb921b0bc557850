"""The shipped tool-calling adapter on the real SmolLM2-135M-Instruct.

Requests from the tool-call data's ``test`` split (tools, phrasings and slot values never seen
in training), asked through ``ChatLocal(tool_adapter="auto").bind_tools(tools)`` exactly as a
user would: with the adapter, more replies are the right call (name and arguments) than with
the plain model (measured 2026-12-03: 3 of 8 against 0 of 8). Requests that no offered tool
serves are mostly answered with a call anyway (1 of 8 in text, measured): the adapter's known
weakness, reported in the README; the test keeps that one from getting worse, and checks that
``tool_relevance_floor="auto"`` (offer only the tools the request is about) fixes most of it
(measured: 6 of 8 in text, the 3 right calls kept).
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from langchain_core.exceptions import OutputParserException

from localchain.models.adapters import TOOL_CALLS_ADAPTER, shipped_adapters
from localchain.models.chat import ChatLocal
from tests._scripts import load_script

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
MAKE_DATA = ROOT / "examples" / "tool_calls" / "make_data.py"
N_CALLS, N_NO_CALL = 8, 8


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    """The test split written by make_data.py."""
    module = load_script(MAKE_DATA, "tool_calls_make_data_it")
    out = tmp_path_factory.mktemp("tool-calls")
    module.main(["--out", str(out)])
    sys.modules.pop("tool_calls_make_data_it", None)
    return [json.loads(line) for line in (out / "test.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def cases(records):
    """The first call and no-call requests of the test split."""
    calls = [r for r in records if r["kind"] in ("single", "choose")][:N_CALLS]
    no_call = [r for r in records if r["kind"] == "no_call"][:N_NO_CALL]
    return calls, no_call


def _ask(chat: ChatLocal, record: dict) -> list[dict] | str:
    """The calls (name and args) the model makes for a record's request, or its text."""
    messages = [(m["role"], m["content"]) for m in record["messages"][1:-1]]
    try:
        reply = chat.bind_tools(record["tools"], tool_choice="auto").invoke(messages)
    except OutputParserException as err:
        return f"cut off: {err}"
    if reply.tool_calls:
        return [{"name": c["name"], "args": c["args"]} for c in reply.tool_calls]
    return reply.text


def _ask_all(chat: ChatLocal, records: list[dict]) -> list[list[dict] | str]:
    """``_ask`` for each record, 4 at once (the model's scheduler batches them; each reply is
    the one the request gets alone)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda r: _ask(chat, r), records))


def _right(chat: ChatLocal, records: list[dict]) -> int:
    """How many of ``records`` get exactly the expected calls."""
    return sum(a == _expected(r) for a, r in zip(_ask_all(chat, records), records, strict=True))


def _expected(record: dict) -> list[dict]:
    data = json.loads(record["messages"][-1]["content"])
    return (
        [{"name": c["name"], "args": c["arguments"]} for c in data]
        if isinstance(data, list)
        else [{"name": data["name"], "args": data["arguments"]}]
    )


def test_the_adapter_is_shipped_and_picked_for_the_embedded_model():
    assert TOOL_CALLS_ADAPTER in shipped_adapters()
    assert ChatLocal(tool_adapter="auto").adapter_for_tools() == TOOL_CALLS_ADAPTER
    assert ChatLocal().adapter_for_tools() is None  # off unless asked for


def test_the_adapter_makes_more_right_calls_and_still_answers_in_text(cases):
    calls, no_call = cases
    tuned = ChatLocal(tool_adapter="auto", max_tokens=96)
    plain = ChatLocal(max_tokens=96)
    right = {name: _right(chat, calls) for name, chat in (("tuned", tuned), ("plain", plain))}
    texts = _texts(tuned, no_call)
    print(f"right calls of {len(calls)}: {right}; no-call answered in text: {texts}")  # noqa: T201
    assert right["tuned"] >= right["plain"] + 2
    assert texts >= 1
    # With the relevance floor, requests no offered tool serves get a text answer, and the
    # requests for a tool keep it (measured 2026-12-03: 6 of 8
    # texts against 1, right calls 3 against 3).
    gated = ChatLocal(tool_adapter="auto", tool_relevance_floor="auto", max_tokens=96)
    gated_right = _right(gated, calls)
    gated_texts = _texts(gated, no_call)
    print(f"with the floor: {gated_right} right calls, {gated_texts} texts")  # noqa: T201
    assert gated_texts >= texts + 2
    assert gated_right >= right["tuned"] - 1


def _texts(chat: ChatLocal, records: list[dict]) -> int:
    """How many of ``records`` the model answers in text (not a call, not cut off)."""
    answers = _ask_all(chat, records)
    return sum(isinstance(a, str) and not a.startswith("cut off") for a in answers)


def test_the_calibrated_floor_separates_held_out_requests(records):
    """On tools and phrasings never seen in calibration, the floor keeps most requests for a
    tool and declines most requests for none (measured: 0.82 kept, 0.85 declined)."""
    from localchain.models.embeddings import LocalEmbeddings
    from localchain.models.tool_relevance import RELEVANCE_FLOOR, ToolScorer

    scorer = ToolScorer(LocalEmbeddings())
    kept = declined = n_calls = n_none = 0
    for record in records:
        if record["kind"] == "answer":
            continue
        request = next(m["content"] for m in reversed(record["messages"]) if m["role"] == "user")
        offered = scorer.relevant(request, record["tools"], RELEVANCE_FLOOR)
        if record["kind"] == "no_call":
            n_none += 1
            declined += not offered
        else:
            n_calls += 1
            kept += bool(offered)
    print(f"kept {kept}/{n_calls} calls, declined {declined}/{n_none} no-calls")  # noqa: T201
    assert kept / n_calls >= 0.75
    assert declined / n_none >= 0.75
