"""Tool calling for small local models: a JSON reply format, its schema, prompt and parser.

A small model cannot be trusted to follow a provider's native tool-calling format, so the chat
model constrains it (see ``localchain.models.constrained``) to one JSON object per reply:

- a tool call: ``{"name": "<tool name>", "arguments": {...}}``
- a direct answer (when ``tool_choice`` allows one): ``{"response": "<text>"}``
- several calls at once (when parallel calls are allowed): a JSON list of call objects,
  ``[{"name": ..., "arguments": {...}}, ...]``, each item fitting one tool's arguments

This module holds the pure pieces: the JSON schema for a set of tools and a ``tool_choice``,
the system prompt that explains the format, the parser back into LangChain ``ToolCall`` dicts,
and the rendering of a LangChain history into plain ``{"role", "content"}`` dicts that any chat
template accepts. Tools are OpenAI-format dicts, as ``convert_to_openai_tool`` produces.

It also checks any constrained reply after decoding (:func:`parse_json_reply`): the grammar
engine cannot enforce every JSON-schema keyword (lookahead patterns, ``format``) and a reply cut
off by ``max_tokens`` is unfinished JSON, so the parsed value is validated against the whole
schema with ``jsonschema``, and anything short of a complete, valid value is an
``OutputParserException``, never a partial object.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlparse

from langchain_core.exceptions import OutputParserException
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.tool import ToolCall, tool_call

from localchain.errors import ConfigError

ToolChoice = str | bool | dict[str, Any] | None
"""What ``bind_tools(tool_choice=...)`` accepts: "auto", "any", "required", "none", a tool
name, ``True`` (must call a tool), ``False``/``None`` (auto) or
``{"type": "function", "function": {"name": ...}}``."""

_Mode = Literal["auto", "forced", "none"]

RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"response": {"type": "string"}},
    "required": ["response"],
    "additionalProperties": False,
}
"""The schema of a direct (non-tool) reply."""

MAX_PARALLEL_CALLS = 8
"""The most calls one reply may hold when parallel calls are allowed (a bound keeps a small
model from listing calls until it runs out of tokens)."""


def _function_of(tool: dict[str, Any]) -> dict[str, Any]:
    """Return the ``{"name", "description", "parameters"}`` part of an OpenAI tool dict."""
    function = tool.get("function", tool) if isinstance(tool, dict) else None
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        msg = (
            f"Expected an OpenAI tool dict like {{'type': 'function', 'function': {{'name': ..., "
            f"'parameters': ...}}}}, got {tool!r}. Convert tools with "
            "langchain_core.utils.function_calling.convert_to_openai_tool."
        )
        raise ConfigError(msg)
    if not function["name"].strip():
        msg = f"A tool has an empty name ({tool!r}); give every tool a name."
        raise ConfigError(msg)
    parameters = function.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        msg = (
            f"Tool {function['name']!r} has parameters {parameters!r:.80}; parameters must be "
            "a JSON schema dict such as {'type': 'object', 'properties': {...}}."
        )
        raise ConfigError(msg)
    return function


_ANNOTATIONS = frozenset({"title", "description", "examples", "$comment"})
_SCHEMA_MAPS = frozenset({"properties", "$defs", "definitions", "patternProperties"})


def _shape(schema: Any) -> Any:
    """A schema without its annotations (titles, descriptions): what a value must be."""
    if isinstance(schema, list):
        return [_shape(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    return {
        key: (
            {k: _shape(v) for k, v in value.items()}
            if key in _SCHEMA_MAPS and isinstance(value, dict)
            else _shape(value)
        )
        for key, value in schema.items()
        if key not in _ANNOTATIONS or not isinstance(value, str | list)
    }


def _tool_names(tools: Sequence[dict[str, Any]]) -> list[str]:
    """The tools' names, each once; the same tool given twice counts once.

    Raises:
        ConfigError: Two different tools share a name (the model could not tell them apart).
    """
    seen: dict[str, Any] = {}
    for tool in tools:
        function = _function_of(tool)
        name, parameters = function["name"], _shape(function.get("parameters"))
        if name in seen and seen[name] != parameters:
            msg = (
                f"Two different tools are named {name!r}; the model names the tool it calls, "
                "so each name must be unique. Rename one of them."
            )
            raise ConfigError(msg)
        seen[name] = parameters
    return list(seen)


def _resolve_tool_choice(
    tools: Sequence[dict[str, Any]], tool_choice: ToolChoice
) -> tuple[_Mode, list[str]]:
    """Normalise ``tool_choice`` into a mode and the tool names the model may call."""
    names = _tool_names(tools)
    choice: Any = tool_choice
    if isinstance(choice, dict):
        name = (
            choice.get("function", {}).get("name") if "function" in choice else choice.get("name")
        )
        if not isinstance(name, str):
            msg = (
                f"Unsupported tool_choice dict {tool_choice!r}. Use "
                "{'type': 'function', 'function': {'name': '<tool name>'}}."
            )
            raise ConfigError(msg)
        choice = name
    if choice is None or choice is False or choice == "auto":
        return "auto", names
    if choice == "none":
        return "none", []
    if choice is True or choice in ("any", "required"):
        if not names:
            msg = f"tool_choice={tool_choice!r} forces a tool call, but no tools were given."
            raise ConfigError(msg)
        return "forced", names
    if isinstance(choice, str) and choice in names:
        return "forced", [choice]
    known = ", ".join(repr(n) for n in names) or "none"
    msg = (
        f"Unknown tool_choice {tool_choice!r}. Known tools: {known}; or use 'auto', 'any', "
        "'required' or 'none'."
    )
    raise ConfigError(msg)


def _parameters_of(function: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Return a tool's parameters schema, moving its ``$defs`` into the shared ``defs``."""
    params = dict(function.get("parameters") or {"type": "object", "properties": {}})
    for def_name, definition in (params.pop("$defs", None) or {}).items():
        if def_name in defs and defs[def_name] != definition:
            msg = (
                f"Tools define two different schemas named {def_name!r} in their $defs "
                f"(one in {function['name']!r}). Rename one of the argument types."
            )
            raise ConfigError(msg)
        defs[def_name] = definition
    return params


