"""The interface every inference engine implements, and the lookup by name.

ChatLocal and LocalLLM talk to an engine only through :class:`Engine`: format a chat, count
tokens, generate a batch (optionally constrained to a JSON schema per row) and stream one prompt.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from localchain.errors import ConfigError
from localchain.models.generation import Completion, GenerationConfig, StreamEvent
from localchain.models.registry import ModelKind
from localchain.models.settings import ENGINES


@runtime_checkable
class Engine(Protocol):
    """What ChatLocal and LocalLLM need from a loaded model."""

    name: str
    kind: ModelKind
    model_path: Path
    context_length: int

    def format_chat(self, messages: Sequence[dict[str, Any]]) -> str:
        """Render ``{"role", "content"}`` messages into one prompt string for this model."""
        ...

    def count_tokens(self, text: str) -> int:
        """Number of tokens ``text`` takes."""
        ...

    def token_ids(self, text: str) -> list[int]:
        """Token ids of ``text`` (no special tokens added)."""
        ...

    def generate(
        self,
        prompts: Sequence[str],
        config: GenerationConfig,
        *,
        adapters: Sequence[str | None] | None = None,
        schemas: Sequence[dict[str, Any] | None] | None = None,
        chat: bool = False,
    ) -> list[Completion]:
        """Generate one completion per prompt; ``schemas`` constrains rows to JSON schemas."""
        ...

    def stream(
        self,
        prompt: str,
        config: GenerationConfig,
        *,
        adapter: str | None = None,
        schema: dict[str, Any] | None = None,
        chat: bool = False,
    ) -> Iterator[StreamEvent]:
        """Stream one completion as text pieces; the last event carries the Completion."""
        ...


def get_engine(
    engine: str,
    model: str,
    *,
    device: str = "auto",
    dtype: str = "auto",
    quantization: str | None = None,
    **options: Any,
) -> Engine:
    """Load (once per process) and return the engine serving ``model``.

    Args:
        engine: "transformers" or "llama_cpp".
        model: Registry name, checkpoint directory or GGUF file.
        device: "auto", "cpu" or "cuda[:N]".
        dtype: Compute dtype for the transformers engine.
        quantization: None, "int8", "nf4" or "fp4" (transformers engine).
        **options: Engine-specific settings (e.g. ``n_ctx`` for llama.cpp).
    """
    if engine == "transformers":
        from localchain.models.engines.transformers import TransformersEngine

        return TransformersEngine.load(
            model, device=device, dtype=dtype, quantization=quantization, **options
        )
    if engine == "llama_cpp":
        from localchain.models.engines.llama_cpp import LlamaCppEngine

        return LlamaCppEngine.load(model, device=device, quantization=quantization, **options)
    msg = f"Unknown engine {engine!r}; use one of {', '.join(ENGINES)}."
    raise ConfigError(msg)
