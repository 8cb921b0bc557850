"""ChatLocal: a LangChain chat model served by a local model.

It is a ``BaseChatModel``: invoke, batch (one forward pass per step for the whole batch),
stream (token by token), the async variants, usage metadata, ``bind_tools`` and
``with_structured_output`` backed by grammar-constrained decoding, so that even a 135M model
returns a schema-valid object or tool call. Construction is cheap; weights load on first use
and are shared by every instance with the same model settings.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Literal, cast

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.embeddings import Embeddings
from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import invalid_tool_call
from langchain_core.output_parsers import BaseGenerationOutputParser
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult, Generation
from langchain_core.prompt_values import PromptValue
from langchain_core.runnables import Runnable, RunnableConfig, RunnableMap, RunnablePassthrough
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from localchain.errors import ConfigError, ContextLengthError
from localchain.models.adapters import TOOL_CALLS_ADAPTER
from localchain.models.generation import Completion
from localchain.models.local_model import LocalModelSettings, iterate_in_thread
from localchain.models.settings import ENGINES
from localchain.models.tool_calling import (
    check_json_schema,
    cut_off_calls,
    cut_off_message,
    cut_off_response,
    parse_json_reply,
    parse_tool_output,
    render_tool_messages,
    tool_call_schema,
    tools_system_prompt,
    validate_json,
)
from localchain.models.tool_relevance import ToolScorer, check_floor, request_text

JSON_OBJECT_SCHEMA: dict[str, Any] = {"type": "object"}

_REQUEST_OPTIONS = (
    "tools",
    "tool_choice",
    "response_format",
    "adapter",
    "ls_structured_output_format",
    "parallel_tool_calls",
    "structured_output",
)
"""Call options that shape the request (read by ``ChatLocal._prepare``), not generation."""


def _generation_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The call options that are generation settings (max_tokens, temperature, seed, ...)."""
    return {k: v for k, v in kwargs.items() if k not in _REQUEST_OPTIONS}


@dataclass
class _Request:
    """One prepared chat request."""

    prompt: str
    schema: dict[str, Any] | None
    """The JSON schema the reply is constrained to, if any."""
    adapter: str | None
    build: Callable[[Completion], AIMessage]
    """Turns the completion into the reply message (parsing tool calls)."""
    added: str = ""
    """What the schema or tools added to the system prompt (quoted when the prompt overflows)."""
    added_what: str = ""
    """What ``added`` describes, in words."""


def _usage(completion: Completion) -> UsageMetadata:
    return UsageMetadata(
        input_tokens=completion.prompt_tokens,
        output_tokens=completion.completion_tokens,
        total_tokens=completion.prompt_tokens + completion.completion_tokens,
    )