def tool_call_schema(
    tools: list[dict[str, Any]],
    tool_choice: ToolChoice,
    *,
    parallel_tool_calls: bool = False,
) -> dict[str, Any]:
    """Return the JSON schema a model's reply must match for ``tools`` and ``tool_choice``.

    A call is ``{"name": <tool name>, "arguments": <that tool's parameters>}``; with several
    tools it is an ``anyOf`` of one such object per tool, so the arguments always fit the
    chosen name. ``"auto"`` (or ``None``/``False``) also allows ``{"response": <text>}``;
    ``"none"`` allows only that. With ``parallel_tool_calls`` a reply may also be a list of
    1 to ``MAX_PARALLEL_CALLS`` calls, each item fitting one of the allowed tools.

    Args:
        tools: OpenAI-format tool dicts (``convert_to_openai_tool`` output).
        tool_choice: "auto", "any", "required", "none", a tool name, ``True``, ``None`` or
            ``{"type": "function", "function": {"name": ...}}``.
        parallel_tool_calls: Also allow a list of calls in one reply. ``ChatLocal.bind_tools``
            passes True unless called with ``parallel_tool_calls=False``.

    Raises:
        ConfigError: ``tool_choice`` names an unknown tool, forces a call with no tools, or a
            tool dict is malformed.
    """
    mode, names = _resolve_tool_choice(tools, tool_choice)
    if mode == "none":
        return dict(RESPONSE_SCHEMA)
    defs: dict[str, Any] = {}
    shapes: list[dict[str, Any]] = []
    for tool in tools:
        function = _function_of(tool)
        if function["name"] not in names:
            continue
        names = [n for n in names if n != function["name"]]  # a repeated tool counts once
        shapes.append(
            {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "enum": [function["name"]]},
                    "arguments": _parameters_of(function, defs),
                },
                "required": ["name", "arguments"],
                "additionalProperties": False,
            }
        )
    if parallel_tool_calls:
        shapes.append(_call_list_schema(shapes))
    if mode == "auto":
        shapes.append(dict(RESPONSE_SCHEMA))
    schema = shapes[0] if len(shapes) == 1 else {"anyOf": shapes}
    if defs:
        schema = {**schema, "$defs": defs}
    return schema


