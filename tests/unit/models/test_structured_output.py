"""Structured output and tool calls are complete and valid, or an OutputParserException.

A reply cut off by max_tokens before its JSON was complete, and a value that breaks a schema
keyword the grammar engine cannot enforce (a lookahead pattern, a format), must never come back
as a parsed object.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessage, HumanMessage
from pydantic import BaseModel, Field

from localchain.errors import ConfigError, ContextLengthError
from localchain.models.chat import ChatLocal, StructuredOutputParser
from localchain.models.tool_calling import parse_json_reply

QUESTION = "What is the capital of France?"

THREE_FIELDS = {
    "title": "Person",
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "city": {"type": "string"},
        "age": {"type": "integer"},
    },
    "required": ["name", "city", "age"],
    "additionalProperties": False,
}

LOOKAHEAD = {
    "type": "object",
    "properties": {"pw": {"type": "string", "pattern": r"^(?=.*\d)[a-z0-9]{3,8}$"}},
    "required": ["pw"],
}


class Person(BaseModel):
    """A person."""

    name: str
    city: str
    age: int


class Capital(BaseModel):
    """Short fields: a random tiny model finishes them within 64 tokens."""

    country: str = Field(max_length=6)
    population: int = Field(ge=0, le=99)


class Digit(BaseModel):
    """A digit."""

    n: int = Field(ge=0, le=9)


class GetWeather(BaseModel):
    """Get the weather in a city."""

    city: str


@pytest.fixture(scope="module")
def short_chat(tiny_decoder_path) -> ChatLocal:
    """Six tokens: never enough for a three-field object."""
    return ChatLocal(model=str(tiny_decoder_path), device="cpu", max_tokens=6, truncation="left")


@pytest.fixture(scope="module")
def chat(tiny_decoder_path) -> ChatLocal:
    return ChatLocal(model=str(tiny_decoder_path), device="cpu", max_tokens=64, truncation="left")


def _cut_off(err: BaseException) -> None:
    assert isinstance(err, OutputParserException)
    assert "max_tokens" in str(err) and "cut off" in str(err)


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
@pytest.mark.parametrize("schema", [THREE_FIELDS, Person], ids=["dict", "pydantic"])
def test_cut_off_structured_output_raises(short_chat, method, schema):
    with pytest.raises(OutputParserException) as info:
        short_chat.with_structured_output(schema, method=method).invoke(QUESTION)
    _cut_off(info.value)


@pytest.mark.parametrize("method", ["json_schema", "function_calling", "json_mode"])
def test_cut_off_structured_output_with_raw_reports_parsing_error(short_chat, method):
    schema = None if method == "json_mode" else THREE_FIELDS
    # Any JSON object fits in six tokens ("{}"): one token cannot hold a complete one.
    model = short_chat.model_copy(update={"max_tokens": 1}) if schema is None else short_chat
    out = model.with_structured_output(schema, method=method, include_raw=True).invoke(QUESTION)
    assert out["parsed"] is None
    assert isinstance(out["raw"], AIMessage)
    assert out["raw"].response_metadata["finish_reason"] == "length"
    _cut_off(out["parsing_error"])


def test_min_length_is_not_returned_short(short_chat):
    schema = {
        "type": "object",
        "properties": {"text": {"type": "string", "minLength": 500}},
        "required": ["text"],
    }
    with pytest.raises(OutputParserException, match="max_tokens"):
        short_chat.with_structured_output(schema).invoke(QUESTION)


@pytest.mark.parametrize("tool_choice", ["auto", "any", "required", "GetWeather"])
def test_cut_off_tool_call_raises(short_chat, tool_choice):
    bound = short_chat.bind_tools([GetWeather], tool_choice=tool_choice)
    with pytest.raises(OutputParserException) as info:
        bound.invoke(QUESTION)
    _cut_off(info.value)
    with pytest.raises(OutputParserException):
        list(bound.stream(QUESTION))


def test_cut_off_response_format_raises(short_chat):
    with pytest.raises(OutputParserException, match="max_tokens"):
        short_chat.invoke(QUESTION, response_format=THREE_FIELDS)


def test_complete_replies_still_parse(chat):
    out = chat.with_structured_output(Capital, include_raw=True).invoke(QUESTION)
    assert out["parsing_error"] is None and isinstance(out["parsed"], Capital)
    called = chat.with_structured_output(Digit, method="function_calling").invoke(QUESTION)
    assert isinstance(called, Digit)
    assert isinstance(chat.with_structured_output(None, method="json_mode").invoke(QUESTION), dict)


def test_lookahead_pattern_is_checked_after_decoding(chat):
    # The grammar ignores the lookahead; a digit-free charset makes every reply break it.
    schema = {
        "type": "object",
        "properties": {"pw": {"type": "string", "pattern": r"^(?=.*\d)[a-z]{3,8}$"}},
        "required": ["pw"],
    }
    with pytest.raises(OutputParserException, match="pattern"):
        chat.with_structured_output(schema).invoke(QUESTION)
    out = chat.with_structured_output(schema, include_raw=True).invoke(QUESTION)
    assert out["parsed"] is None and isinstance(out["parsing_error"], OutputParserException)


def test_lookahead_password_is_refused():
    parser = StructuredOutputParser(reply_schema=LOOKAHEAD)
    with pytest.raises(OutputParserException, match="pattern"):
        parser.invoke(AIMessage('{"pw": "password"}'))
    assert parser.invoke(AIMessage('{"pw": "passw0rd"}')) == {"pw": "passw0rd"}


def test_tool_arguments_are_validated_against_the_schema():
    call = {"name": "Pw", "args": {"pw": "password"}, "id": "c1"}
    parser = StructuredOutputParser(reply_schema=LOOKAHEAD, tool_name="Pw")
    with pytest.raises(OutputParserException, match="pattern"):
        parser.invoke(AIMessage("", tool_calls=[call]))
    with pytest.raises(OutputParserException, match="no call"):
        parser.invoke(AIMessage("hi"))


def test_formats_are_checked_and_common_pydantic_types_work():
    email_validator = pytest.importorskip("email_validator")
    assert email_validator
    from pydantic import EmailStr

    class Contact(BaseModel):
        email: EmailStr
        when: datetime

    parser = StructuredOutputParser(
        reply_schema=Contact.model_json_schema(), pydantic_object=Contact
    )
    good = parser.invoke(AIMessage('{"email": "a@b.org", "when": "2024-05-01T10:00:00Z"}'))
    assert isinstance(good, Contact) and good.when.year == 2024
    with pytest.raises(OutputParserException, match="email"):
        parser.invoke(AIMessage('{"email": "nobody", "when": "2024-05-01T10:00:00Z"}'))
    with pytest.raises(OutputParserException, match="date-time"):
        parser.invoke(AIMessage('{"email": "a@b.org", "when": "yesterday"}'))


def test_parse_json_reply_is_strict():
    with pytest.raises(OutputParserException, match="cut off"):
        parse_json_reply('{"name": "John",', None, finish_reason="length", output_tokens=6)
    with pytest.raises(OutputParserException, match="not valid JSON"):
        parse_json_reply('{"name": "John",', None, finish_reason="stop")
    with pytest.raises(OutputParserException, match="cut off"):
        parse_json_reply("12", {"type": "integer"}, finish_reason="length")
    # A closed object that only missed its stop token is complete.
    assert parse_json_reply('{"a": 1}', {"type": "object"}, finish_reason="length") == {"a": 1}


def test_schema_that_cannot_be_validated_is_refused(chat):
    with pytest.raises(ConfigError, match="regex|pattern"):
        chat.with_structured_output({"type": "string", "pattern": "(?<x"})
    with pytest.raises(ConfigError, match="Invalid JSON schema"):
        chat.with_structured_output({"type": "object", "properties": {"a": {"type": "strin"}}})


def test_huge_enum_overflow_says_the_schema_went_into_the_prompt(chat):
    schema = {
        "type": "object",
        "properties": {"v": {"type": "string", "enum": [f"v{i}" for i in range(20_000)]}},
        "required": ["v"],
    }
    strict = chat.model_copy(update={"truncation": "error"})
    with pytest.raises(ContextLengthError) as info:
        strict.with_structured_output(schema).invoke([HumanMessage("hi")])
    text = str(info.value)
    assert "JSON schema" in text and "system prompt" in text and "tokens" in text
    assert "enum" in text


def test_a_dict_schema_without_type_is_used_as_given(chat):
    # It was taken for an OpenAI function spec and replaced by its (empty) parameters.
    schema = {"title": "Answer", "anyOf": [{"type": "string", "maxLength": 3}]}
    bound = chat.with_structured_output(schema).first
    assert bound.kwargs["response_format"] == schema
