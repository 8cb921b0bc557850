"""ChatLocal: a LangChain chat model served by a local model.

It is a ``BaseChatModel``: invoke, batch (one forward pass per step for the whole batch),
stream (token by token), the async variants, usage metadata, ``bind_tools`` and
``with_structured_output`` backed by grammar-constrained decoding, so that even a 135M model
returns a schema-valid object or tool call. Construction is cheap; weights load on first use
and are shared by every instance with the same model settings.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from operator import itemgetter
from pathlib import Path
from typing import Any, Literal, TypeVar

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
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from localchain.errors import ConfigError
from localchain.models.engines.base import ENGINES, Engine, get_engine
from localchain.models.generation import Completion, GenerationConfig
from localchain.models.registry import DEFAULT_MODEL
from localchain.models.tool_calling import (
    parse_tool_output,
    render_tool_messages,
    tool_call_schema,
    tools_system_prompt,
)

JSON_OBJECT_SCHEMA: dict[str, Any] = {"type": "object"}

_T = TypeVar("_T")


async def iterate_in_thread(make_iterator: Callable[[], Iterator[_T]]) -> AsyncIterator[_T]:
    """Run a sync iterator to the end in one worker thread, yielding its items asynchronously.

    LangChain's default ``_astream`` resumes the sync stream with a fresh executor call per
    item, so successive decoding steps may run on different threads; torch's inference mode is
    per thread, and a decode loop resumed on another thread fails. One thread per stream avoids
    that (and a thread hop per token).

    Args:
        make_iterator: Builds the iterator; called in the worker thread.
    """
    from langchain_core.runnables.config import run_in_executor

    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[bool, Any]] = asyncio.Queue()
    cancelled = threading.Event()

    def put(item: tuple[bool, Any]) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # the event loop closed under us: nobody is listening
            cancelled.set()

    def work() -> None:
        try:
            iterator = make_iterator()
            for item in iterator:
                if cancelled.is_set():
                    close = getattr(iterator, "close", None)
                    if close is not None:
                        close()
                    return
                put((False, item))
        except BaseException as err:  # handed to the consumer, re-raised there
            put((True, err))
        else:
            put((True, None))

    worker = asyncio.ensure_future(run_in_executor(None, work))
    try:
        while True:
            finished, value = await queue.get()
            if finished:
                if value is not None:
                    raise value
                return
            yield value
    finally:
        cancelled.set()
        await worker


class _LocalModelSettings(BaseModel):
    """Settings shared by ChatLocal and LocalLLM (mixed into both)."""

    model: str = Field(DEFAULT_MODEL, alias="model_name")
    """Registry name ("smollm2-135m-instruct", "flan-t5-base"), directory or GGUF file."""
    adapter: str | None = None
    """LoRA adapter used by default (attached or registered name, or a directory)."""
    engine: Literal["transformers", "llama_cpp"] = "transformers"
    """Inference engine; "llama_cpp" needs ``pip install 'localchain[llamacpp]'``."""
    device: str = "auto"
    """"auto", "cpu" or "cuda[:N]"."""
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    """Compute precision; "auto" is bf16/fp16 on GPU and float32 on CPU."""
    quantization: Literal["int8", "nf4", "fp4"] | None = None
    """Weight quantization: int8 on CPU or GPU, nf4/fp4 on CUDA with bitsandbytes."""
    max_tokens: int = Field(256, ge=1, alias="max_new_tokens")
    """Most tokens generated per reply."""
    temperature: float = Field(0.0, ge=0.0)
    """Sampling temperature; 0 is greedy."""
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    """Nucleus sampling mass."""
    top_k: int = Field(0, ge=0)
    """Sample among the k most likely tokens; 0 means all."""
    seed: int | None = None
    """Seed for sampling: same seed, same output."""
    stop: list[str] | None = Field(None, alias="stop_sequences")
    """Strings that end a reply (trimmed from it)."""
    truncation: Literal["error", "left"] = "error"
    """A prompt longer than the window: raise, or drop its oldest tokens."""

    @field_validator("device")
    @classmethod
    def _check_device(cls, value: str) -> str:
        if value not in ("auto", "cpu") and not value.startswith("cuda"):
            msg = f"Unknown device {value!r}; use 'auto', 'cpu' or 'cuda[:N]'."
            raise ValueError(msg)
        return value

    def _get_engine(self) -> Engine:
        cached = getattr(self, "_engine_obj", None)
        if cached is None:
            cached = get_engine(
                self.engine,
                self.model,
                device=self.device,
                dtype=self.dtype,
                quantization=self.quantization,
            )
            self._engine_obj = cached
        return cached

    @property
    def model_path(self) -> Path:
        """Directory of the local checkpoint serving this model (loads it if needed)."""
        return self._get_engine().model_path

    def get_num_tokens(self, text: str) -> int:
        """Count tokens with this model's own tokenizer (offline; no GPT-2 fallback)."""
        return self._get_engine().count_tokens(text)

    def get_token_ids(self, text: str) -> list[int]:
        """Token ids of ``text`` under this model's tokenizer."""
        engine = self._get_engine()
        loaded = getattr(engine, "loaded", None)
        if loaded is not None:
            return list(loaded.tokenizer(text, add_special_tokens=False)["input_ids"])
        llama = engine.llama  # type: ignore[attr-defined]
        return list(llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def _generation_config(self, stop: Sequence[str] | None, **overrides: Any) -> GenerationConfig:
        stops = list(self.stop or []) + list(stop or [])
        model = overrides.pop("model", None)
        if model is not None and model != self.model:
            msg = (
                f"Per-call model={model!r} is not supported (this instance serves "
                f"{self.model!r}); create another {type(self).__name__}(model={model!r})."
            )
            raise ConfigError(msg)
        fields = {
            "max_new_tokens": overrides.pop("max_tokens", overrides.pop("max_new_tokens", None))
            or self.max_tokens,
            "temperature": overrides.pop("temperature", self.temperature),
            "top_p": overrides.pop("top_p", self.top_p),
            "top_k": overrides.pop("top_k", self.top_k),
            "seed": overrides.pop("seed", self.seed),
            "truncation": overrides.pop("truncation", self.truncation),
            "stop": list(dict.fromkeys(stops)),
        }
        if overrides:
            msg = f"Unknown generation option(s) {sorted(overrides)}."
            raise ConfigError(msg)
        return GenerationConfig(**fields)


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


class ChatLocal(_LocalModelSettings, BaseChatModel):
    """A LangChain chat model running a local model, with tools and structured output.

    Example:
        .. code-block:: python

            from localchain import ChatLocal

            chat = ChatLocal()  # the embedded SmolLM2-135M-Instruct
            chat.invoke("What is the capital of France?").content
    """

    model_config = ConfigDict(populate_by_name=True, protected_namespaces=())
    _engine_obj: Engine | None = PrivateAttr(default=None)

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
        kwargs.pop("parallel_tool_calls", None)
        rendered = render_tool_messages(messages)
        if not rendered:
            msg = "ChatLocal got no messages; pass at least one message or a string."
            raise ConfigError(msg)
        schema: dict[str, Any] | None = None
        build: Callable[[str], AIMessage] = lambda text: AIMessage(content=text)  # noqa: E731
        if tools and tool_choice != "none":
            schema = tool_call_schema(tools, tool_choice)
            rendered = _with_system(rendered, tools_system_prompt(tools, tool_choice))

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
    ) -> list[BaseMessage]:
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

        messages: list[BaseMessage] = []
        for run_manager, result in zip(run_managers, results, strict=True):
            generation = result.generations[0]
            generation.message.id = generation.message.id or f"lc_run-{run_manager.run_id}"
            run_manager.on_llm_end(LLMResult(generations=[[generation]]))
            messages.append(generation.message)
        return messages

    async def abatch(
        self,
        inputs: list[LanguageModelInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[BaseMessage]:
        """Async ``batch``: the batched generation runs in a worker thread."""
        from langchain_core.runnables.config import run_in_executor

        return await run_in_executor(
            None,
            lambda: self.batch(inputs, config, return_exceptions=return_exceptions, **kwargs),
        )

    # -- tools and structured output -----------------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable | BaseTool],
        *,
        tool_choice: str | bool | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Offer tools to the model; its replies are constrained to a valid call or text.

        Args:
            tools: Tools as BaseTool, pydantic models, functions or OpenAI tool dicts.
            tool_choice: "auto" (text or a call; the default), "any"/"required"/True (some
                call), "none", or a tool's name (that call).
            **kwargs: Further call options bound alongside.
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
        parser: Runnable = (
            PydanticOutputParser(pydantic_object=schema)  # type: ignore[arg-type]
            if is_pydantic
            else JsonOutputParser()
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
        return schema.schema()  # type: ignore[attr-defined]
    if (
        isinstance(schema, dict)
        and "function" not in schema
        and ("properties" in schema or "type" in schema)
    ):
        return schema
    function = convert_to_openai_tool(schema)["function"]
    return function.get("parameters", JSON_OBJECT_SCHEMA)


def _with_system(rendered: list[dict[str, str]], text: str) -> list[dict[str, str]]:
    """Put ``text`` into the system message (merging with one the caller gave)."""
    if rendered and rendered[0]["role"] == "system":
        first = {"role": "system", "content": rendered[0]["content"] + "\n\n" + text}
        return [first, *rendered[1:]]
    return [{"role": "system", "content": text}, *rendered]


__all__ = ["ENGINES", "ChatLocal"]