def _call_list_schema(call_shapes: list[dict[str, Any]]) -> dict[str, Any]:
    """The schema of a list of calls, each item one of ``call_shapes``."""
    items = call_shapes[0] if len(call_shapes) == 1 else {"anyOf": list(call_shapes)}
    return {"type": "array", "items": items, "minItems": 1, "maxItems": MAX_PARALLEL_CALLS}


SHOWN_ENUM = 12
"""Values of an ``enum`` the prompt lists (the grammar holds the model to all of them)."""
PROMPT_ENUM = "x-prompt-enum"
"""An argument's keyword: the values the prompt lists in place of its ``enum``. A focused
tool (``BuiltinTool.focused``) narrows the ``enum`` the grammar enforces and keeps the prompt
as it was, so a small model reads the same tools and picks among them as it would have (a
narrowed list in the prompt sent the embedded model to another tool); the narrowing acts
only as it writes the argument."""


def _shown_property(spec: dict[str, Any]) -> dict[str, Any]:
    """An argument as the prompt shows it: no regex (noise to a small model, and the grammar
    holds it to the pattern anyway), and a long ``enum`` cut to its first values (a 135M model
    copies what it reads into other tools' arguments)."""
    shown = {k: v for k, v in spec.items() if k not in ("pattern", PROMPT_ENUM)}
    if PROMPT_ENUM in spec:
        shown["enum"] = spec[PROMPT_ENUM]
    values = shown.get("enum")
    if isinstance(values, list) and len(values) > SHOWN_ENUM:
        shown["enum"] = [*values[:SHOWN_ENUM], "..."]
    return shown


def tools_system_prompt(
    tools: list[dict[str, Any]],
    tool_choice: ToolChoice,
    *,
    parallel_tool_calls: bool = False,
) -> str:
    """Return a short system prompt describing ``tools`` and the JSON reply format.

    Args:
        tools: OpenAI-format tool dicts.
        tool_choice: As for ``tool_call_schema``.
        parallel_tool_calls: Also explain how to make several calls in one reply.

    Raises:
        ConfigError: As for ``tool_call_schema``.
    """
    mode, names = _resolve_tool_choice(tools, tool_choice)
    if mode == "none":
        return 'Answer the user directly. Reply with only a JSON object: {"response": "<answer>"}.'
    lines = ["You can call these tools:"]
    listed: set[str] = set()
    for tool in tools:
        function = _function_of(tool)
        if function["name"] not in names or function["name"] in listed:
            continue
        listed.add(function["name"])
        params = function.get("parameters") or {}
        shown = {
            name: _shown_property(spec) if isinstance(spec, dict) else spec
            for name, spec in (params.get("properties") or {}).items()
        }
        args = json.dumps(shown, separators=(",", ":"))
        description = (function.get("description") or "").strip()
        lines.append(f"- {function['name']}: {description} Arguments: {args}".replace("  ", " "))
    call = '{"name": "<tool name>", "arguments": {<argument name>: <value>}}'
    if mode == "forced" and len(names) == 1:
        lines.append(
            f"Call the tool {names[0]}. Reply with only a JSON object: "
            f'{{"name": "{names[0]}", "arguments": {{...}}}}.'
        )
    elif mode == "forced":
        lines.append(f"Call one of the tools. Reply with only a JSON object: {call}.")
    else:
        lines.append(f"When a tool can help, call it: reply with only a JSON object: {call}.")
        lines.append('Otherwise answer directly with only: {"response": "<answer>"}.')
        lines.append("When a tool result is given, use it to answer.")
    if parallel_tool_calls:
        lines.append(f"To call several tools at once, reply with a JSON list: [{call}, ...].")
    return "\n".join(lines)


