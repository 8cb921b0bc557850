"""FakeChatModel: a scripted LangChain chat model for testing chains and agents without weights.

Replies come from a queue (``responses=[AIMessage | str, ...]``) or a function
(``fn=lambda messages, options: AIMessage | str``). Streaming splits a reply into word pieces,
``bind_tools`` records the offered tool names, ``with_structured_output`` parses JSON replies
(or a reply's first tool call), and every call is recorded in ``model.calls``.

Example:
    .. code-block:: python

        call = {"name": "calculator", "args": {"expression": "17*23"}, "id": "c1"}
        model = FakeChatModel(responses=[AIMessage("", tool_calls=[call]), "391"])
        agent_model = model.bind_tools([calculator])
        agent_model.invoke("What is 17*23?").tool_calls  # [call]
        model.calls[0].tools  # ["calculator"]
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda, RunnableMap, RunnablePassthrough
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool
from pydantic import BaseModel, ConfigDict, PrivateAttr

from localchain.errors import ConfigError

Reply = AIMessage | str
"""What a scripted reply may be: a message, or plain text."""

_PIECES = re.compile(r"\s*\S+\s*|\s+")
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


@dataclass
class FakeCall:
    """One call to a :class:`FakeChatModel`.

    Attributes:
        messages: The messages the model received.
        tools: Names of the tools bound for the call (empty when none).
        options: Other call options: ``stop``, ``tool_choice``, ``response_format``, ...
    """

    messages: list[BaseMessage]
    tools: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)


class FakeChatModel(BaseChatModel):
    """A chat model that replays scripted replies and records what it was asked.

    Args:
        responses: Replies returned in order, one per call (a str becomes an ``AIMessage``).
        fn: Alternatively, a function ``fn(messages, options) -> AIMessage | str`` computing
            each reply; ``options`` is the same dict recorded in ``FakeCall.options``.

    Raises:
        ConfigError: Both or neither of ``responses`` and ``fn`` are given (at construction),
            or the queue runs out (at call time).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    # ``list[Any]``, checked in model_post_init: pydantic would try a str as an AIMessage first.
    responses: list[Any] | None = None
    """Scripted replies (AIMessage or str), returned in order."""
    fn: Callable[[list[BaseMessage], dict[str, Any]], Reply] | None = None
    """Computes a reply from the messages and call options (instead of ``responses``)."""

    _calls: list[FakeCall] = PrivateAttr(default_factory=list)
    _next: int = PrivateAttr(default=0)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def __init__(self, **kwargs: Any) -> None:
        """Check that exactly one reply source is given, then build the model."""
        # Checked before pydantic runs, so callers get a ConfigError, not a ValidationError.
        responses, fn = kwargs.get("responses"), kwargs.get("fn")
        if (responses is None) == (fn is None):
            msg = (
                "FakeChatModel needs exactly one of responses=[AIMessage | str, ...] or "
                "fn=lambda messages, options: AIMessage | str."
            )
            raise ConfigError(msg)
        for reply in responses or []:
            if not isinstance(reply, (AIMessage, str)):
                msg = f"FakeChatModel responses must be AIMessage or str, got {reply!r}."
                raise ConfigError(msg)
        super().__init__(**kwargs)

    @property
    def _llm_type(self) -> str:
        return "localchain-fake-chat"

    @property
    def calls(self) -> list[FakeCall]:
        """Every call so far, in order (batched inputs count one call each)."""
        return self._calls

    @property
    def remaining(self) -> int:
        """How many queued replies are left (0 when replies come from ``fn``)."""
        return len(self.responses or []) - self._next

    def reset(self) -> None:
        """Forget recorded calls and replay the queue from its start."""
        with self._lock:
            self._calls.clear()
            self._next = 0

    # -- replies -------------------------------------------------------------------------

    def _reply(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> AIMessage:
        tools = [_tool_name(t) for t in kwargs.pop("tools", None) or []]
        kwargs.pop("ls_structured_output_format", None)
        options = {"stop": stop, **kwargs}
        call = FakeCall(messages=list(messages), tools=tools, options=options)
        with self._lock:
            self._calls.append(call)
            if self.fn is None:
                queue = self.responses or []
                if self._next >= len(queue):
                    msg = (
                        f"FakeChatModel ran out of responses: call {len(self._calls)} but only "
                        f"{len(queue)} scripted. Add replies to responses=[...] or pass fn=... ."
                    )
                    raise ConfigError(msg)
                reply = queue[self._next]
                self._next += 1
        if self.fn is not None:
            reply = self.fn(list(messages), options)
        if isinstance(reply, str):
            return AIMessage(content=reply)
        if isinstance(reply, AIMessage):
            return reply.model_copy(deep=True)
        msg = f"FakeChatModel fn must return an AIMessage or str, got {reply!r}."
        raise ConfigError(msg)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        message = self._reply(messages, stop, dict(kwargs))
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        message = self._reply(messages, stop, dict(kwargs))
        text = message.content if isinstance(message.content, str) else ""
        pieces = _PIECES.findall(text) if text else []
        if not isinstance(message.content, str):
            pieces = [message.content]
        tool_chunks = [
            {
                "name": c["name"],
                "args": json.dumps(c["args"]),
                "id": c.get("id"),
                "index": i,
                "type": "tool_call_chunk",
            }
            for i, c in enumerate(message.tool_calls)
        ]
        pieces = pieces or [""]
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            chunk = AIMessageChunk(
                content=piece,
                id=message.id,
                tool_call_chunks=tool_chunks if last else [],
                usage_metadata=message.usage_metadata if last else None,
                response_metadata=message.response_metadata if last else {},
                chunk_position="last" if last else None,
            )
            if run_manager is not None and isinstance(piece, str) and piece:
                run_manager.on_llm_new_token(piece, chunk=ChatGenerationChunk(message=chunk))
            yield ChatGenerationChunk(message=chunk)

    # -- tools and structured output -----------------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | bool | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools; their names are recorded in each call's ``FakeCall.tools``.

        Args:
            tools: Tools as BaseTool, pydantic models, functions or OpenAI tool dicts.
            tool_choice: Recorded in ``FakeCall.options``; replies are not checked against it.
            **kwargs: Further call options bound alongside.
        """
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type | None = None,
        *,
        method: Literal["function_calling", "json_mode", "json_schema"] = "json_schema",
        include_raw: bool = False,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """Return a runnable that parses each reply into ``schema``.

        A reply's first tool call's arguments are used when it has one; otherwise its text is
        parsed as JSON (a Markdown code fence is allowed).

        Args:
            schema: A pydantic class (outputs are instances), or a JSON schema, TypedDict or
                OpenAI tool schema (outputs are dicts); None with ``method="json_mode"``.
            method: Recorded in the call's options as ``ls_structured_output_format``; all
                methods parse the same way.
            include_raw: Return ``{"raw", "parsed", "parsing_error"}`` instead.
            **kwargs: ``strict`` is accepted and ignored.
        """
        kwargs.pop("strict", None)
        if kwargs:
            msg = f"Unsupported with_structured_output arguments: {sorted(kwargs)}."
            raise ConfigError(msg)
        json_schema = None if schema is None else convert_to_json_schema(schema)
        llm = self.bind(
            response_format=json_schema or {"type": "object"},
            ls_structured_output_format={"kwargs": {"method": method}, "schema": json_schema},
        )
        parser = RunnableLambda(lambda message: _parse_structured(message, schema))
        if not include_raw:
            return llm | parser
        parse = RunnablePassthrough.assign(
            parsed=lambda d: _parse_structured(d["raw"], schema), parsing_error=lambda _: None
        )
        fallback = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=llm) | parse.with_fallbacks(
            [fallback], exception_key="parsing_error"
        )


def _tool_name(tool: dict[str, Any]) -> str:
    return str(tool.get("function", tool).get("name"))


def _parse_structured(message: BaseMessage, schema: dict[str, Any] | type | None) -> Any:
    """Parse a reply's first tool call (or its JSON text) into ``schema``."""
    tool_calls = getattr(message, "tool_calls", None)
    if tool_calls:
        data: Any = tool_calls[0]["args"]
    else:
        text = message.text.strip()
        fenced = _FENCE.match(text)
        text = fenced.group(1) if fenced else text
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            msg = (
                f"FakeChatModel reply is not JSON: {text!r}. Script a JSON string or an "
                "AIMessage with a tool call for structured output."
            )
            raise OutputParserException(msg, llm_output=text) from err
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        try:
            return schema.model_validate(data)
        except ValueError as err:
            msg = f"FakeChatModel reply does not fit {schema.__name__}: {err}"
            raise OutputParserException(msg, llm_output=json.dumps(data)) from err
    return data


__all__ = ["FakeCall", "FakeChatModel", "Reply"]
