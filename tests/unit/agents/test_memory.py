"""Agent memory: SQLite checkpoints across agents and processes, and a kill -9 mid-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from localchain.agents import create_agent
from localchain.models import FakeChatModel
from localchain.tools import calculator

ROOT = Path(__file__).resolve().parents[3]


def test_conversation_persists_in_a_sqlite_file(tmp_path):
    db = tmp_path / "memory" / "chat.sqlite"
    first = FakeChatModel(responses=["Nice to meet you, Ada."])
    agent = create_agent(first, [calculator], checkpointer=db)
    result = agent.invoke("My name is Ada.", thread_id="ada")
    assert result.thread_id == "ada"
    assert db.exists()

    # A new agent (as after a restart) on the same file continues the thread.
    second = FakeChatModel(responses=["Your name is Ada."])
    again = create_agent(second, [calculator], checkpointer=str(db))
    result = again.invoke("What is my name?", thread_id="ada")
    seen = [m.content for m in second.calls[0].messages if isinstance(m, HumanMessage | AIMessage)]
    assert seen == ["My name is Ada.", "Nice to meet you, Ada.", "What is my name?"]
    assert result.output == "Your name is Ada."
    assert [s["kind"] for s in result.steps] == ["model"]  # this run's steps only
    assert len(again.get_messages("ada")) == 4
    assert again.get_messages("someone-else") == []


async def test_async_runs_use_the_same_sqlite_file(tmp_path):
    db = tmp_path / "chat.sqlite"
    agent = create_agent(FakeChatModel(responses=["hello"]), [calculator], checkpointer=db)
    result = await agent.ainvoke("hi", thread_id="t")
    assert result.output == "hello"
    later = create_agent(FakeChatModel(responses=["again"]), [calculator], checkpointer=db)
    assert [m.content for m in later.get_messages("t")] == ["hi", "hello"]


def test_without_a_checkpointer_threads_are_refused():
    agent = create_agent(FakeChatModel(responses=["x"]), [calculator])
    assert agent.invoke("hi").thread_id is None
    with pytest.raises(Exception, match="checkpointer"):
        agent.get_messages("t")


CHILD = textwrap.dedent(
    """
    import pathlib, sys, time
    from langchain_core.messages import AIMessage
    from langchain_core.tools import tool
    from localchain.agents import create_agent
    from localchain.models import FakeChatModel

    db, marker = sys.argv[1], sys.argv[2]

    @tool
    def fetch(key: str) -> str:
        \"\"\"Fetch a value.\"\"\"
        return f"value of {key}"

    @tool
    def slow(key: str) -> str:
        \"\"\"A slow step.\"\"\"
        pathlib.Path(marker).write_text("started")
        time.sleep(120)
        return "never"

    def calls(name, call_id):
        return AIMessage("", tool_calls=[{"name": name, "args": {"key": "a"}, "id": call_id}])

    model = FakeChatModel(responses=[calls("fetch", "c1"), calls("slow", "c2"), "unused"])
    agent = create_agent(model, [fetch, slow], checkpointer=db)
    for event in agent.stream("go", thread_id="t1"):
        print(event, flush=True)
    """
)


@tool
def fetch(key: str) -> str:
    """Fetch a value."""
    return f"value of {key}"


@tool
def slow(key: str) -> str:
    """A slow step."""
    return f"slow {key} done"


def test_kill_9_mid_run_loses_no_finished_step(tmp_path):
    db, marker, script = tmp_path / "run.sqlite", tmp_path / "started", tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, str(script), str(db), str(marker)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            if child.poll() is not None:
                pytest.fail(f"child exited early: {child.stderr.read()}")
            if time.monotonic() > deadline:
                pytest.fail("child never reached its second tool step")
            time.sleep(0.1)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    printed = child.stdout.read()
    assert "tool_result" in printed and "value of a" in printed

    model = FakeChatModel(responses=["a is 'value of a'; slow done"])
    agent = create_agent(model, [fetch, slow], checkpointer=db)
    saved = agent.get_messages("t1")
    # The first tool step and the second model step were saved before the kill.
    assert [type(m).__name__ for m in saved] == [
        "HumanMessage",
        "AIMessage",
        "ToolMessage",
        "AIMessage",
    ]
    assert saved[2].content == "value of a"
    assert saved[3].tool_calls[0]["name"] == "slow"
    assert agent.graph.get_state({"configurable": {"thread_id": "t1"}}).next == ("tools",)

    result = agent.invoke(None, thread_id="t1")  # continue the interrupted run
    assert len(model.calls) == 1  # no model step was repeated
    tool_results = [m.content for m in result.messages if isinstance(m, ToolMessage)]
    assert tool_results == ["value of a", "slow a done"]  # fetch was not run again
    assert result.output == "a is 'value of a'; slow done"
    assert [s["kind"] for s in result.steps] == ["model", "tools", "model", "tools", "model"]