_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


def _new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


def parse_tool_output(
    text: str, tools: list[dict[str, Any]] | None = None
) -> tuple[str, list[ToolCall]]:
    """Parse a model's JSON reply into ``(content, tool_calls)``.

    ``{"response": text}`` gives ``(text, [])``; ``{"name": ..., "arguments": {...}}`` (or a
    list of them) gives ``("", [ToolCall, ...])`` with fresh ``call_<hex>`` ids; a call that
    repeats an earlier one of the same reply (same name and arguments) is made once. Arguments
    given as a JSON string, and a surrounding Markdown code fence, are accepted too.

    Args:
        text: The model's reply.
        tools: The tools offered; when given, a call to any other name is rejected.

    Raises:
        OutputParserException: The text is not such JSON, or names an unknown tool. The text
            is attached as ``llm_output``.
    """

    def fail(reason: str) -> OutputParserException:
        msg = f"Could not parse tool-calling reply: {reason}. Got: {text!r}"
        return OutputParserException(msg, llm_output=text)

    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    if fenced:
        stripped = fenced.group(1)
    try:
        data = json.loads(stripped, strict=False)  # raw tabs/newlines in strings are fine
    except json.JSONDecodeError as err:
        msg = f"invalid JSON ({err})"
        raise fail(msg) from err

    if isinstance(data, dict) and set(data) == {"response"}:
        if not isinstance(data["response"], str):
            msg = '"response" must be a string'
            raise fail(msg)
        return data["response"], []

    items = data if isinstance(data, list) else [data]
    known = None if tools is None else set(_tool_names(tools))
    calls: list[ToolCall] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            msg = 'expected {"name": ..., "arguments": {...}} or {"response": ...}'
            raise fail(msg)
        args = item.get("arguments", item.get("args", item.get("parameters", {})))
        if isinstance(args, str):
            try:
                args = json.loads(args) if args.strip() else {}
            except json.JSONDecodeError as err:
                msg = f"arguments are not valid JSON ({err})"
                raise fail(msg) from err
        if not isinstance(args, dict):
            msg = '"arguments" must be a JSON object'
            raise fail(msg)
        if known is not None and item["name"] not in known:
            msg = f"unknown tool {item['name']!r}; known: {', '.join(sorted(known))}"
            raise fail(msg)
        if any(c["name"] == item["name"] and c["args"] == args for c in calls):
            continue  # the same call twice in one reply (a small model repeating itself)
        calls.append(tool_call(name=item["name"], args=args, id=_new_call_id()))
    return "", calls


_TEXT_BLOCKS = ("text", "text-plain")
_UNSEEN_BLOCKS = {
    "image": "image",
    "image_url": "image",
    "input_image": "image",
    "audio": "audio",
    "input_audio": "audio",
    "video": "video",
    "file": "file",
    "input_file": "file",
    "document": "file",
}
"""Content-block types a text-only model cannot see (refused, never silently dropped), with
the medium each one carries."""


