"""The default engine: transformers models, peft adapters, xgrammar constraints."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from localchain.models.chat_format import flan_prompt, format_chat
from localchain.models.generation import (
    Completion,
    GenerationConfig,
    StreamEvent,
    generate,
    stream_batch,
)
from localchain.models.loading import LoadedModel, load_model


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
            from localchain.errors import ConfigError

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

    def _processor(self, schemas: Sequence[dict[str, Any] | None] | None) -> Any:
        if not schemas or all(s is None for s in schemas):
            return None
        from localchain.models.constrained import GrammarLogitsProcessor, compile_json_schema

        tokenizer, vocab = self.loaded.tokenizer, self.loaded.vocab_size
        grammars = [
            None if s is None else compile_json_schema(tokenizer, s, vocab_size=vocab)
            for s in schemas
        ]
        return GrammarLogitsProcessor(grammars)

    def generate(
        self,
        prompts: Sequence[str],
        config: GenerationConfig,
        *,
        adapters: Sequence[str | None] | None = None,
        schemas: Sequence[dict[str, Any] | None] | None = None,
        chat: bool = False,
    ) -> list[Completion]:
        """Generate a batch in one pass per step (see :func:`generation.generate`)."""
        return generate(
            self.loaded,
            prompts,
            config,
            adapters=adapters,
            logits_processor=self._processor(schemas),
            add_special_tokens=not (chat and self.kind == "causal"),
        )

    def stream(
        self,
        prompt: str,
        config: GenerationConfig,
        *,
        adapter: str | None = None,
        schema: dict[str, Any] | None = None,
        chat: bool = False,
    ) -> Iterator[StreamEvent]:
        """Stream one prompt token by token, without a background thread."""
        yield from stream_batch(
            self.loaded,
            [prompt],
            config,
            adapters=[adapter],
            logits_processor=self._processor([schema] if schema else None),
            add_special_tokens=not (chat and self.kind == "causal"),
        )


__all__ = ["TransformersEngine", "flan_prompt"]
