"""``POST /v1/chat/completions``: messages to a prompt, rows to OpenAI responses and chunks.

Tools use the model layer's constrained tool calling (``localchain.models.tool_calling``): the
reply is constrained to the JSON schema of a call (or a direct answer, under ``"auto"``), the
tools are described in the system prompt, and the reply is parsed back into tool calls. A
``response_format`` constrains the reply to any JSON object or to a JSON schema. With
``ServerConfig.tool_relevance_floor``, "auto" requests offer the model only the tools the
request is about; with ``ServerConfig.tool_adapter``, requests on the base model that offer
tools run on the tool-calling adapter (as ``ChatLocal``'s options of the same names).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from starlette.requests import Request

from localchain.errors import ConfigError
from localchain.models.chat_format import format_chat
from localchain.models.generation import Completion
from localchain.models.tool_calling import (
    parse_tool_output,
    render_tool_messages,
    tool_call_schema,
    tools_system_prompt,
)
from localchain.models.tool_relevance import check_floor, request_text
from localchain.server._http_errors import APIError
from localchain.server.protocol import ChatCompletionRequest, ChatMessage
from localchain.server.serving import (
    ServerState,
    collect,
    generation_config,
    row_events,
    submit_rows,
    usage,
)

Reply = tuple[str | None, list[dict[str, Any]]]
"""A parsed reply: its text content and its OpenAI tool calls."""


def to_langchain(messages: list[ChatMessage]) -> list[BaseMessage]:
    """Turn OpenAI messages into LangChain messages (assistant tool calls included).

    Raises:
        APIError: 400 for a tool message without ``tool_call_id`` or arguments that are not
            JSON.
    """
    converted: list[BaseMessage] = []
    for i, message in enumerate(messages):
        text = message.text()
        if message.role in ("system", "developer"):
            converted.append(SystemMessage(text))
        elif message.role == "user":
            converted.append(HumanMessage(text))
        elif message.role == "assistant":
            calls = []
            for j, call in enumerate(message.tool_calls or []):
                try:
                    args = json.loads(call.function.arguments or "{}")
                except json.JSONDecodeError as err:
                    msg = f"messages[{i}].tool_calls[{j}].function.arguments is not JSON: {err}."
                    raise APIError(400, msg, param=f"messages.{i}.tool_calls") from err
                if not isinstance(args, dict):
                    msg = f"messages[{i}].tool_calls[{j}].function.arguments must be an object."
                    raise APIError(400, msg, param=f"messages.{i}.tool_calls")
                calls.append({"name": call.function.name, "args": args, "id": call.id})
            converted.append(AIMessage(content=text, tool_calls=calls))
        else:
            if not message.tool_call_id:
                msg = f"messages[{i}] has role 'tool' but no 'tool_call_id'."
                raise APIError(400, msg, param=f"messages.{i}.tool_call_id")
            converted.append(
                ToolMessage(content=text, tool_call_id=message.tool_call_id, name=message.name)
            )
    return converted


def _with_system(rendered: list[dict[str, str]], text: str) -> list[dict[str, str]]:
    """Put ``text`` into the system message (after one the client gave)."""
    if rendered and rendered[0]["role"] == "system":
        first = {"role": "system", "content": rendered[0]["content"] + "\n\n" + text}
        return [first, *rendered[1:]]
    return [{"role": "system", "content": text}, *rendered]


def request_tools(body: ChatCompletionRequest) -> list[dict[str, Any]]:
    """The request's tools as OpenAI-format dicts."""
    return [t.model_dump(exclude_none=True) for t in body.tools or []]


def offered_tools(
    state: ServerState,
    body: ChatCompletionRequest,
    messages: list[BaseMessage] | None = None,
) -> list[dict[str, Any]]:
    """The request's tools the model is offered: all of them, or in ``tool_choice`` "auto"
    mode with ``ServerConfig.tool_relevance_floor`` set, those whose embedding similarity to
    the latest user message reaches the floor (none when no tool does). Embeds the request.

    ``messages``: the request's messages already converted (``to_langchain``), if at hand.
    """
    tools = request_tools(body)
    floor = check_floor(state.config.tool_relevance_floor)
    if floor is None or not tools or body.tool_choice not in (None, "auto"):
        return tools
    request = request_text(messages if messages is not None else to_langchain(body.messages))
    if request is None:
        return tools
    return state.tool_scorer().relevant(request, tools, floor)