class ChatLocal(LocalModelSettings, BaseChatModel):
    """A LangChain chat model running a local model, with tools and structured output.

    Example:
        .. code-block:: python

            from localchain import ChatLocal

            chat = ChatLocal()  # the embedded SmolLM2-135M-Instruct
            chat.invoke("What is the capital of France?").content
    """

    model_config = ConfigDict(populate_by_name=True, protected_namespaces=())

    tool_adapter: str | None = None
    """LoRA adapter for calls that have tools bound (``bind_tools``, an agent's steps) when
    neither the model nor the call names an adapter. ``"auto"``: the shipped tool-calling
    adapter (``tool-calls-smollm2``) when the model is the base it was trained on (the
    embedded SmolLM2-135M-Instruct, transformers engine, not CPU int8), else none; a name or
    directory: that adapter; ``None`` (the default): the plain model. Plain chat and
    ``with_structured_output`` never use it."""

    tool_relevance_floor: float | Literal["auto"] | None = None
    """In ``tool_choice="auto"`` mode, offer the model only the tools whose name and
    description reach this cosine similarity to the latest user message (embedded with
    ``tool_embeddings``); when none does, the model answers in plain text without seeing the
    tools. A small model offered a tool calls it even for requests it cannot serve; a sentence
    embedding tells them apart far better. ``"auto"``: ``RELEVANCE_FLOOR`` (0.33, calibrated on
    the generated tool-calling training data for the embedded all-MiniLM-L6-v2); ``None`` (the
    default): offer every tool. Forced calls (``"any"``, a tool's name) are never filtered."""

    tool_embeddings: Embeddings | None = Field(default=None, exclude=True)
    """The embeddings ``tool_relevance_floor`` scores with; ``LocalEmbeddings()`` (the
    embedded all-MiniLM-L6-v2) when None."""

    _tool_scorer: ToolScorer | None = PrivateAttr(default=None)

    @field_validator("tool_relevance_floor", mode="before")
    @classmethod
    def _check_relevance_floor(cls, value: Any) -> Any:
        check_floor(value)
        return value

    @property
    def _llm_type(self) -> str:
        return "localchain-chat"

    def adapter_for_tools(self) -> str | None:
        """The adapter calls with tools bound use when no adapter is named (see
        ``tool_adapter``)."""
        if self.tool_adapter is None or self.adapter is not None:
            return None
        if self.tool_adapter != "auto":
            return self.tool_adapter
        return self.shipped_adapter(TOOL_CALLS_ADAPTER)

    def relevant_tools(
        self, messages: Sequence[BaseMessage], tools: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The OpenAI-format ``tools`` offered in ``tool_choice="auto"`` mode for a
        conversation: all of them, or with ``tool_relevance_floor`` set, those similar enough
        to the latest user message (none when no user message reaches the floor)."""
        floor = check_floor(self.tool_relevance_floor)
        request = request_text(messages)
        if floor is None or not tools or request is None:
            return tools
        if self._tool_scorer is None:  # loads nothing until it scores
            self._tool_scorer = ToolScorer(self.tool_embeddings)
        return self._tool_scorer.relevant(request, tools, floor)

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "adapter": self.adapter,
            "tool_adapter": self.tool_adapter,
            "tool_relevance_floor": self.tool_relevance_floor,
            "engine": self.engine,
            "quantization": self.quantization,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "localchain"
        params["ls_model_name"] = kwargs.get("model") or self.model
        params["ls_temperature"] = kwargs.get("temperature", self.temperature)
        params["ls_max_tokens"] = (
            kwargs.get("max_tokens") or kwargs.get("max_new_tokens") or self.max_tokens
        )
        stops = list(self.stop or []) + list(stop or [])
        if stops:
            params["ls_stop"] = stops
        return params

    # -- request preparation -------------------------------------------------------------

    def _convert_input(self, model_input: LanguageModelInput) -> PromptValue:
        """Read the chat input, refusing what a text-only model cannot see (None content)."""
        if isinstance(model_input, Sequence) and not isinstance(model_input, str):
            for index, item in enumerate(model_input):
                content: Any = ...
                if isinstance(item, dict) and "content" in item:
                    content = item["content"]
                    if content is None and item.get("tool_calls"):
                        continue  # an OpenAI-style assistant turn that only calls tools
                elif isinstance(item, tuple | list) and len(item) == 2:
                    content = item[1]
                if content is None:
                    msg = (
                        f"Message {index} has content None: there is nothing for the model to "
                        "read. Pass text, or leave the message out."
                    )
                    raise ConfigError(msg)
        try:
            return super()._convert_input(model_input)
        except ConfigError:
            raise
        except (ValueError, TypeError, KeyError, NotImplementedError) as err:
            msg = (
                f"Cannot read the chat input ({type(err).__name__}: {err}). Pass a string, a "
                "list of messages (or (role, text) pairs / {'role', 'content'} dicts), or a "
                "PromptValue."
            )
            raise ConfigError(msg) from err

    def _prepare(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> _Request:
        """Turn messages and call options into a prompt, a schema, an adapter and a builder."""
        tools = kwargs.pop("tools", None)
        tool_choice = kwargs.pop("tool_choice", None)
        response_format = kwargs.pop("response_format", None)
        named_adapter = "adapter" in kwargs
        adapter = kwargs.pop("adapter", self.adapter)
        kwargs.pop("ls_structured_output_format", None)
        # with_structured_output marks its requests: its parser reports a bad reply (in
        # ``parsing_error`` with include_raw), so the reply is returned for it to check.
        structured = bool(kwargs.pop("structured_output", False))
        # Several calls in one reply unless the caller asks for one (OpenAI's default).
        parallel = kwargs.pop("parallel_tool_calls", None) is not False
        rendered = render_tool_messages(messages)
        if not rendered:
            msg = "ChatLocal got no messages; pass at least one message or a string."
            raise ConfigError(msg)
        schema: dict[str, Any] | None = None
        added = added_what = ""

        def build(completion: Completion) -> AIMessage:
            return AIMessage(content=completion.text)

        if tools and tool_choice in (None, False, "auto"):
            tools = self.relevant_tools(messages, tools)
        if tools and tool_choice != "none":
            if not named_adapter and not structured and adapter is None:
                adapter = self.adapter_for_tools()
            tool_schema = schema = tool_call_schema(
                tools, tool_choice, parallel_tool_calls=parallel
            )
            check_json_schema(tool_schema)
            added = tools_system_prompt(tools, tool_choice, parallel_tool_calls=parallel)
            added_what = f"description of the {len(tools)} tool(s)"

            def build(completion: Completion) -> AIMessage:
                text = completion.text
                try:
                    parse_json_reply(
                        text,
                        tool_schema,
                        finish_reason=completion.finish_reason,
                        output_tokens=completion.completion_tokens,
                    )
                    content, calls = parse_tool_output(text, tools)
                except OutputParserException as err:
                    if not structured:
                        cut_off = self._cut_off_reply(completion, tools, tool_choice)
                        if cut_off is None:
                            raise
                        return cut_off
                    bad = invalid_tool_call(name=None, args=text, id=None, error=str(err))
                    return AIMessage(content="", invalid_tool_calls=[bad])
                return AIMessage(content=content, tool_calls=calls)

        elif response_format is not None:
            reply_schema = schema = response_format
            check_json_schema(reply_schema)
            added = "Reply with only a JSON object that matches this JSON schema: " + json.dumps(
                reply_schema, separators=(",", ":")
            )
            added_what = "JSON schema of the reply"

            def build(completion: Completion) -> AIMessage:
                if not structured:
                    parse_json_reply(
                        completion.text,
                        reply_schema,
                        finish_reason=completion.finish_reason,
                        output_tokens=completion.completion_tokens,
                    )
                return AIMessage(content=completion.text)

        if added:
            rendered = _with_system(rendered, added)
        prompt = self._get_engine().format_chat(rendered)
        return _Request(prompt, schema, adapter, build, added, added_what)

    @staticmethod
    def _cut_off_reply(
        completion: Completion, tools: list[dict[str, Any]], tool_choice: Any
    ) -> AIMessage | None:
        """What a tool-calling reply that the token limit cut off still holds, as an OpenAI
        model's reply would: a direct answer's text so far; a list's complete calls, with the
        unfinished one as an invalid tool call. None when nothing usable was written (a single
        call cut short raises: its arguments would be wrong)."""
        if completion.finish_reason != "length":
            return None
        text = completion.text
        partial = cut_off_response(text)
        if partial is not None:
            return AIMessage(content=partial)
        single = tool_call_schema(tools, tool_choice, parallel_tool_calls=False)
        found = cut_off_calls(text, tools, single)
        if found is None:
            return None
        calls, rest = found
        error = cut_off_message(rest, completion.completion_tokens)
        bad = invalid_tool_call(name=None, args=rest, id=None, error=error)
        return AIMessage(content="", tool_calls=calls, invalid_tool_calls=[bad] if rest else [])

    def _explain_overflow(self, err: ContextLengthError, requests: list[_Request]) -> Exception:
        """Say how much of an overflowing prompt the schema or tools took."""
        largest = max(requests, key=lambda r: len(r.added))
        added = largest.added
        if not added:
            return err
        tokens = self._get_engine().count_tokens(added)
        msg = (
            f"{err} The {largest.added_what} went into the system prompt ({tokens} tokens, "
            f"{len(added)} "
            f"characters) so that the model knows the reply's shape; shrink it (fewer enum "
            "values or tools, shorter descriptions) or use a model with a longer context window."
        )
        return ContextLengthError(msg)

    # -- generation ----------------------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._generate_many([messages], stop, **kwargs)[0]

    def _generate_many(
        self, batch: list[list[BaseMessage]], stop: list[str] | None, **kwargs: Any
    ) -> list[ChatResult]:
        prepared = [self._prepare(messages, dict(kwargs)) for messages in batch]
        config = self._generation_config(stop, **_generation_options(kwargs))
        try:
            completions = self._get_engine().generate(
                [p.prompt for p in prepared],
                config,
                adapters=[p.adapter for p in prepared],
                schemas=[p.schema for p in prepared],
                chat=True,
            )
        except ContextLengthError as err:
            raise self._explain_overflow(err, prepared) from err
        results = []
        for request, completion in zip(prepared, completions, strict=True):
            message = request.build(completion)
            message.usage_metadata = _usage(completion)
            message.response_metadata = {
                "model_name": self.model,
                "finish_reason": completion.finish_reason,
                "model_provider": "localchain",
            }
            results.append(ChatResult(generations=[ChatGeneration(message=message)]))
        return results

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        request = self._prepare(messages, dict(kwargs))
        prompt, adapter = request.prompt, request.adapter
        config = self._generation_config(stop, **_generation_options(kwargs))
        engine = self._get_engine()
        if request.schema is not None:
            # A constrained reply is parsed as a whole: stream it as one chunk.
            try:
                completion = engine.generate(
                    [prompt], config, adapters=[adapter], schemas=[request.schema], chat=True
                )
            except ContextLengthError as err:
                raise self._explain_overflow(err, [request]) from err
            message = request.build(completion[0])
            chunk = AIMessageChunk(
                content=message.content,
                tool_call_chunks=[
                    {
                        "name": c["name"],
                        "args": json.dumps(c["args"]),
                        "id": c["id"],
                        "index": i,
                        "type": "tool_call_chunk",
                    }
                    for i, c in enumerate(message.tool_calls)
                ],
                usage_metadata=_usage(completion[0]),
                response_metadata={
                    "finish_reason": completion[0].finish_reason,
                    "model_name": self.model,
                    "model_provider": "localchain",
                },
                chunk_position="last",
            )
            yield ChatGenerationChunk(message=chunk)
            return
        for event in engine.stream(prompt, config, adapter=adapter, chat=True):
            if event.done and event.completion is not None:
                chunk = AIMessageChunk(
                    content=event.text,
                    usage_metadata=_usage(event.completion),
                    response_metadata={
                        "finish_reason": event.completion.finish_reason,
                        "model_name": self.model,
                        "model_provider": "localchain",
                    },
                    chunk_position="last",
                )
            else:
                chunk = AIMessageChunk(content=event.text)
            if run_manager is not None and event.text:
                run_manager.on_llm_new_token(event.text, chunk=ChatGenerationChunk(message=chunk))
            yield ChatGenerationChunk(message=chunk)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        sync_manager = run_manager.get_sync() if run_manager is not None else None
        async for chunk in iterate_in_thread(
            lambda: self._stream(messages, stop, sync_manager, **kwargs)
        ):
            yield chunk

    def batch(
        self,
        inputs: list[LanguageModelInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[AIMessage]:
        """Run several inputs as one batch: one forward pass per decoding step for all rows.

        Callbacks fire per input as in ``invoke``. Falls back to LangChain's per-input batch
        when a cache is configured or per-input configs differ.
        """
        if len(inputs) < 2 or self.cache is not None or isinstance(config, list):
            return super().batch(inputs, config, return_exceptions=return_exceptions, **kwargs)
        from langchain_core.callbacks import CallbackManager
        from langchain_core.runnables.config import ensure_config

        cfg = ensure_config(config)
        batch = [self._convert_input(item).to_messages() for item in inputs]
        stop = kwargs.pop("stop", None)
        params = self._get_invocation_params(stop=stop, **kwargs)
        options = {"stop": stop, **kwargs}
        manager = CallbackManager.configure(
            cfg.get("callbacks"),
            self.callbacks,
            self.verbose,
            cfg.get("tags"),
            self.tags,
            cfg.get("metadata"),
            self.metadata,
        )
        run_managers = manager.on_chat_model_start(
            self._serialized,
            batch,
            invocation_params=params,
            options=options,
            name=cfg.get("run_name"),
            run_id=cfg.pop("run_id", None),
            batch_size=len(batch),
        )
        try:
            results = self._generate_many(batch, stop, **kwargs)
        except BaseException as err:
            for run_manager in run_managers:
                run_manager.on_llm_error(err)
            if return_exceptions and isinstance(err, Exception):
                return [err] * len(inputs)  # type: ignore[list-item]
            raise
        from langchain_core.outputs import LLMResult

        messages: list[AIMessage] = []
        for run_manager, result in zip(run_managers, results, strict=True):
            generation = result.generations[0]
            generation.message.id = generation.message.id or f"lc_run-{run_manager.run_id}"
            run_manager.on_llm_end(LLMResult(generations=[[generation]]))
            messages.append(cast("AIMessage", generation.message))
        return messages

    async def abatch(
        self,
        inputs: list[LanguageModelInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[AIMessage]:
        """Async ``batch``: the batched generation runs in a worker thread."""
        from langchain_core.runnables.config import run_in_executor

        return await run_in_executor(
            None,
            lambda: self.batch(inputs, config, return_exceptions=return_exceptions, **kwargs),
        )

    # -- tools and structured output -----------------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | bool | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Offer tools to the model; its replies are constrained to a valid call or text.

        Args:
            tools: Tools as BaseTool, pydantic models, functions or OpenAI tool dicts.
            tool_choice: "auto" (text or a call; the default), "any"/"required"/True (some
                call), "none", or a tool's name (that call).
            **kwargs: Further call options bound alongside, e.g. ``parallel_tool_calls=False``
                to allow exactly one call per reply (by default a reply may hold a list of
                calls, as OpenAI's ``parallel_tool_calls=True``).
        """
        formatted = [_openai_tool(tool) for tool in tools]
        schema = tool_call_schema(formatted, tool_choice)  # checks tool_choice now, not per call
        check_json_schema(schema)
        return super().bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type | None = None,
        *,
        method: Literal["function_calling", "json_mode", "json_schema"] = "json_schema",
        include_raw: bool = False,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """Return a runnable whose output always parses into ``schema``.

        Args:
            schema: A pydantic class (outputs are instances), a JSON schema dict, a TypedDict
                or an OpenAI tool/function schema (outputs are dicts).
            method: "json_schema" (constrain the reply to the schema), "function_calling"
                (force a tool call whose arguments follow the schema) or "json_mode" (any JSON
                object; describe the shape in the prompt).
            include_raw: Return ``{"raw", "parsed", "parsing_error"}`` instead.
            **kwargs: Unused; accepted for LangChain compatibility (e.g. ``strict``).
        """
        kwargs.pop("strict", None)
        if kwargs:
            msg = f"Unsupported with_structured_output arguments: {sorted(kwargs)}."
            raise ConfigError(msg)
        if method not in ("function_calling", "json_mode", "json_schema"):
            msg = (
                f"Unknown method {method!r}; use 'json_schema', 'function_calling' or 'json_mode'."
            )
            raise ConfigError(msg)
        if schema is None and method != "json_mode":
            msg = f"method={method!r} needs a schema; use method='json_mode' for any JSON object."
            raise ConfigError(msg)
        pydantic_object = (
            schema if isinstance(schema, type) and is_basemodel_subclass(schema) else None
        )
        # LangChain converts the schema given here for tracing (``ls_structured_output_format``
        # in the callbacks' options); pass the caller's schema so that works for every kind.
        traced = {"kwargs": {"method": method}, "schema": schema}
        llm: Runnable[LanguageModelInput, BaseMessage]
        if method == "function_calling":
            tool = _openai_tool(cast("dict[str, Any] | type", schema))
            name = tool["function"]["name"]
            parameters = tool["function"].get("parameters") or JSON_OBJECT_SCHEMA
            llm = self.bind_tools(
                [tool],
                tool_choice=name,
                parallel_tool_calls=False,  # one object is asked for: exactly one call
                ls_structured_output_format=traced,
                structured_output=True,
            )
            parser = StructuredOutputParser(
                reply_schema=parameters, pydantic_object=pydantic_object, tool_name=name
            )
        else:
            reply_schema = JSON_OBJECT_SCHEMA if schema is None else _json_schema(schema)
            check_json_schema(reply_schema)
            llm = self.bind(
                response_format=reply_schema,
                ls_structured_output_format=traced,
                structured_output=True,
            )
            parser = StructuredOutputParser(
                reply_schema=reply_schema, pydantic_object=pydantic_object
            )
        if not include_raw:
            return llm | parser
        parse = RunnablePassthrough.assign(
            parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
        )
        fallback = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=llm) | parse.with_fallbacks(
            [fallback], exception_key="parsing_error"
        )


