"""Tool-calling JSON format: schema per tool_choice, prompt, parser and history rendering."""

from __future__ import annotations

import json
import re
from typing import Literal

import pytest
import torch
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import (
    AIMessage,
    ChatMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, Field

from localchain.errors import ConfigError
from localchain.models.tool_calling import (
    MAX_PARALLEL_CALLS,
    RESPONSE_SCHEMA,
    parse_tool_output,
    render_tool_call,
    render_tool_calls,
    render_tool_messages,
    tool_call_schema,
    tools_system_prompt,
)


def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return "sunny"


class Unit(BaseModel):
    symbol: Literal["C", "F"]


class Convert(BaseModel):
    """Convert a temperature."""

    value: int = Field(ge=0, le=99)
    unit: Unit


WEATHER = convert_to_openai_tool(get_weather)
CONVERT = convert_to_openai_tool(Convert)
TOOLS = [WEATHER, CONVERT]


def _call_shape(schema: dict, name: str) -> dict:
    shapes = schema.get("anyOf", [schema])
    return next(s for s in shapes if s.get("properties", {}).get("name", {}).get("enum") == [name])


@pytest.mark.parametrize("choice", ["any", "required", True])
def test_forced_over_all_tools(choice):
    schema = tool_call_schema(TOOLS, choice)
    assert len(schema["anyOf"]) == 2
    weather = _call_shape(schema, "get_weather")
    assert weather["properties"]["arguments"] == WEATHER["function"]["parameters"]
    assert weather["required"] == ["name", "arguments"]
    assert _call_shape(schema, "Convert")


@pytest.mark.parametrize(
    "choice", ["get_weather", {"type": "function", "function": {"name": "get_weather"}}]
)
def test_forced_single_tool(choice):
    schema = tool_call_schema(TOOLS, choice)
    assert "anyOf" not in schema
    assert schema["properties"]["name"] == {"type": "string", "enum": ["get_weather"]}
    assert schema["properties"]["arguments"]["properties"] == {"city": {"type": "string"}}


@pytest.mark.parametrize("choice", ["auto", None, False])
def test_auto_allows_text_reply(choice):
    schema = tool_call_schema(TOOLS, choice)
    assert len(schema["anyOf"]) == 3
    assert RESPONSE_SCHEMA in schema["anyOf"]


def test_none_allows_only_text_reply():
    assert tool_call_schema(TOOLS, "none") == RESPONSE_SCHEMA


def test_auto_without_tools_is_text_reply():
    assert tool_call_schema([], "auto") == RESPONSE_SCHEMA


class Node(BaseModel):
    """A tree node (recursive, so its JSON schema needs ``$defs``)."""

    label: str
    children: list[Node] = []


class Tree(BaseModel):
    """Store a tree."""

    root: Node


class Point(BaseModel):
    x: int


class Segment(BaseModel):
    """Draw a segment (``Point`` is shared, so pydantic puts it in ``$defs``)."""

    a: Point
    b: Point


def _raw_tool(model: type[BaseModel]) -> dict:
    """An OpenAI tool dict whose parameters keep pydantic's ``$defs`` and ``$ref``s.

    langchain-core's ``convert_to_openai_tool`` inlines references, but users may pass raw
    OpenAI tool dicts, which keep them.
    """
    params = model.model_json_schema()
    return {
        "type": "function",
        "function": {"name": model.__name__, "description": model.__doc__, "parameters": params},
    }


def _refs(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def test_defs_are_hoisted_to_the_root():
    tree, segment = _raw_tool(Tree), _raw_tool(Segment)
    assert set(tree["function"]["parameters"]["$defs"]) == {"Node"}  # the premise of this test
    assert set(segment["function"]["parameters"]["$defs"]) == {"Point"}

    schema = tool_call_schema([tree, segment, WEATHER], "any")

    assert schema["$defs"] == {
        "Node": Node.model_json_schema()["$defs"]["Node"],
        "Point": Segment.model_json_schema()["$defs"]["Point"],
    }
    shapes = {s["properties"]["name"]["enum"][0]: s for s in schema["anyOf"]}
    for name, shape in shapes.items():
        assert "$defs" not in shape["properties"]["arguments"], name
    assert shapes["Tree"]["properties"]["arguments"]["properties"]["root"] == {
        "$ref": "#/$defs/Node"
    }
    # Every reference resolves from the root, where the grammar compiler looks.
    refs = _refs(schema)
    assert sorted(set(refs)) == ["#/$defs/Node", "#/$defs/Point"]
    for ref in refs:
        assert ref.removeprefix("#/$defs/") in schema["$defs"]
    # The caller's tool dicts are not modified.
    assert "$defs" in tree["function"]["parameters"]


def test_defs_hoisted_for_a_single_forced_tool():
    schema = tool_call_schema([_raw_tool(Tree), WEATHER], "Tree")
    assert "anyOf" not in schema
    assert set(schema["$defs"]) == {"Node"}
    assert "$defs" not in schema["properties"]["arguments"]


def test_clashing_defs_are_config_error():
    other = _raw_tool(Segment)
    other["function"]["name"] = "Other"
    other["function"]["parameters"]["$defs"]["Point"] = {"type": "string"}
    with pytest.raises(ConfigError, match=r"two different schemas named 'Point'.*'Other'"):
        tool_call_schema([_raw_tool(Segment), other], "any")


def test_unknown_tool_name_lists_known_ones():
    with pytest.raises(ConfigError, match=r"Known tools: 'get_weather', 'Convert'"):
        tool_call_schema(TOOLS, "get_time")


def test_forced_call_without_tools():
    with pytest.raises(ConfigError, match="no tools"):
        tool_call_schema([], "any")


def test_malformed_tool_dict():
    with pytest.raises(ConfigError, match="convert_to_openai_tool"):
        tool_call_schema([{"type": "function"}], "auto")


def test_system_prompt_mentions_tools_and_format():
    auto = tools_system_prompt(TOOLS, "auto")
    assert "get_weather: Get the current weather for a city." in auto
    assert '"response"' in auto
    assert '"arguments"' in auto
    forced = tools_system_prompt(TOOLS, "get_weather")
    assert "Call the tool get_weather" in forced
    assert "Convert" not in forced
    assert '"response"' not in forced
    assert "get_weather" not in tools_system_prompt(TOOLS, "none")


def test_parse_tool_call_round_trip():
    content, calls = parse_tool_output(
        '{"name": "get_weather", "arguments": {"city": "Paris"}}', TOOLS
    )
    assert content == ""
    [call] = calls
    assert call["name"] == "get_weather"
    assert call["args"] == {"city": "Paris"}
    assert call["type"] == "tool_call"
    assert re.fullmatch(r"call_[0-9a-f]+", call["id"])
    _, again = parse_tool_output('{"name": "get_weather", "arguments": {"city": "Paris"}}')
    assert again[0]["id"] != call["id"]
    # Rendering the call gives text that parses back to the same call.
    rendered = render_tool_messages([AIMessage("", tool_calls=calls)])[0]["content"]
    assert parse_tool_output(rendered, TOOLS)[1][0]["args"] == {"city": "Paris"}


def test_parse_text_reply_and_lenient_forms():
    assert parse_tool_output('{"response": "Hello!"}', TOOLS) == ("Hello!", [])
    fenced = '```json\n{"name": "get_weather", "arguments": "{\\"city\\": \\"Oslo\\"}"}\n```'
    assert parse_tool_output(fenced, TOOLS)[1][0]["args"] == {"city": "Oslo"}
    many = json.dumps([{"name": "get_weather", "arguments": {"city": c}} for c in ("A", "B")])
    assert [c["args"]["city"] for c in parse_tool_output(many, TOOLS)[1]] == ["A", "B"]


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "get_weather", "arguments": {"city": "Par',
        "I think it is sunny",
        '{"response": 3}',
        '{"arguments": {}}',
        '{"name": "get_weather", "arguments": [1]}',
        '{"name": "get_time", "arguments": {}}',
    ],
)
def test_malformed_raises_with_text(text):
    with pytest.raises(OutputParserException) as info:
        parse_tool_output(text, TOOLS)
    assert info.value.llm_output == text


def test_render_history():
    call = {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}
    history = [
        SystemMessage("Be brief."),
        HumanMessage("Weather in Paris?"),
        AIMessage("", tool_calls=[call]),
        ToolMessage("sunny, 21C", tool_call_id="call_1"),
        AIMessage("It is sunny."),
        HumanMessage([{"type": "text", "text": "Thanks"}]),
        ChatMessage("note", role="developer"),
    ]
    rendered = render_tool_messages(history)
    assert [m["role"] for m in rendered] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
        "developer",
    ]
    assert json.loads(rendered[2]["content"]) == {
        "name": "get_weather",
        "arguments": {"city": "Paris"},
    }
    assert rendered[3]["content"] == "Tool result (get_weather, call_1): sunny, 21C"
    assert rendered[5]["content"] == "Thanks"
    assert all(set(m) == {"role", "content"} for m in rendered)
    assert render_tool_messages(history, tool_role="tool")[3]["role"] == "tool"


