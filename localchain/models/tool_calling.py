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
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from typing import Any, Literal

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
    return function


def _tool_names(tools: Sequence[dict[str, Any]]) -> list[str]:
    return [_function_of(t)["name"] for t in tools]


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
    for tool in tools:
        function = _function_of(tool)
        if function["name"] not in names:
            continue
        params = function.get("parameters") or {}
        args = json.dumps(params.get("properties", {}), separators=(",", ":"))
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
    list of them) gives ``("", [ToolCall, ...])`` with fresh ``call_<hex>`` ids. Arguments
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
        data = json.loads(stripped, strict=False)  # the grammar allows control chars
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
        calls.append(tool_call(name=item["name"], args=args, id=_new_call_id()))
    return "", calls


def _text_of(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
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
        ConfigError: A message type has no chat role (e.g. ``RemoveMessage``).
    """
    names_by_id: dict[str, str] = {}
    rendered: list[dict[str, str]] = []
    for message in messages:
        text = _text_of(message)
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


__all__ = [
    "MAX_PARALLEL_CALLS",
    "RESPONSE_SCHEMA",
    "ToolChoice",
    "parse_tool_output",
    "render_tool_call",
    "render_tool_calls",
    "render_tool_messages",
    "tool_call_schema",
    "tools_system_prompt",
]
