"""Buffer, window and token-budget memories, and the shared memory interface."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import RunnableLambda

from localchain.errors import ConfigError, ContextLengthError
from localchain.memory import BufferMemory, TokenBudgetMemory, WindowMemory, split_turns
from localchain.models import FakeChatModel


def _words(messages):
    return sum(len(m.text.split()) for m in messages)


def _fill(memory, n):
    for i in range(n):
        memory.add_turn(f"question {i}", f"answer {i}")


def test_split_turns_keeps_system_prefix_and_groups_replies():
    messages = [
        SystemMessage("be brief"),
        AIMessage("hello"),
        HumanMessage("a"),
        AIMessage("b"),
        AIMessage("c"),
        HumanMessage("d"),
    ]
    prefix, turns = split_turns(messages)
    assert [m.text for m in prefix] == ["be brief"]
    assert [[m.text for m in t] for t in turns] == [["hello"], ["a", "b", "c"], ["d"]]


def test_buffer_returns_everything_and_clear_forgets():
    memory = BufferMemory()
    _fill(memory, 3)
    assert [m.text for m in memory.load()] == [
        "question 0",
        "answer 0",
        "question 1",
        "answer 1",
        "question 2",
        "answer 2",
    ]
    memory.clear()
    assert memory.load() == []


def test_window_keeps_last_k_turns_and_system_messages():
    memory = WindowMemory(k=2)
    memory.add_messages([SystemMessage("rules")])
    _fill(memory, 5)
    assert [m.text for m in memory.load()] == [
        "rules",
        "question 3",
        "answer 3",
        "question 4",
        "answer 4",
    ]


@pytest.mark.parametrize("k", [0, -1, 1.5, "2", True])
def test_window_rejects_bad_k(k):
    with pytest.raises(ConfigError, match="k must be an integer"):
        WindowMemory(k=k)


def test_bad_inputs_are_clear_errors():
    memory = BufferMemory()
    with pytest.raises(ConfigError, match="list of messages"):
        memory.add_messages(HumanMessage("hi"))
    with pytest.raises(ConfigError, match="langchain messages"):
        memory.add_messages(["hi"])
    with pytest.raises(ConfigError, match="human must be a str"):
        memory.add_turn(42, "x")
    with pytest.raises(ConfigError, match="BaseChatMessageHistory"):
        BufferMemory(history=[])


def test_token_budget_keeps_newest_turns_that_fit():
    memory = TokenBudgetMemory(_words, budget=9)
    memory.add_messages([SystemMessage("be kind")])  # 2 words
    _fill(memory, 4)  # 4 words per turn
    kept = memory.load()
    assert [m.text for m in kept] == ["be kind", "question 3", "answer 3"]
    assert _words(kept) <= 9


def test_token_budget_drops_a_turn_too_big_for_what_is_left():
    memory = TokenBudgetMemory(_words, budget=5)
    memory.add_turn("short", "reply")
    memory.add_turn("a very long question " * 5, "ok")
    assert memory.load() == []


def test_token_budget_uses_a_models_counter(monkeypatch):
    model = FakeChatModel(responses=["x"])
    monkeypatch.setattr(
        FakeChatModel, "get_num_tokens_from_messages", lambda self, ms, tools=None: 10 * len(ms)
    )
    memory = TokenBudgetMemory(model, budget=45)
    _fill(memory, 3)
    assert len(memory.load()) == 4


def test_token_budget_errors():
    with pytest.raises(ConfigError, match="budget must be an integer"):
        TokenBudgetMemory(_words, budget=0)
    with pytest.raises(ConfigError, match="counter must be"):
        TokenBudgetMemory(42, budget=10)
    memory = TokenBudgetMemory(lambda ms: -1, budget=10)
    memory.add_turn("a", "b")
    with pytest.raises(ConfigError, match="non-negative int"):
        memory.load()
    memory = TokenBudgetMemory(_words, budget=2)
    memory.add_messages([SystemMessage("a long system prompt")])
    with pytest.raises(ContextLengthError, match="system messages alone"):
        memory.load()


def _echo_history(messages, options):
    return f"seen {len(messages)} messages"


def test_wrap_loads_and_saves_turns_in_an_lcel_chain():
    prompt = ChatPromptTemplate.from_messages(
        [MessagesPlaceholder("history"), ("human", "{input}")]
    )
    model = FakeChatModel(fn=_echo_history)
    memory = WindowMemory(k=1)
    chain = memory.wrap(prompt | model)
    assert chain.invoke({"input": "one"}).text == "seen 1 messages"
    assert chain.invoke({"input": "two"}).text == "seen 3 messages"
    assert chain.invoke({"input": "three"}).text == "seen 3 messages"  # window of 1 turn
    assert [m.text for m in memory.messages][-2:] == ["three", "seen 3 messages"]


async def test_wrap_and_as_runnable_async():
    prompt = ChatPromptTemplate.from_messages(
        [MessagesPlaceholder("history"), ("human", "{input}")]
    )
    memory = BufferMemory()
    chain = memory.wrap(prompt | FakeChatModel(fn=_echo_history))
    await chain.ainvoke({"input": "one"})
    out = await chain.ainvoke({"input": "two"})
    assert out.text == "seen 3 messages"
    loaded = await memory.as_runnable().ainvoke({"input": "x"})
    assert len(loaded["history"]) == 4
    assert loaded["input"] == "x"


def test_wrap_errors_name_the_problem():
    memory = BufferMemory()
    chain = memory.wrap(FakeChatModel(responses=["x"]))
    with pytest.raises(ConfigError, match="key 'input'"):
        chain.invoke({"question": "hi"})
    dict_chain = memory.wrap(RunnableLambda(lambda d: {"answer": "x"}))
    with pytest.raises(ConfigError, match="output_key"):
        dict_chain.invoke({"input": "hi"})
    assert memory.wrap(RunnableLambda(lambda d: {"answer": "x"}), output_key="answer").invoke(
        {"input": "hi"}
    ) == {"answer": "x"}
    assert [m.text for m in memory.messages] == ["hi", "x"]