def prepare_chat(
    state: ServerState,
    body: ChatCompletionRequest,
    tools: list[dict[str, Any]] | None = None,
    messages: list[BaseMessage] | None = None,
) -> tuple[str, dict[str, Any] | None, Callable[[str], Reply]]:
    """The prompt, the JSON schema constraining the reply (or None), and the reply parser.

    Args:
        state: The server's state (its model's tokenizer and kind).
        body: The request.
        tools: The tools offered to the model (``offered_tools``); default: all of the
            request's. An empty list in "auto" mode gives a plain reply.
        messages: The request's messages already converted (``to_langchain``), if at hand.

    Raises:
        APIError: 400 for an inconsistent ``tools``/``tool_choice``/``response_format``.
    """
    if messages is None:
        messages = to_langchain(body.messages)
    rendered = render_tool_messages(messages)
    choice = body.tool_choice
    if choice is not None and not body.tools and choice != "none":
        msg = "tool_choice is set but no tools were given; pass tools or leave tool_choice out."
        raise APIError(400, msg, param="tool_choice")
    if tools is None:
        tools = request_tools(body)
    schema: dict[str, Any] | None = None
    parse: Callable[[str], Reply] = lambda text: (text, [])  # noqa: E731
    if tools and choice != "none":
        try:
            # Several calls in one reply unless the request says otherwise (OpenAI's default).
            parallel = body.parallel_tool_calls is not False
            schema = tool_call_schema(tools, choice, parallel_tool_calls=parallel)
            rendered = _with_system(
                rendered, tools_system_prompt(tools, choice, parallel_tool_calls=parallel)
            )
        except ConfigError as err:
            raise APIError(400, str(err), param="tool_choice") from err

        def parse(text: str) -> Reply:
            try:
                content, calls = parse_tool_output(text, tools)
            except OutputParserException:
                return text, []
            return (content or None) if calls else content, [
                {
                    "id": call["id"],
                    "type": "function",
                    "function": {"name": call["name"], "arguments": json.dumps(call["args"])},
                }
                for call in calls
            ]

    elif body.response_format is not None and body.response_format.type != "text":
        if body.response_format.type == "json_object":
            schema = {"type": "object"}
            rendered = _with_system(rendered, "Reply with only a JSON object.")
        else:
            if body.response_format.json_schema is None:
                msg = "response_format of type 'json_schema' needs a 'json_schema' member."
                raise APIError(400, msg, param="response_format")
            schema = body.response_format.json_schema.schema_
            rendered = _with_system(
                rendered,
                "Reply with only a JSON object that matches this JSON schema: "
                + json.dumps(schema, separators=(",", ":")),
            )
    prompt = format_chat(state.lm.tokenizer, state.lm.kind, rendered)
    return prompt, schema, parse


def _finish_reason(completion: Completion, calls: list[dict[str, Any]]) -> str:
    return "tool_calls" if calls else completion.finish_reason


async def chat_completion(
    state: ServerState, body: ChatCompletionRequest, request: Request
) -> dict[str, Any] | AsyncIterator[str]:
    """Serve one chat request: the response dict, or the SSE lines of a streamed one."""
    start = time.monotonic()
    adapter = state.adapter_for(body.model)
    messages = to_langchain(body.messages)
    if body.tools and state.config.tool_relevance_floor is not None:  # embeds: off the loop
        tools = await asyncio.to_thread(offered_tools, state, body, messages)
    else:
        tools = request_tools(body)
    calls_tools = bool(tools) and body.tool_choice != "none"
    if adapter is None and calls_tools:
        adapter = state.tool_adapter
    prompt, schema, parse = prepare_chat(state, body, tools, messages)
    config = generation_config(
        max_tokens=body.max_completion_tokens or body.max_tokens,
        temperature=body.temperature,
        top_p=body.top_p,
        seed=body.seed,
        stop=body.stop_list(),
        default_max_tokens=state.config.default_max_tokens,
    )
    handles = await submit_rows(
        state,
        [prompt],
        config,
        n=body.n,
        adapter=adapter,
        schema=schema,
        add_special_tokens=state.lm.kind != "causal",
    )
    request_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        events = row_events(state, handles, request, start=start)
        whole = calls_tools
        return _chat_chunks(
            events, request_id, created, body.model, len(handles), parse, whole, include_usage
        )
    completions = await collect(state, handles, request, start=start)
    choices = []
    for index, completion in enumerate(completions):
        content, calls = parse(completion.text)
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if calls:
            message["tool_calls"] = calls
        choices.append(
            {
                "index": index,
                "message": message,
                "finish_reason": _finish_reason(completion, calls),
                "logprobs": None,
            }
        )
    return {
        "id": request_id,
        "object": "chat.completion",
        "created": created,
        "model": body.model,
        "choices": choices,
        "usage": usage(completions),
        "system_fingerprint": None,
    }


async def _chat_chunks(
    events: AsyncIterator[tuple[int, Any]],
    request_id: str,
    created: int,
    model: str,
    rows: int,
    parse: Callable[[str], Reply],
    whole: bool,
    include_usage: bool,
) -> AsyncIterator[str]:
    """The SSE lines of a streamed chat reply; tool calls come whole, keyed by index."""

    def chunk(choices: list[dict[str, Any]], **extra: Any) -> str:
        data = {
            "id": request_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": None,
            "choices": choices,
            **({"usage": None} if include_usage else {}),
            **extra,
        }
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    def choice(index: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"index": index, "delta": delta, "finish_reason": finish, "logprobs": None}

    for index in range(rows):
        yield chunk([choice(index, {"role": "assistant", "content": ""})])
    completions: list[Completion] = []
    async for index, event in events:
        if not whole and event.text:
            yield chunk([choice(index, {"content": event.text})])
        if not event.done or event.completion is None:
            continue
        completion = event.completion
        completions.append(completion)
        calls: list[dict[str, Any]] = []
        if whole:
            content, calls = parse(completion.text)
            if content:
                yield chunk([choice(index, {"content": content})])
            for position, call in enumerate(calls):
                delta = {"tool_calls": [{"index": position, **call}]}
                yield chunk([choice(index, delta)])
        yield chunk([choice(index, {}, _finish_reason(completion, calls))])
    if include_usage:
        yield chunk([], usage=usage(completions))
    yield "data: [DONE]\n\n"


__all__ = ["chat_completion", "offered_tools", "prepare_chat", "to_langchain"]
