"""The settings every part of localchain shares: where a model runs and how it generates.

This is the one source of these choices and their checks. ``load_model``, ``ChatLocal``,
``LocalLLM``, the CLI's flags and the server's request fields all read them from here, so a new
choice (another quantization, another engine) is added once.

- Placement: :data:`Device` strings (checked by :func:`check_device_name`), :data:`Dtype`,
  :data:`QuantizationName`, :data:`EngineName`, with their choices as tuples for argparse.
- Generation: :class:`GenerationConfig` (length, sampling, stopping, truncation), and
  :data:`MODEL_SETTING_FIELDS`, which maps the LangChain-style names that ``ChatLocal`` and
  ``LocalLLM`` expose (``max_tokens``) onto its fields.
"""

from __future__ import annotations

import re
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from localchain.errors import ConfigError

Dtype = Literal["auto", "float32", "bfloat16", "float16"]
"""Compute precision; "auto" is bf16 (or fp16) on a GPU and float32 on the CPU."""
QuantizationName = Literal["int8", "nf4", "fp4"]
"""Weight quantization: int8 on CPU or GPU, nf4/fp4 on CUDA with bitsandbytes."""
EngineName = Literal["transformers", "llama_cpp"]
"""Inference engine; "llama_cpp" needs ``pip install 'localchain[llamacpp]'``."""
Truncation = Literal["error", "left"]
"""A prompt longer than the window: raise ``ContextLengthError``, or drop its oldest tokens."""

DTYPES: tuple[str, ...] = get_args(Dtype)
QUANTIZATIONS: tuple[str, ...] = get_args(QuantizationName)
ENGINES: tuple[str, ...] = get_args(EngineName)
TRUNCATIONS: tuple[str, ...] = get_args(Truncation)

DEVICE_HELP = "'auto', 'cpu' or 'cuda[:N]'"
_DEVICE_PATTERN = re.compile(r"auto|cpu|cuda(:\d+)?")


def check_device_name(device: str) -> str:
    """Check the form of a device string ("auto", "cpu", "cuda" or "cuda:N") and return it.

    This checks spelling only; whether a GPU exists is checked when a model loads
    (``loading.resolve_device``).

    Raises:
        ConfigError: The string names no device.
    """
    if not isinstance(device, str) or not _DEVICE_PATTERN.fullmatch(device):
        msg = f"Unknown device {device!r}; use {DEVICE_HELP}."
        raise ConfigError(msg)
    return device


class GenerationConfig(BaseModel):
    """How to generate: length, sampling and stopping."""

    model_config = ConfigDict(extra="forbid")

    max_new_tokens: int = Field(256, ge=1, description="Tokens to generate after the prompt.")
    temperature: float = Field(0.0, ge=0.0, description="0 means greedy decoding.")
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="Nucleus sampling mass.")
    top_k: int = Field(0, ge=0, description="Sample from the k most likely tokens; 0 = all.")
    seed: int | None = Field(None, description="Same seed, same prompt: same output.")
    stop: list[str] = Field(default_factory=list, description="Strings that end the output.")
    truncation: Truncation = Field(
        "error",
        description="A prompt longer than the window: raise ContextLengthError, or drop its "
        "oldest tokens ('left').",
    )


MODEL_SETTING_FIELDS: dict[str, str] = {
    "max_tokens": "max_new_tokens",
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "seed": "seed",
    "truncation": "truncation",
}
"""``ChatLocal``/``LocalLLM`` attribute -> :class:`GenerationConfig` field (``stop`` is merged
separately: the instance's stop strings and the call's are both kept)."""

CALL_ALIASES: dict[str, str] = {"max_new_tokens": "max_tokens"}
"""Per-call option names accepted as well as the attribute names above."""


def generation_default(field: str) -> Any:
    """The default of a :class:`GenerationConfig` field (so other models can reuse it)."""
    return GenerationConfig.model_fields[field].get_default(call_default_factory=True)


__all__ = [
    "CALL_ALIASES",
    "DEVICE_HELP",
    "DTYPES",
    "ENGINES",
    "MODEL_SETTING_FIELDS",
    "QUANTIZATIONS",
    "TRUNCATIONS",
    "Dtype",
    "EngineName",
    "GenerationConfig",
    "QuantizationName",
    "Truncation",
    "check_device_name",
    "generation_default",
]
