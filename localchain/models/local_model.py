"""What ChatLocal and LocalLLM share: model settings, the engine they load, async streaming.

:class:`LocalModelSettings` is mixed into both LangChain models. Its generation fields are the
LangChain-style names (``max_tokens``, ``temperature``, ``stop``...) of
:class:`~localchain.models.settings.GenerationConfig`'s fields, with the same defaults and checks
(see ``settings.MODEL_SETTING_FIELDS``), so the two cannot drift apart.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from localchain.errors import ConfigError
from localchain.models.engines.base import Engine, get_engine
from localchain.models.registry import DEFAULT_MODEL
from localchain.models.settings import (
    CALL_ALIASES,
    MODEL_SETTING_FIELDS,
    Dtype,
    EngineName,
    GenerationConfig,
    QuantizationName,
    Truncation,
    check_device_name,
    generation_default,
)

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


class LocalModelSettings(BaseModel):
    """Settings shared by ChatLocal and LocalLLM (mixed into both)."""

    model: str = Field(DEFAULT_MODEL, alias="model_name")
    """Registry name ("smollm2-135m-instruct", "flan-t5-base"), directory or GGUF file."""
    adapter: str | None = None
    """LoRA adapter used by default (attached or registered name, or a directory)."""
    engine: EngineName = "transformers"
    """Inference engine; "llama_cpp" needs ``pip install 'localchain[llamacpp]'``."""
    device: str = "auto"
    """"auto", "cpu" or "cuda[:N]"."""
    dtype: Dtype = "auto"
    """Compute precision; "auto" is bf16/fp16 on GPU and float32 on CPU."""
    quantization: QuantizationName | None = None
    """Weight quantization: int8 on CPU or GPU, nf4/fp4 on CUDA with bitsandbytes."""
    max_tokens: int = Field(generation_default("max_new_tokens"), alias="max_new_tokens")
    """Most tokens generated per reply."""
    temperature: float = generation_default("temperature")
    """Sampling temperature; 0 is greedy."""
    top_p: float = generation_default("top_p")
    """Nucleus sampling mass."""
    top_k: int = generation_default("top_k")
    """Sample among the k most likely tokens; 0 means all."""
    seed: int | None = None
    """Seed for sampling: same seed, same output."""
    stop: list[str] | None = Field(None, alias="stop_sequences")
    """Strings that end a reply (trimmed from it)."""
    truncation: Truncation = generation_default("truncation")
    """A prompt longer than the window: raise, or drop its oldest tokens."""

    _engine_obj: Engine | None = PrivateAttr(default=None)
    _shipped_choice: dict[tuple[str, ...], bool] = PrivateAttr(default_factory=dict)
    """``shipped_adapter``'s answers, per settings and adapter (a copy may change them)."""

    def __init__(self, **data: Any) -> None:
        """Check the settings; a bad one raises ``ConfigError`` naming the field and value."""
        try:
            super().__init__(**data)
        except ValidationError as err:
            raise ConfigError(_settings_message(type(self).__name__, err)) from err

    @field_validator("device")
    @classmethod
    def _check_device(cls, value: str) -> str:
        return check_device_name(value)

    @field_validator("model")
    @classmethod
    def _check_model(cls, value: str) -> str:
        if not value.strip():
            msg = (
                "model='' names no model; pass a registry name (see `localchain models`), "
                "a checkpoint directory or a .gguf file, or leave it out for the default "
                f"{DEFAULT_MODEL!r}."
            )
            raise ConfigError(msg)
        return value

    @model_validator(mode="after")
    def _check_generation(self) -> LocalModelSettings:
        # The generation fields are checked by GenerationConfig itself: one set of rules.
        self._generation_config(None)
        return self

    def _get_engine(self) -> Engine:
        if self._engine_obj is None:
            self._engine_obj = get_engine(
                self.engine,
                self.model,
                device=self.device,
                dtype=self.dtype,
                quantization=self.quantization,
            )
        return self._engine_obj

    def shipped_adapter(self, name: str) -> str | None:
        """``name`` when the shipped adapter ``name`` applies to this model, else None.

        It applies when this model is the base the adapter records (``localchain_adapter.json``)
        and runs on the transformers engine (llama.cpp serves no peft LoRA), at any precision
        or quantization. The answer is cached per settings: it reads files.
        """
        from localchain.models.adapters import shipped_adapter_fits

        key = (self.model, self.engine, str(self.quantization), self.device, name)
        if key not in self._shipped_choice:
            self._shipped_choice[key] = self.engine == "transformers" and shipped_adapter_fits(
                self.model, name
            )
        return name if self._shipped_choice[key] else None

    @property
    def model_path(self) -> Path:
        """Directory of the local checkpoint serving this model (loads it if needed)."""
        return self._get_engine().model_path

    def get_num_tokens(self, text: str) -> int:
        """Count tokens with this model's own tokenizer (offline; no GPT-2 fallback)."""
        return self._get_engine().count_tokens(text)

    def get_token_ids(self, text: str) -> list[int]:
        """Token ids of ``text`` under this model's tokenizer."""
        return self._get_engine().token_ids(text)

    def _generation_config(self, stop: Sequence[str] | None, **overrides: Any) -> GenerationConfig:
        """This instance's generation settings with per-call ``overrides`` applied."""
        model = overrides.pop("model", None)
        if model is not None and model != self.model:
            msg = (
                f"Per-call model={model!r} is not supported (this instance serves "
                f"{self.model!r}); create another {type(self).__name__}(model={model!r})."
            )
            raise ConfigError(msg)
        for alias, name in CALL_ALIASES.items():
            if alias in overrides:
                if name in overrides:
                    msg = f"Pass {name} or {alias}, not both."
                    raise ConfigError(msg)
                overrides[name] = overrides.pop(alias)
        fields: dict[str, Any] = {}
        for attribute, field in MODEL_SETTING_FIELDS.items():
            value = overrides.pop(attribute, None)
            fields[field] = getattr(self, attribute) if value is None else value
        stops = list(self.stop or []) + list(stop or []) + list(overrides.pop("stop", None) or [])
        fields["stop"] = list(dict.fromkeys(stops))
        if overrides:
            msg = (
                f"Unknown generation option(s) {sorted(overrides)}; known: "
                f"{', '.join([*MODEL_SETTING_FIELDS, *CALL_ALIASES, 'stop'])}."
            )
            raise ConfigError(msg)
        try:
            return GenerationConfig(**fields)
        except ValidationError as err:
            renamed = {v: f"{k} ({v})" for k, v in MODEL_SETTING_FIELDS.items() if k != v}
            raise ConfigError(_settings_message("generation", err, renamed)) from err


def _settings_message(
    owner: str, err: ValidationError, renamed: dict[str, str] | None = None
) -> str:
    """One line per invalid field: its name, the value given and what is wrong."""
    problems = []
    for error in err.errors(include_url=False):
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, ConfigError):
            problems.append(str(cause))  # already names the field, the value and the fix
            continue
        field = ".".join(str(part) for part in error["loc"]) or "settings"
        field = (renamed or {}).get(field, field)
        text = str(error["msg"]).removeprefix("Value error, ")
        shown = repr(error.get("input"))
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        problems.append(f"{field}={shown}: {text}")
    if len(problems) == 1 and problems[0].startswith("Invalid "):
        return problems[0]
    return f"Invalid {owner} settings: " + "; ".join(problems)


__all__ = ["LocalModelSettings", "iterate_in_thread"]
