"""FakeChatModel: scripted replies, word-piece streaming, tools, structured output, call log."""

from __future__ import annotations

import pytest
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.tools import tool
from pydantic import BaseModel

from localchain.errors import ConfigError
from localchain.models.fake import FakeCall, FakeChatModel


@tool
def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression."""
    return str(eval(expression))  # noqa: S307 - test helper on fixed input


CALL = {"name": "calculator", "args": {"expression": "17*23"}, "id": "c1", "type": "tool_call"}


class Answer(BaseModel):
    city: str
    population: int


def test_queue_replies_in_order_and_records_calls():
    model = FakeChatModel(responses=[AIMessage("", tool_calls=[CALL]), "391"])
    bound = model.bind_tools([calculator])
    first = bound.invoke("What is 17*23?")
    assert first.tool_calls == [CALL]
    second = model.invoke([SystemMessage("be brief"), HumanMessage("again")], stop=["\n"])
    assert second.content == "391"
    assert len(model.calls) == 2
    assert isinstance(model.calls[0], FakeCall)
    assert model.calls[0].tools == ["calculator"]
    assert model.calls[0].messages[0].content == "What is 17*23?"
    assert model.calls[1].tools == []
    assert model.calls[1].options["stop"] == ["\n"]
    assert [m.type for m in model.calls[1].messages] == ["system", "human"]
    assert model.remaining == 0


def test_running_out_raises_clear_error():
    model = FakeChatModel(responses=["only one"])
    model.invoke("a")
    with pytest.raises(ConfigError, match="ran out of responses"):
        model.invoke("b")
    model.reset()
    assert model.invoke("c").content == "only one"
    assert len(model.calls) == 1


def test_needs_exactly_one_source():
    with pytest.raises(ConfigError, match="exactly one"):
        FakeChatModel()
    with pytest.raises(ConfigError, match="exactly one"):
        FakeChatModel(responses=["x"], fn=lambda m, o: "y")


def test_fn_sees_messages_and_options():
    def echo(messages, options):
        return f"{messages[-1].content} ({options.get('tool_choice')})"

    model = FakeChatModel(fn=echo)
    assert model.invoke("hi").content == "hi (None)"
    bound = model.bind_tools([calculator], tool_choice="any")
    assert bound.invoke("yo").content == "yo (any)"
    assert model.calls[1].options["tool_choice"] == "any"
    assert model.calls[1].tools == ["calculator"]


def test_queued_message_is_copied():
    reply = AIMessage("same")
    model = FakeChatModel(responses=[reply, reply])
    first = model.invoke("a")
    first.content = "changed"
    assert model.invoke("b").content == "same"


def test_stream_in_word_pieces():
    model = FakeChatModel(responses=["The capital of France is Paris."])
    chunks = list(model.stream("q"))
    assert [c.content for c in chunks] == ["The ", "capital ", "of ", "France ", "is ", "Paris."]
    assert chunks[-1].chunk_position == "last"
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    assert full.content == "The capital of France is Paris."


def test_stream_tool_call():
    model = FakeChatModel(responses=[AIMessage("", tool_calls=[CALL])])
    chunks = list(model.bind_tools([calculator]).stream("q"))
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    assert full.tool_calls[0]["name"] == "calculator"
    assert full.tool_calls[0]["args"] == {"expression": "17*23"}


async def test_async_and_batch():
    model = FakeChatModel(responses=["one", "two", "three four"])
    assert (await model.ainvoke("a")).content == "one"
    assert [m.content for m in model.batch(["b"])] == ["two"]
    pieces = [c.content async for c in model.astream("c")]
    assert pieces == ["three ", "four"]
    assert len(model.calls) == 3


def test_structured_output_pydantic_and_dict():
    model = FakeChatModel(
        responses=[
            '{"city": "Paris", "population": 2100000}',
            '```json\n{"city": "Lyon", "population": 500000}\n```',
            AIMessage(
                "",
                tool_calls=[
                    {"name": "Answer", "args": {"city": "Nice", "population": 1}, "id": "x"}
                ],
            ),
        ]
    )
    parsed = model.with_structured_output(Answer).invoke("q")
    assert parsed == Answer(city="Paris", population=2100000)
    as_dict = model.with_structured_output(Answer.model_json_schema()).invoke("q")
    assert as_dict == {"city": "Lyon", "population": 500000}
    by_tool = model.with_structured_output(Answer, method="function_calling").invoke("q")
    assert by_tool.city == "Nice"
    assert model.calls[0].options["response_format"]["properties"].keys() == {"city", "population"}


def test_structured_output_errors_and_include_raw():
    model = FakeChatModel(responses=["not json", '{"city": "Paris"}', "nope"])
    with pytest.raises(OutputParserException, match="not JSON"):
        model.with_structured_output(Answer).invoke("q")
    with pytest.raises(OutputParserException, match="does not fit Answer"):
        model.with_structured_output(Answer).invoke("q")
    result = model.with_structured_output(Answer, include_raw=True).invoke("q")
    assert result["parsed"] is None
    assert result["raw"].content == "nope"
    assert isinstance(result["parsing_error"], OutputParserException)
