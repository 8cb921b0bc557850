"""ServerConfig: every setting of ``localchain serve``, one field per command-line flag."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from localchain.models.registry import DEFAULT_MODEL
from localchain.models.settings import Dtype, QuantizationName, check_device_name
from localchain.models.tool_relevance import check_floor

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
"""Host names that mean this machine only."""


class ServerConfig(BaseModel):
    """How ``localchain serve`` runs: the model, its adapters, limits, security, storage."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: str = Field(DEFAULT_MODEL, description="Registry name, checkpoint directory or .gguf.")
    model_name: str | None = Field(
        None, description="The name clients pass as `model` for the base; default: the model's."
    )
    adapters: dict[str, str] = Field(
        default_factory=dict, description="LoRA adapters to attach at start: name -> directory."
    )
    device: str = Field("auto", description="'auto', 'cpu' or 'cuda[:N]'.")
    dtype: Dtype = Field("auto", description="Compute precision.")
    quantization: QuantizationName | None = Field(None, description="Weight quantization.")
    tool_adapter: str | None = Field(
        None,
        description="Adapter for chat requests on the base model that offer tools: 'auto' (the "
        "shipped tool-calling adapter when it fits the served model), an attached adapter's "
        "name, or a directory; default: none.",
    )
    tool_relevance_floor: float | Literal["auto"] | None = Field(
        None,
        description="In tool_choice 'auto' mode, offer only the tools whose embedding "
        "similarity to the latest user message reaches this cosine ('auto': the calibrated "
        "floor for all-MiniLM-L6-v2); a request that reaches none gets a plain answer.",
    )
    embedding_model: str = Field(
        "all-minilm-l6-v2",
        description="The model behind /v1/embeddings (a name or a sentence-transformers dir); "
        "loaded on the first embeddings request.",
    )
    host: str = Field("127.0.0.1", description="Address to bind; loopback unless told otherwise.")
    port: int = Field(8000, ge=0, le=65535, description="TCP port (0 picks a free one).")
    max_batch: int = Field(8, ge=1, description="Rows decoded together by the scheduler.")
    max_queue: int = Field(64, ge=1, description="Requests that may wait; past that, 429.")
    api_key: str | None = Field(None, description="When set, /v1 and /app need this bearer key.")
    allow_adapter_loading: bool = Field(
        False, description="Enable /v1/load_lora_adapter and /v1/unload_lora_adapter."
    )
    request_timeout: float = Field(
        300.0, gt=0, description="Seconds a generation may take before it is stopped (504)."
    )
    max_body_bytes: int = Field(
        4 * 1024 * 1024, ge=1024, description="Largest request body accepted (413 past it)."
    )
    default_max_tokens: int = Field(
        256, ge=1, description="Tokens generated when a chat request gives no max_tokens."
    )
    db_path: Path | None = Field(
        None,
        description="SQLite file for the web app's conversations; default: "
        "$LOCALCHAIN_HOME/server/conversations.sqlite3.",
    )
    web: bool = Field(True, description="Serve the web chat app at /.")
    web_dir: Path | None = Field(
        None, description="Directory of the web app's files; default: the packaged ones."
    )
    shutdown_timeout: float = Field(
        10.0, ge=0, description="Seconds to let running requests finish on shutdown."
    )

    @field_validator("device")
    @classmethod
    def _check_device(cls, value: str) -> str:
        return check_device_name(value)

    @field_validator("tool_relevance_floor")
    @classmethod
    def _check_floor(cls, value: float | str | None) -> float | str | None:
        check_floor(value)
        return value

    @property
    def loopback(self) -> bool:
        """Whether the server listens on this machine only."""
        return self.host in LOOPBACK_HOSTS or self.host.startswith("127.")


__all__ = ["LOOPBACK_HOSTS", "ServerConfig"]