def _text_of(message: BaseMessage, index: int) -> str:
    content: Any = message.content
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        msg = (
            f"Message {index} ({type(message).__name__}) has content {content!r}; pass text "
            "(a string) or a list of text blocks."
        )
        raise ConfigError(msg)
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
            continue
        kind = block.get("type") if isinstance(block, dict) else None
        if kind in _TEXT_BLOCKS:
            parts.append(str(block.get("text", "")))
        elif kind in _UNSEEN_BLOCKS:
            medium = _UNSEEN_BLOCKS[kind]
            msg = (
                f"Message {index} ({type(message).__name__}) holds {medium} input (a "
                f"{kind!r} content block), but this model is text-only and cannot see it. Pass "
                f"text only (describe the {medium} in words), or use a model that accepts "
                f"{medium} input."
            )
            raise ConfigError(msg)
        # Other blocks (tool_use, tool_call, reasoning) restate what the message's tool_calls
        # and text already carry.
    return "".join(parts)


def render_tool_call(call: ToolCall | dict[str, Any]) -> str:
    """Render one tool call as the JSON a model emits for it."""
    return json.dumps({"name": call["name"], "arguments": call.get("args", {})}, ensure_ascii=False)


def render_tool_calls(calls: Sequence[ToolCall | dict[str, Any]]) -> str:
    """Render a reply's calls as the model emits them: one object, or a list of several."""
    if len(calls) == 1:
        return render_tool_call(calls[0])
    items = [{"name": c["name"], "arguments": c.get("args", {})} for c in calls]
    return json.dumps(items, ensure_ascii=False)


def render_tool_messages(
    messages: Sequence[BaseMessage], *, tool_role: str = "user"
) -> list[dict[str, str]]:
    """Render a LangChain history into ``{"role", "content"}`` dicts for a chat template.

    AI tool calls become the JSON the model emits (one object, or a list of several, after
    any text);
    tool results become ``Tool result (name, id): ...`` messages under ``tool_role``.

    Args:
        messages: System, human, AI (with or without ``tool_calls``), tool, function or
            generic chat messages.
        tool_role: The role for tool results: "user" (any template) or "tool" (templates that
            know that role).

    Raises:
        ConfigError: A message type has no chat role (e.g. ``RemoveMessage``), or a message
            holds content a text-only model cannot see (an image, audio or file block).
    """
    names_by_id: dict[str, str] = {}
    rendered: list[dict[str, str]] = []
    for index, message in enumerate(messages):
        text = _text_of(message, index)
        if isinstance(message, SystemMessage):
            rendered.append({"role": "system", "content": text})
        elif isinstance(message, HumanMessage):
            rendered.append({"role": "user", "content": text})
        elif isinstance(message, AIMessage):
            calls = [render_tool_calls(message.tool_calls)] if message.tool_calls else []
            for call in message.tool_calls:
                call_id = call.get("id")
                if call_id:
                    names_by_id[call_id] = call["name"]
            content = "\n".join([text, *calls] if text else calls)
            rendered.append({"role": "assistant", "content": content})
        elif isinstance(message, ToolMessage):
            name = message.name or names_by_id.get(message.tool_call_id, "tool")
            label = f"{name}, {message.tool_call_id}"
            rendered.append({"role": tool_role, "content": f"Tool result ({label}): {text}"})
        elif isinstance(message, FunctionMessage):
            rendered.append({"role": tool_role, "content": f"Tool result ({message.name}): {text}"})
        elif isinstance(message, ChatMessage):
            rendered.append({"role": message.role, "content": text})
        else:
            msg = (
                f"Cannot render a {type(message).__name__} as a chat message. Pass System, "
                "Human, AI, Tool or Chat messages."
            )
            raise ConfigError(msg)
    return rendered


# --- checking a constrained reply after decoding -----------------------------------------


def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _uri(value: object) -> bool:
    return not isinstance(value, str) or bool(urlparse(value).scheme)


@functools.cache
def _format_checker() -> Any:
    from jsonschema import FormatChecker

    checker = FormatChecker()
    # jsonschema checks these only with optional packages installed; pydantic emits them for
    # datetime and URL fields.
    checker.checks("date-time")(_date_time)
    checker.checks("uri")(_uri)
    return checker


