"""The agent scripts in apps/agents/ run on the embedded SmolLM2-135M and print their steps.

Each script is run as a user would (a subprocess, the public API only). Asserted: it exits
cleanly, calls at least one tool (the scripts make the first step consult a tool), prints the
tool's result and a final answer, and, for the chat, that a second process resumes the saved
conversation. Of the checkable facts, the observatory's year is asserted (the model gets it,
greedy); the order count is beyond the 135M model and is not; each test says what it did.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
APPS = ROOT / "apps" / "agents"


def run_script(name: str, *args: str, stdin: str | None = None) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, str(APPS / name), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=1500,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def steps(out: str, kind: str) -> list[str]:
    return re.findall(rf"^\[step \d+\] {kind}\b.*$", out, flags=re.MULTILINE)


def test_research_assistant():
    out = run_script(
        "research_assistant.py", "When was the Verrin Observatory built?", "--max-steps", "2"
    )
    assert "documents: 3" in out
    assert steps(out, "model") and steps(out, "tool_call")
    assert steps(out, "tool_result")
    # The search tool caps its query at 100 characters (maxLength in the call grammar), so
    # the 135M model's long made-up query still closes within --max-tokens 96. Measured
    # (greedy, deterministic): it searches twice, the passages hold the year, and the answer
    # copies the sentence with it. Before the cap, the cut-off call left it without the year.
    assert re.search(r"^answer: .*\b1894\b", out, flags=re.MULTILINE)


def test_data_assistant(tmp_path):
    db = tmp_path / "shop.sqlite"
    out = run_script(
        "data_assistant.py", str(db), "How many orders are there?", "--demo", "--max-steps", "2"
    )
    calls = steps(out, "tool_call")
    assert calls
    assert any("sql_query" in c or "python" in c for c in calls)
    assert steps(out, "tool_result")
    assert re.search(r"^answer: .+", out, flags=re.MULTILINE)
    # Not asserted: the count (6) in the answer. Measured in a probe run: the model wrote
    # SELECT COUNT(*) FROM orders and got the count, then repeated the call instead of
    # answering from it (the loop guard stopped it).


def test_memory_chat_resumes_after_a_restart(tmp_path):
    db = tmp_path / "chat.sqlite"
    common = ["--db", str(db), "--thread", "ada", "--max-steps", "2"]
    first = run_script(
        "memory_chat.py", *common, "--first-tool-choice", "any", "My name is Ada. What is 12 * 7?"
    )
    assert "new conversation 'ada'" in first
    assert steps(first, "tool_call") and steps(first, "tool_result")
    assert "agent> " in first

    second = run_script("memory_chat.py", *common, stdin="What is my name?\n")
    found = re.search(r"resumed conversation 'ada': (\d+) earlier messages", second)
    assert found and int(found.group(1)) >= 4  # question, call, result, answer
    assert "agent> " in second
