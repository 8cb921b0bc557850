"""SQLite chat history: sessions, threads, a SIGKILLed writer, RunnableWithMessageHistory."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables.history import RunnableWithMessageHistory

from localchain.errors import ConfigError
from localchain.memory import HistoryStoreError, SQLiteChatMessageHistory, WindowMemory
from localchain.models import FakeChatModel

ROOT = Path(__file__).resolve().parents[3]


def test_round_trip_keeps_message_types_and_fields(tmp_path):
    path = tmp_path / "sub" / "h.sqlite3"
    call = {"name": "calc", "args": {"x": 1}, "id": "c1"}
    messages = [
        SystemMessage("rules"),
        HumanMessage("hi", id="h1"),
        AIMessage("", tool_calls=[call]),
        ToolMessage("2", tool_call_id="c1"),
        AIMessage("done", response_metadata={"model": "fake"}),
    ]
    with SQLiteChatMessageHistory("s1", path) as history:
        history.add_messages(messages)
    with SQLiteChatMessageHistory("s1", path) as reopened:
        got = reopened.messages
    assert got == messages
    assert got[2].tool_calls[0]["args"] == {"x": 1}


def test_sessions_are_separate_and_clear_is_per_session(tmp_path):
    path = tmp_path / "h.sqlite3"
    a, b = SQLiteChatMessageHistory("a", path), SQLiteChatMessageHistory("b", path)
    a.add_user_message("for a")
    b.add_ai_message("for b")
    assert [m.text for m in a.messages] == ["for a"]
    assert a.sessions() == ["a", "b"]
    a.clear()
    assert a.messages == [] and [m.text for m in b.messages] == ["for b"]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_concurrent_sessions_from_threads_do_not_mix(tmp_path):
    path = tmp_path / "h.sqlite3"
    shared = SQLiteChatMessageHistory("shared", path)
    errors = []

    def talk(name):
        try:
            own = SQLiteChatMessageHistory(name, path)
            for i in range(25):
                own.add_messages([HumanMessage(f"{name} q{i}"), AIMessage(f"{name} a{i}")])
                shared.add_user_message(f"{name} {i}")
            own.close()
        except Exception as err:  # noqa: BLE001 - surfaced below
            errors.append(err)

    threads = [threading.Thread(target=talk, args=(f"user{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for n in range(6):
        texts = [m.text for m in SQLiteChatMessageHistory(f"user{n}", path).messages]
        expected = [t for i in range(25) for t in (f"user{n} q{i}", f"user{n} a{i}")]
        assert texts == expected
    shared_texts = [m.text for m in shared.messages]
    assert len(shared_texts) == 150
    for n in range(6):  # each thread's own order survives interleaving
        mine = [t for t in shared_texts if t.startswith(f"user{n} ")]
        assert mine == [f"user{n} {i}" for i in range(25)]


def test_a_killed_process_loses_no_acknowledged_message(tmp_path):
    path = tmp_path / "h.sqlite3"
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from langchain_core.messages import AIMessage, HumanMessage
        from localchain.memory import SQLiteChatMessageHistory
        history = SQLiteChatMessageHistory("crash", {str(path)!r})
        i = 0
        while True:
            history.add_messages([HumanMessage(f"q{{i}}"), AIMessage(f"a{{i}}")])
            print(i, flush=True)
            i += 1
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        acked = -1
        while acked < 30:
            line = proc.stdout.readline()
            assert line, "the writer exited early"
            acked = int(line)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    texts = [m.text for m in SQLiteChatMessageHistory("crash", path).messages]
    assert len(texts) >= 2 * (acked + 1)
    assert len(texts) % 2 == 0  # each turn was committed whole
    assert texts == [t for i in range(len(texts) // 2) for t in (f"q{i}", f"a{i}")]


def test_works_with_runnable_with_message_history(tmp_path):
    prompt = ChatPromptTemplate.from_messages(
        [MessagesPlaceholder("history"), ("human", "{input}")]
    )
    model = FakeChatModel(fn=lambda messages, options: f"{len(messages)} messages")
    chain = RunnableWithMessageHistory(
        prompt | model,
        SQLiteChatMessageHistory.factory(tmp_path / "h.sqlite3"),
        input_messages_key="input",
        history_messages_key="history",
    )
    ada = {"configurable": {"session_id": "ada"}}
    bob = {"configurable": {"session_id": "bob"}}
    assert chain.invoke({"input": "hi"}, ada).text == "1 messages"
    assert chain.invoke({"input": "hi"}, bob).text == "1 messages"
    assert chain.invoke({"input": "again"}, ada).text == "3 messages"
    history = SQLiteChatMessageHistory("ada", tmp_path / "h.sqlite3")
    assert [m.text for m in history.messages] == ["hi", "1 messages", "again", "3 messages"]


async def test_async_methods_and_memory_backed_by_sqlite(tmp_path):
    history = SQLiteChatMessageHistory("s", tmp_path / "h.sqlite3")
    await history.aadd_messages([HumanMessage("one"), AIMessage("1")])
    assert [m.text for m in await history.aget_messages()] == ["one", "1"]
    memory = WindowMemory(k=1, history=history)
    memory.add_turn("two", "2")
    reopened = WindowMemory(k=1, history=SQLiteChatMessageHistory("s", tmp_path / "h.sqlite3"))
    assert [m.text for m in reopened.load()] == ["two", "2"]


def test_bad_inputs_are_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="session_id"):
        SQLiteChatMessageHistory("", tmp_path / "h.sqlite3")
    with pytest.raises(ConfigError, match="table"):
        SQLiteChatMessageHistory("s", tmp_path / "h.sqlite3", table="x; DROP TABLE y")
    history = SQLiteChatMessageHistory("s", tmp_path / "h.sqlite3")
    with pytest.raises(ConfigError, match="langchain messages"):
        history.add_messages(["text"])
    assert history.messages == []
    not_db = tmp_path / "notes.txt"
    not_db.write_text("this is not a database " * 100)
    with pytest.raises(HistoryStoreError, match="notes.txt"):
        SQLiteChatMessageHistory("s", not_db)


def test_a_corrupt_row_is_named(tmp_path):
    path = tmp_path / "h.sqlite3"
    history = SQLiteChatMessageHistory("s", path)
    history.add_user_message("fine")
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO message_store (session_id, message) VALUES ('s', '{oops')")
    with pytest.raises(HistoryStoreError, match="Row 2"):
        _ = history.messages