@functools.lru_cache(maxsize=256)
def _validator(schema_text: str) -> Any:
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import validator_for

    schema = json.loads(schema_text)
    cls = validator_for(schema)
    try:
        cls.check_schema(schema)
    except SchemaError as err:
        where = "/".join(str(p) for p in err.path) or "the top level"
        msg = (
            f"Invalid JSON schema at {where}: {err.message}. Replies could not be checked "
            f"against it; fix the schema. Schema: {schema_text[:300]}"
        )
        raise ConfigError(msg) from None
    return cls(schema, format_checker=_format_checker())


def _schema_text(schema: dict[str, Any]) -> str:
    try:
        return json.dumps(schema, sort_keys=True)
    except (TypeError, ValueError) as err:
        msg = f"The JSON schema is not JSON-serialisable: {err}. Pass plain dicts/lists/str."
        raise ConfigError(msg) from err


def check_json_schema(schema: dict[str, Any]) -> None:
    """Check that replies can be validated against ``schema`` (done when tools are bound).

    Raises:
        ConfigError: ``schema`` is not a valid JSON schema (e.g. an unknown ``type``, or a
            ``pattern`` that is not a regular expression).
    """
    if not isinstance(schema, dict):
        msg = f"A JSON schema must be a dict, got {type(schema).__name__}: {schema!r}."
        raise ConfigError(msg)
    _validator(_schema_text(schema))


def validate_json(value: Any, schema: dict[str, Any], *, text: str | None = None) -> None:
    """Check a parsed reply against the whole JSON schema, keywords the grammar ignored included.

    Args:
        value: The parsed JSON value.
        schema: The JSON schema the reply was constrained to.
        text: The reply's text, attached to the error as ``llm_output``.

    Raises:
        OutputParserException: ``value`` breaks the schema (names the keyword and where).
        ConfigError: The schema cannot be used for validation (invalid, or an unresolvable
            ``$ref``).
    """
    from jsonschema.exceptions import best_match
    from referencing.exceptions import Unresolvable

    validator = _validator(_schema_text(schema))
    try:
        error = best_match(validator.iter_errors(value))
    except (Unresolvable, RecursionError) as err:
        msg = f"Cannot validate replies against the JSON schema: {err}. Fix its $ref targets."
        raise ConfigError(msg) from err
    if error is None:
        return
    where = "/".join(str(p) for p in error.absolute_path) or "the top level"
    shown = json.dumps(value, ensure_ascii=False)
    msg = (
        f"The reply does not match the JSON schema at {where}: {error.message} (keyword "
        f"{error.validator!r}, which constrained decoding cannot enforce). Got: {shown[:300]}. "
        "Retry (with sampling), or simplify the schema so the grammar can enforce it."
    )
    raise OutputParserException(msg, llm_output=text if text is not None else shown)


_RESPONSE_START = re.compile(r'^\s*\{\s*"response"\s*:\s*"')


def cut_off_response(text: str) -> str | None:
    """The text of a ``{"response": "..."}`` reply that the token limit cut off, else None.

    A direct answer stopped by ``max_tokens`` is text, like any plain chat reply that runs into
    the limit: its words so far are kept (escapes decoded, a half-written escape dropped). A
    cut-off call is not handled here: arguments cut short would be wrong arguments.
    """
    start = _RESPONSE_START.match(text)
    if start is None:
        return None
    body = text[start.end() :]
    end = re.search(r'(?<!\\)(?:\\\\)*"', body)  # the closing quote, if it was reached
    if end is not None:
        body = body[: end.end() - 1]
    for cut in range(6):  # a half-written escape at the end (``\\`` or ``\\u00``) is dropped
        try:
            value = json.loads(f'"{body[: len(body) - cut]}"', strict=False)
        except json.JSONDecodeError:
            continue
        return value if isinstance(value, str) else None
    return None