class StructuredOutputParser(BaseGenerationOutputParser[Any]):
    """Parse a ``with_structured_output`` reply: complete, valid against the whole schema.

    The reply is read strictly (unfinished JSON is never completed), a reply that stopped on
    the token limit is an error, and the value is validated against the full JSON schema, so
    keywords the grammar engine could not enforce (lookahead patterns, ``format``) are checked
    too. Every failure is an ``OutputParserException``.
    """

    reply_schema: dict[str, Any]
    """The JSON schema the value must match (a tool's parameters for function calling)."""
    pydantic_object: type | None = None
    """A pydantic class (v2 or v1) to build from the value, or None to return the dict."""
    tool_name: str | None = None
    """For function calling: the tool whose call's arguments are the value."""

    def parse_result(self, result: list[Generation], *, partial: bool = False) -> Any:
        """Parse the first generation into the schema's value.

        Raises:
            OutputParserException: The reply was cut off, is not valid JSON, holds no call
                to the tool, or does not match the schema or the pydantic class.
        """
        generation = result[0]
        message = generation.message if isinstance(generation, ChatGeneration) else None
        text = generation.text
        finish = message.response_metadata.get("finish_reason") if message else None
        usage = getattr(message, "usage_metadata", None)
        tokens = usage.get("output_tokens") if usage else None
        if self.tool_name is None:
            value = parse_json_reply(
                text, self.reply_schema, finish_reason=finish, output_tokens=tokens
            )
        else:
            value = self._tool_arguments(message, text)
        if self.pydantic_object is None:
            return value
        try:
            if issubclass(self.pydantic_object, BaseModel):
                return self.pydantic_object.model_validate(value)
            return self.pydantic_object.parse_obj(value)  # type: ignore[attr-defined]
        except ValueError as err:  # pydantic (v1 and v2) ValidationError
            msg = (
                f"The reply does not validate as {self.pydantic_object.__name__}: {err}. "
                f"Got: {json.dumps(value, ensure_ascii=False)[:300]}"
            )
            raise OutputParserException(msg, llm_output=text) from err

    def _tool_arguments(self, message: BaseMessage | None, text: str) -> Any:
        if not isinstance(message, AIMessage):
            msg = f"Expected an AIMessage with a call to {self.tool_name!r}, got {message!r}."
            raise OutputParserException(msg, llm_output=text)
        if message.invalid_tool_calls:
            bad = message.invalid_tool_calls[0]
            raise OutputParserException(str(bad.get("error")), llm_output=str(bad.get("args")))
        calls = [c for c in message.tool_calls if c["name"] == self.tool_name]
        if not calls:
            msg = (
                f"The reply holds no call to {self.tool_name!r} (content: "
                f"{str(message.content)[:200]!r})."
            )
            raise OutputParserException(msg, llm_output=text)
        args = calls[0]["args"]
        validate_json(args, self.reply_schema, text=json.dumps(args, ensure_ascii=False))
        return args