def test_render_rejects_unknown_message_type():
    with pytest.raises(ConfigError, match="RemoveMessage"):
        render_tool_messages([RemoveMessage(id="x")])


def test_tool_schema_constrains_tiny_model(tiny_decoder_path):
    """The schema compiles with xgrammar and a random model emits a parseable call."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from localchain.models.constrained import GrammarLogitsProcessor, compile_json_schema

    tokenizer = AutoTokenizer.from_pretrained(tiny_decoder_path)
    model = AutoModelForCausalLM.from_pretrained(tiny_decoder_path)
    schema = tool_call_schema([CONVERT], "any")
    grammar = compile_json_schema(tokenizer, schema, vocab_size=model.config.vocab_size)
    # The tiny model has 128 positions, too few for the system prompt; keep the prompt short.
    messages = render_tool_messages([HumanMessage("Convert 3")])
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    inputs = tokenizer(prompt, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(
            **inputs,
            logits_processor=[GrammarLogitsProcessor([grammar])],
            do_sample=False,
            max_new_tokens=100,  # byte-level tiny vocab: about one token per character
            pad_token_id=tokenizer.pad_token_id,
        )
    text = tokenizer.decode(out[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
    _, [call] = parse_tool_output(text, [CONVERT])
    assert call["name"] == "Convert"
    Convert.model_validate(call["args"])


# -- parallel calls: a reply may be a list of calls ------------------------------------------


def _list_shape(schema: dict) -> dict:
    return next(s for s in schema.get("anyOf", [schema]) if s.get("type") == "array")


def test_parallel_schema_adds_a_list_of_calls():
    single = tool_call_schema(TOOLS, "auto")
    assert not any(s.get("type") == "array" for s in single["anyOf"])
    schema = tool_call_schema(TOOLS, "auto", parallel_tool_calls=True)
    shapes = schema["anyOf"]
    # The single call objects and the text reply stay as they were; the list is one more shape.
    assert shapes[:2] == single["anyOf"][:2]
    assert RESPONSE_SCHEMA in shapes
    listed = _list_shape(schema)
    assert listed["minItems"] == 1
    assert listed["maxItems"] == MAX_PARALLEL_CALLS
    assert [s["properties"]["name"]["enum"] for s in listed["items"]["anyOf"]] == [
        ["get_weather"],
        ["Convert"],
    ]
    forced = tool_call_schema(TOOLS, "get_weather", parallel_tool_calls=True)
    assert _list_shape(forced)["items"]["properties"]["name"]["enum"] == ["get_weather"]
    assert tool_call_schema(TOOLS, "none", parallel_tool_calls=True) == RESPONSE_SCHEMA


def test_parallel_prompt_explains_the_list():
    assert "several tools at once" not in tools_system_prompt(TOOLS, "auto")
    prompt = tools_system_prompt(TOOLS, "auto", parallel_tool_calls=True)
    assert "several tools at once" in prompt and "[{" in prompt
    assert "several" not in tools_system_prompt(TOOLS, "none", parallel_tool_calls=True)


def test_parallel_calls_render_as_a_list_that_parses_back():
    calls = [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "c1"},
        {"name": "get_weather", "args": {"city": "Oslo"}, "id": "c2"},
    ]
    rendered = render_tool_messages([AIMessage("", tool_calls=calls)])[0]["content"]
    assert json.loads(rendered) == [
        {"name": "get_weather", "arguments": {"city": "Paris"}},
        {"name": "get_weather", "arguments": {"city": "Oslo"}},
    ]
    assert render_tool_calls(calls[:1]) == render_tool_call(calls[0])
    _, parsed = parse_tool_output(rendered, TOOLS)
    assert [c["args"]["city"] for c in parsed] == ["Paris", "Oslo"]
    assert len({c["id"] for c in parsed}) == 2


def test_parallel_grammar_accepts_lists_only_when_allowed(tiny_decoder_path):
    import xgrammar as xgr
    from transformers import AutoTokenizer

    from localchain.models.constrained import compile_json_schema

    tokenizer = AutoTokenizer.from_pretrained(tiny_decoder_path)
    weather = {"name": "get_weather", "arguments": {"city": "Paris"}}
    convert = {"name": "Convert", "arguments": {"value": 3, "unit": {"symbol": "C"}}}
    # The grammar writes JSON with ", " and ": " separators, as json.dumps does by default.
    two = json.dumps([weather, convert])
    one = json.dumps(weather)
    wrong_args = json.dumps([{"name": "get_weather", "arguments": {"value": 3}}])
    too_many = json.dumps([weather] * (MAX_PARALLEL_CALLS + 1))

    def accepts(schema: dict, text: str) -> bool:
        matcher = xgr.GrammarMatcher(compile_json_schema(tokenizer, schema))
        return matcher.accept_string(text) and matcher.is_completed()

    parallel = tool_call_schema(TOOLS, "any", parallel_tool_calls=True)
    single = tool_call_schema(TOOLS, "any")
    assert accepts(parallel, two)
    assert accepts(parallel, one)
    assert not accepts(parallel, wrong_args)
    assert not accepts(parallel, too_many)
    assert accepts(single, one)
    assert not accepts(single, two)


def test_parse_accepts_control_characters_the_grammar_allows():
    # xgrammar's JSON strings admit raw control characters; a strict json.loads would not.
    text = '[{"name": "get_weather", "arguments": {"city": "O\x14slo"}}]'
    assert parse_tool_output(text, TOOLS)[1][0]["args"] == {"city": "O\x14slo"}


def test_a_repeated_call_in_one_reply_is_made_once():
    from localchain.models.tool_calling import parse_tool_output

    call = '{"name": "f", "arguments": {"x": 1}}'
    other = '{"name": "f", "arguments": {"x": 2}}'
    _, calls = parse_tool_output(f"[{call}, {other}, {call}]")
    assert [c["args"] for c in calls] == [{"x": 1}, {"x": 2}]