def cut_off_calls(
    text: str, tools: list[dict[str, Any]], call_schema: dict[str, Any]
) -> tuple[list[ToolCall], str] | None:
    """The complete calls of a list of calls that the token limit cut off, and the rest.

    ``[{call}, {call}, {"name": "f", "argu`` gives the two complete calls (each checked against
    ``call_schema``, the schema of one call) and the unfinished text after them, as an OpenAI
    reply cut off mid-call gives its finished calls and a truncated one. None when the text is
    not such a list or holds no complete call.
    """
    stripped = text.lstrip()
    if not stripped.startswith("["):
        return None
    decoder = json.JSONDecoder(strict=False)
    position, items = 1, []
    while True:
        while position < len(stripped) and stripped[position] in " \t\r\n,":
            position += 1
        try:
            item, end = decoder.raw_decode(stripped, position)
        except json.JSONDecodeError:
            break
        items.append(item)
        position = end
    if not items:
        return None
    try:
        for item in items:
            validate_json(item, call_schema)
        _, calls = parse_tool_output(json.dumps(items), tools)
    except OutputParserException:
        return None
    return calls, stripped[position:]


def cut_off_message(text: str, output_tokens: int | None) -> str:
    """The error message for a constrained reply that ``max_tokens`` ended mid-JSON."""
    after = f" after {output_tokens} tokens" if output_tokens else ""
    bigger = max(64, 2 * output_tokens) if output_tokens else 512
    return (
        f"The reply was cut off by the token limit{after} (finish_reason='length') before its "
        f"JSON was complete, so it cannot be parsed: {text[:200]!r}. Pass a larger max_tokens, "
        f"e.g. ChatLocal(max_tokens={bigger}) or .invoke(..., max_tokens={bigger}); a long "
        "prompt that fills the context window also ends a reply early."
    )


def parse_json_reply(
    text: str,
    schema: dict[str, Any] | None,
    *,
    finish_reason: str | None = None,
    output_tokens: int | None = None,
) -> Any:
    """Parse a constrained reply strictly and check it against its whole JSON schema.

    Unlike LangChain's lenient JSON parsing, unfinished JSON is never completed: a reply that
    stopped on the token limit before its JSON was complete is an error.

    Args:
        text: The model's reply (a surrounding Markdown code fence is accepted).
        schema: The JSON schema it must match; None checks only that it is JSON.
        finish_reason: The completion's finish reason ("length" when ``max_tokens`` ended it).
        output_tokens: How many tokens the reply took (quoted in the error).

    Returns:
        The parsed JSON value.

    Raises:
        OutputParserException: The reply was cut off, is not JSON, or breaks the schema.
        ConfigError: The schema cannot be used for validation.
    """
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    if fenced:
        stripped = fenced.group(1)
    try:
        # strict=False: the grammar lets raw control characters (tabs, newlines) into strings.
        value = json.loads(stripped, strict=False)
    except json.JSONDecodeError as err:
        if finish_reason == "length":
            raise OutputParserException(
                cut_off_message(text, output_tokens), llm_output=text
            ) from err
        msg = f"The reply is not valid JSON ({err}): {text[:300]!r}"
        raise OutputParserException(msg, llm_output=text) from err
    # A number cut short still parses ("12" of "1234"): only a closed value is known complete.
    if finish_reason == "length" and isinstance(value, int | float) and not isinstance(value, bool):
        raise OutputParserException(cut_off_message(text, output_tokens), llm_output=text)
    if schema is not None:
        validate_json(value, schema, text=text)
    return value


__all__ = [
    "MAX_PARALLEL_CALLS",
    "RESPONSE_SCHEMA",
    "ToolChoice",
    "check_json_schema",
    "cut_off_message",
    "parse_json_reply",
    "parse_tool_output",
    "render_tool_call",
    "render_tool_calls",
    "render_tool_messages",
    "tool_call_schema",
    "tools_system_prompt",
    "validate_json",
]
