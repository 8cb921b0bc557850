"""The OpenAI HTTP API's request bodies, as pydantic models, and the checks on their fields.

Requests keep unknown fields (``extra="allow"``) so that :func:`check_parameters` can name
them: a parameter that would change the output but is not supported (``logit_bias``,
``presence_penalty`` ...) is refused with a 400 naming it, one that changes nothing (``user``,
``metadata``, ``store``) is accepted, and anything else is "unrecognized", as OpenAI says.
Responses are built as plain dicts in the serving modules, shaped as OpenAI's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_CHOICES = 16
"""Most rows one request may ask for (``n`` times the number of prompts)."""
MAX_STOP = 16
"""Most stop strings per request."""


class _Body(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class TextPart(BaseModel):
    """A text part of a message's content list."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["text"]
    text: str


class FunctionCall(BaseModel):
    """The function part of a tool call an assistant made."""

    name: str
    arguments: str = "{}"
    """The arguments as a JSON text."""


class ToolCall(BaseModel):
    """A tool call in an assistant message of the history."""

    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class ChatMessage(BaseModel):
    """One message of a chat history."""

    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None

    def text(self) -> str:
        """The content as one string (text parts joined)."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)


class FunctionDefinition(BaseModel):
    """A function offered as a tool."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ToolDefinition(BaseModel):
    """A tool offered to the model."""

    type: Literal["function"]
    function: FunctionDefinition


class JsonSchemaFormat(BaseModel):
    """The ``json_schema`` member of ``response_format``."""

    name: str = "response"
    description: str | None = None
    schema_: dict[str, Any] = Field(default_factory=lambda: {"type": "object"}, alias="schema")
    strict: bool | None = None


class ResponseFormat(BaseModel):
    """``response_format``: plain text, any JSON object, or JSON matching a schema."""

    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None


class StreamOptions(BaseModel):
    """``stream_options``: ``include_usage`` adds a last chunk with the token counts."""

    include_usage: bool = False


class _Sampling(_Body):
    """The generation fields chat and text completions share."""

    model: str = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    stop: str | list[str] | None = None
    seed: int | None = None
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, ge=0.0, le=1.0)
    max_tokens: int | None = Field(None, ge=1)
    n: int = Field(1, ge=1, le=MAX_CHOICES)

    @field_validator("stop")
    @classmethod
    def _check_stop(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and len(value) > MAX_STOP:
            msg = f"at most {MAX_STOP} stop strings are allowed, got {len(value)}"
            raise ValueError(msg)
        return value

    def stop_list(self) -> list[str]:
        """The stop strings as a list, without empty ones."""
        stops = [self.stop] if isinstance(self.stop, str) else list(self.stop or [])
        return [s for s in stops if s]


class ChatCompletionRequest(_Sampling):
    """``POST /v1/chat/completions``."""

    messages: list[ChatMessage] = Field(min_length=1)
    tools: list[ToolDefinition] | None = None
    tool_choice: Literal["none", "auto", "required"] | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    max_completion_tokens: int | None = Field(None, ge=1)


class CompletionRequest(_Sampling):
    """``POST /v1/completions``."""

    prompt: str | list[str] = Field(...)
    max_tokens: int | None = Field(16, ge=1)
    echo: bool = False


class EmbeddingRequest(_Body):
    """``POST /v1/embeddings``."""

    model: str = Field(min_length=1)
    input: str | list[str]
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(None, ge=1)


class LoadLoraAdapterRequest(_Body):
    """``POST /v1/load_lora_adapter`` (vLLM's name and fields)."""

    lora_name: str = Field(min_length=1, max_length=64)
    lora_path: str = Field(min_length=1)


class UnloadLoraAdapterRequest(_Body):
    """``POST /v1/unload_lora_adapter``."""

    lora_name: str = Field(min_length=1)


HARMLESS: frozenset[str] = frozenset(
    {"user", "metadata", "store", "service_tier", "prompt_cache_key", "safety_identifier"}
)
"""Parameters that do not change the output: accepted and ignored."""


def _falsy(value: Any) -> bool:
    return not value


def _zero(value: Any) -> bool:
    return value is None or value == 0


UNSUPPORTED: dict[str, Callable[[Any], bool]] = {
    "logit_bias": _falsy,
    "logprobs": _falsy,
    "top_logprobs": _falsy,
    "presence_penalty": _zero,
    "frequency_penalty": _zero,
    "repetition_penalty": lambda v: v is None or v == 1,
    "best_of": lambda v: v is None or v == 1,
    "suffix": _falsy,
    "prediction": _falsy,
    "audio": _falsy,
    "modalities": lambda v: v in (None, ["text"]),
    "reasoning_effort": _falsy,
    "verbosity": _falsy,
    "web_search_options": _falsy,
    "functions": _falsy,
    "function_call": _falsy,
    "top_k": _falsy,
    "min_p": _falsy,
}
"""Parameters that would change the output and are not supported, each with a test for the
values that change nothing (the default), which are accepted."""


def check_parameters(body: _Body) -> tuple[str, str] | None:
    """Return ``(parameter, message)`` for the first unsupported or unknown field, else None."""
    for name, value in (body.model_extra or {}).items():
        if name in HARMLESS:
            continue
        neutral = UNSUPPORTED.get(name)
        if neutral is None:
            return name, f"Unrecognized request argument supplied: {name}"
        if not neutral(value):
            return name, (
                f"The parameter {name!r} is not supported by this server (it would change the "
                "output); leave it out or set it to its default."
            )
    return None


__all__ = [
    "HARMLESS",
    "MAX_CHOICES",
    "MAX_STOP",
    "UNSUPPORTED",
    "ChatCompletionRequest",
    "ChatMessage",
    "CompletionRequest",
    "EmbeddingRequest",
    "FunctionCall",
    "FunctionDefinition",
    "JsonSchemaFormat",
    "LoadLoraAdapterRequest",
    "ResponseFormat",
    "StreamOptions",
    "TextPart",
    "ToolCall",
    "ToolDefinition",
    "UnloadLoraAdapterRequest",
    "check_parameters",
]