def _json_schema(schema: dict[str, Any] | type) -> dict[str, Any]:
    """The JSON schema constraining replies for a pydantic (v1/v2) class, dict or TypedDict."""
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema.model_json_schema()
    if isinstance(schema, type) and is_basemodel_subclass(schema):  # pydantic.v1
        v1_schema: dict[str, Any] = schema.schema()  # type: ignore[attr-defined]
        return v1_schema
    if isinstance(schema, dict) and not _is_function_spec(schema):
        return schema
    function = convert_to_openai_tool(schema)["function"]
    parameters: dict[str, Any] = function.get("parameters", JSON_OBJECT_SCHEMA)
    return parameters


def _is_function_spec(schema: dict[str, Any]) -> bool:
    """Whether a dict is an OpenAI tool or function spec rather than a JSON schema."""
    if schema.get("type") == "function" or isinstance(schema.get("function"), dict):
        return True
    return isinstance(schema.get("name"), str) and "parameters" in schema


def _openai_tool(tool: Any) -> dict[str, Any]:
    """``convert_to_openai_tool``, with a ConfigError for what it cannot convert."""
    try:
        return convert_to_openai_tool(tool)
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        msg = (
            f"Cannot use {tool!r} as a tool or schema: {err} Pass a pydantic class, a "
            "function with a docstring, a BaseTool, or a JSON schema dict with a 'title'."
        )
        raise ConfigError(msg) from err


def _with_system(rendered: list[dict[str, str]], text: str) -> list[dict[str, str]]:
    """Put ``text`` into the system message (merging with one the caller gave)."""
    if rendered and rendered[0]["role"] == "system":
        first = {"role": "system", "content": rendered[0]["content"] + "\n\n" + text}
        return [first, *rendered[1:]]
    return [{"role": "system", "content": text}, *rendered]


__all__ = ["ENGINES", "ChatLocal", "StructuredOutputParser"]
