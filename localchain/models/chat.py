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
from operator import itemgetter
from typing import Any, Literal, cast

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableConfig, RunnableMap, RunnablePassthrough
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import BaseModel, ConfigDict

from localchain.errors import ConfigError
from localchain.models.generation import Completion
from localchain.models.local_model import LocalModelSettings, iterate_in_thread
from localchain.models.settings import ENGINES
from localchain.models.tool_calling import (
    parse_tool_output,
    render_tool_messages,
    tool_call_schema,
    tools_system_prompt,
)

JSON_OBJECT_SCHEMA: dict[str, Any] = {"type": "object"}

_REQUEST_OPTIONS = (
    "tools",
    "tool_choice",
    "response_format",
    "adapter",
    "ls_structured_output_format",
    "parallel_tool_calls",
)
"""Call options that shape the request (read by ``ChatLocal._prepare``), not generation."""


def _generation_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The call options that are generation settings (max_tokens, temperature, seed, ...)."""
    return {k: v for k, v in kwargs.items() if k not in _REQUEST_OPTIONS}


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

    @property
    def _llm_type(self) -> str:
        return "localchain-chat"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "adapter": self.adapter,
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

    def _prepare(
        self, messages: list[BaseMessage], kwargs: dict[str, Any]
    ) -> tuple[str, dict[str, Any] | None, str | None, Callable[[str], AIMessage]]:
        """Turn messages and call options into (prompt, schema, adapter, reply builder)."""
        tools = kwargs.pop("tools", None)
        tool_choice = kwargs.pop("tool_choice", None)
        response_format = kwargs.pop("response_format", None)
        adapter = kwargs.pop("adapter", self.adapter)
        kwargs.pop("ls_structured_output_format", None)
        # Several calls in one reply unless the caller asks for one (OpenAI's default).
        parallel = kwargs.pop("parallel_tool_calls", None) is not False
        rendered = render_tool_messages(messages)
        if not rendered:
            msg = "ChatLocal got no messages; pass at least one message or a string."
            raise ConfigError(msg)
        schema: dict[str, Any] | None = None
        build: Callable[[str], AIMessage] = lambda text: AIMessage(content=text)  # noqa: E731
        if tools and tool_choice != "none":
            schema = tool_call_schema(tools, tool_choice, parallel_tool_calls=parallel)
            rendered = _with_system(
                rendered, tools_system_prompt(tools, tool_choice, parallel_tool_calls=parallel)
            )

            def build(text: str) -> AIMessage:
                try:
                    content, calls = parse_tool_output(text, tools)
                except OutputParserException:
                    return AIMessage(content=text)
                return AIMessage(content=content, tool_calls=calls)

        elif response_format is not None:
            schema = response_format
            rendered = _with_system(
                rendered,
                "Reply with only a JSON object that matches this JSON schema: "
                + json.dumps(schema, separators=(",", ":")),
            )
        prompt = self._get_engine().format_chat(rendered)
        return prompt, schema, adapter, build

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
        completions = self._get_engine().generate(
            [p[0] for p in prepared],
            config,
            adapters=[p[2] for p in prepared],
            schemas=[p[1] for p in prepared],
            chat=True,
        )
        results = []
        for (_, _, _, build), completion in zip(prepared, completions, strict=True):
            message = build(completion.text)
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
        prompt, schema, adapter, build = self._prepare(messages, dict(kwargs))
        config = self._generation_config(stop, **_generation_options(kwargs))
        engine = self._get_engine()
        if schema is not None:
            # A constrained reply is parsed as a whole: stream it as one chunk.
            completion = engine.generate([prompt], config, adapters=[adapter], schemas=[schema])
            message = build(completion[0].text)
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
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        tool_call_schema(formatted, tool_choice)  # validates tool_choice now, not at call time
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
        is_pydantic = isinstance(schema, type) and is_basemodel_subclass(schema)
        if method == "function_calling":
            if schema is None:
                msg = "method='function_calling' needs a schema."
                raise ConfigError(msg)
            return super().with_structured_output(schema, include_raw=include_raw)
        # LangChain converts the schema given here for tracing (``ls_structured_output_format``
        # in the callbacks' options); pass the caller's schema so that works for every kind.
        traced = {"kwargs": {"method": method}, "schema": schema} if schema is not None else None
        if method == "json_mode":
            llm = self.bind(response_format=JSON_OBJECT_SCHEMA, ls_structured_output_format=traced)
        elif method == "json_schema":
            if schema is None:
                msg = "method='json_schema' needs a schema; use method='json_mode' for any JSON."
                raise ConfigError(msg)
            llm = self.bind(
                response_format=_json_schema(schema), ls_structured_output_format=traced
            )
        else:
            msg = (
                f"Unknown method {method!r}; use 'json_schema', 'function_calling' or 'json_mode'."
            )
            raise ConfigError(msg)
        parser: Runnable[Any, Any] = (
            PydanticOutputParser(pydantic_object=schema) if is_pydantic else JsonOutputParser()
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


def _json_schema(schema: dict[str, Any] | type) -> dict[str, Any]:
    """The JSON schema constraining replies for a pydantic (v1/v2) class, dict or TypedDict."""
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema.model_json_schema()
    if isinstance(schema, type) and is_basemodel_subclass(schema):  # pydantic.v1
        v1_schema: dict[str, Any] = schema.schema()  # type: ignore[attr-defined]
        return v1_schema
    if (
        isinstance(schema, dict)
        and "function" not in schema
        and ("properties" in schema or "type" in schema)
    ):
        return schema
    function = convert_to_openai_tool(schema)["function"]
    parameters: dict[str, Any] = function.get("parameters", JSON_OBJECT_SCHEMA)
    return parameters


def _with_system(rendered: list[dict[str, str]], text: str) -> list[dict[str, str]]:
    """Put ``text`` into the system message (merging with one the caller gave)."""
    if rendered and rendered[0]["role"] == "system":
        first = {"role": "system", "content": rendered[0]["content"] + "\n\n" + text}
        return [first, *rendered[1:]]
    return [{"role": "system", "content": text}, *rendered]


__all__ = ["ENGINES", "ChatLocal"]
