"""LangChain 1.x's own agent, langchain.agents.create_agent, on localchain's chat models."""

from __future__ import annotations

from langchain.agents import create_agent
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessage, ToolMessage
from pydantic import BaseModel

from localchain.models import ChatLocal, FakeChatModel
from localchain.tools import calculator


def test_langchain_agent_runs_tools_and_answers():
    calls = [
        {"name": "calculator", "args": {"expression": "17*23"}, "id": "c1"},
        {"name": "calculator", "args": {"expression": "2**10"}, "id": "c2"},
    ]
    model = FakeChatModel(responses=[AIMessage("", tool_calls=calls), "391 and 1024"])
    agent = create_agent(model, [calculator], system_prompt="Be brief.")
    state = agent.invoke({"messages": [{"role": "user", "content": "17*23 and 2**10?"}]})
    results = [m.content for m in state["messages"] if isinstance(m, ToolMessage)]
    assert results == ["391", "1024"]
    assert state["messages"][-1].content == "391 and 1024"
    assert model.calls[0].tools == ["calculator"]
    assert model.calls[0].messages[0].content == "Be brief."


class Product(BaseModel):
    value: int


def test_langchain_agent_structured_output_with_fake_model():
    call = {"name": "Product", "args": {"value": 391}, "id": "s1"}
    model = FakeChatModel(responses=[AIMessage("", tool_calls=[call])])
    agent = create_agent(model, [calculator], response_format=Product)
    state = agent.invoke({"messages": [{"role": "user", "content": "17*23"}]})
    assert state["structured_response"] == Product(value=391)


def test_langchain_agent_on_chat_local_tiny(tiny_decoder_path):
    """The agent drives ChatLocal's bind_tools path end to end (a random model: form only)."""
    chat = ChatLocal(model=str(tiny_decoder_path), device="cpu", max_tokens=48, truncation="left")
    agent = create_agent(chat, [calculator])
    try:
        state = agent.invoke(
            {"messages": [{"role": "user", "content": "2+2?"}]}, {"recursion_limit": 6}
        )
    except OutputParserException as err:
        # A random model can fill its call with noise until max_tokens: that must end the run
        # with the clear cut-off error, never a partial call.
        _check_cut_off(err)
        return
    replies = [m for m in state["messages"] if isinstance(m, AIMessage)]
    assert replies
    for reply in replies:  # every call the grammar let through is a well-formed calculator call
        for call in reply.tool_calls:
            assert call["name"] == "calculator" and isinstance(call["args"].get("expression"), str)


def _check_cut_off(err: OutputParserException) -> None:
    text = str(err)
    assert "cut off by the token limit" in text and "max_tokens" in text, text
