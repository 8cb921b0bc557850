"""The default engine: transformers models, peft adapters, xgrammar constraints."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from localchain.errors import ConfigError
from localchain.models.chat_format import flan_prompt, format_chat
from localchain.models.decoding import Completion, StreamEvent
from localchain.models.loading import LoadedModel, load_model
from localchain.models.scheduler import RequestHandle, Scheduler, get_scheduler
from localchain.models.settings import GenerationConfig


class TransformersEngine:
    """Serves a :class:`LoadedModel` (shared per process) through the common engine interface."""

    def __init__(self, loaded: LoadedModel) -> None:
        """Wrap an already loaded model."""
        self.loaded = loaded
        self.name = loaded.name
        self.kind = loaded.kind
        self.model_path: Path = loaded.model_path
        self.context_length = loaded.context_length

    @classmethod
    def load(
        cls,
        model: str,
        *,
        device: str = "auto",
        dtype: str = "auto",
        quantization: str | None = None,
        **options: Any,
    ) -> TransformersEngine:
        """Load ``model`` (cached per process) and wrap it."""
        if options:
            msg = f"The transformers engine takes no options {sorted(options)}."
            raise ConfigError(msg)
        return cls(load_model(model, device=device, dtype=dtype, quantization=quantization))  # type: ignore[arg-type]

    def format_chat(self, messages: Sequence[dict[str, Any]]) -> str:
        """Apply the tokenizer's chat template (decoders) or a FLAN-style prompt (seq2seq)."""
        return format_chat(self.loaded.tokenizer, self.kind, messages)

    def count_tokens(self, text: str) -> int:
        """Number of tokens ``text`` takes with this model's tokenizer."""
        return len(self.token_ids(text))

    def token_ids(self, text: str) -> list[int]:
        """Token ids of ``text`` under this model's tokenizer (no special tokens added)."""
        return list(self.loaded.tokenizer(text, add_special_tokens=False)["input_ids"])

    @property
    def scheduler(self) -> Scheduler:
        """The model's scheduler: concurrent calls (threads, the server) decode together."""
        return get_scheduler(self.loaded)

    def submit(
        self,
        prompt: str,
        config: GenerationConfig,
        *,
        adapter: str | None = None,
        schema: dict[str, Any] | None = None,
        chat: bool = False,
    ) -> RequestHandle:
        """Queue one request on the model's scheduler (see :class:`Scheduler`)."""
        return self.scheduler.submit(
            prompt,
            config,
            adapter=adapter,
            schema=schema,
            add_special_tokens=not (chat and self.kind == "causal"),
        )

    def generate(
        self,
        prompts: Sequence[str],
        config: GenerationConfig,
        *,
        adapters: Sequence[str | None] | None = None,
        schemas: Sequence[dict[str, Any] | None] | None = None,
        chat: bool = False,
    ) -> list[Completion]:
        """Generate a batch: the rows decode together (with other threads' requests too)."""
        if adapters is not None and len(adapters) != len(prompts):
            msg = f"Got {len(adapters)} adapter names for {len(prompts)} prompts."
            raise ConfigError(msg)
        if schemas is not None and len(schemas) != len(prompts):
            msg = f"Got {len(schemas)} schemas for {len(prompts)} prompts."
            raise ConfigError(msg)
        handles: list[RequestHandle] = []
        try:
            for i, prompt in enumerate(prompts):
                handles.append(
                    self.submit(
                        prompt,
                        config,
                        adapter=None if adapters is None else adapters[i],
                        schema=None if schemas is None else schemas[i],
                        chat=chat,
                    )
                )
            return [handle.result() for handle in handles]
        finally:
            for handle in handles:
                handle.cancel()  # no-op for finished ones; frees rows after an error

    def stream(
        self,
        prompt: str,
        config: GenerationConfig,
        *,
        adapter: str | None = None,
        schema: dict[str, Any] | None = None,
        chat: bool = False,
    ) -> Iterator[StreamEvent]:
        """Stream one prompt token by token, decoded on this thread (no background thread)."""
        handle = self.submit(prompt, config, adapter=adapter, schema=schema, chat=chat)
        try:
            for event in handle:
                yield replace(event, index=0)
        finally:
            handle.cancel()  # the consumer stopped early: the row leaves the batch


__all__ = ["TransformersEngine", "flan_prompt"]
