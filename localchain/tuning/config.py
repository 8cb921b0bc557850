"""What a tuning run does: :class:`TuneConfig`, one pydantic model whose fields are the CLI flags.

``localchain tune --rank 16`` sets ``TuneConfig.rank``; ``TuneConfig.from_file(path)`` reads the
same fields from a JSON file. Defaults that depend on the method or the model (learning rate,
LoRA target modules, output directory, adapter name) are None here and resolved by the trainer.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from localchain.errors import ConfigError

Method = Literal["lora", "qlora", "prompt-tuning"]
Precision = Literal["auto", "fp32", "bf16", "fp16"]

DEFAULT_LEARNING_RATES: dict[str, float] = {"lora": 2e-4, "qlora": 2e-4, "prompt-tuning": 3e-2}
"""Learning rate per method when none is given (prompt tuning needs a much larger one)."""

DEFAULT_TARGET_MODULES: dict[str, list[str]] = {
    "llama": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "mistral": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "qwen2": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "qwen3": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "gemma": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "phi3": ["qkv_proj", "o_proj"],
    "gpt2": ["c_attn", "c_proj"],
    "gpt_neox": ["query_key_value", "dense"],
    "t5": ["q", "v"],
    "mt5": ["q", "v"],
    "bart": ["q_proj", "v_proj"],
}
"""LoRA target modules per ``config.model_type``; others fall back to peft's own table."""

MLP_MODULES: dict[str, list[str]] = {
    "llama": ["gate_proj", "up_proj", "down_proj"],
    "mistral": ["gate_proj", "up_proj", "down_proj"],
    "qwen2": ["gate_proj", "up_proj", "down_proj"],
    "qwen3": ["gate_proj", "up_proj", "down_proj"],
    "gemma": ["gate_proj", "up_proj", "down_proj"],
    "t5": ["wi_0", "wi_1", "wo"],
    "mt5": ["wi_0", "wi_1", "wo"],
}
"""MLP projections added to the targets when ``TuneConfig.lora_mlp`` is set."""

_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")


class TuneConfig(BaseModel):
    """Everything a tuning run needs: base model, data, method, optimisation and evaluation."""

    model_config = ConfigDict(extra="forbid")

    base: str = Field(description="Base model: registry name, checkpoint directory or HF repo id.")
    data: Path = Field(description="Training jsonl: prompt/completion or messages records.")
    method: Method = Field(
        "lora", description="lora, qlora (4-bit NF4 base, CUDA) or prompt-tuning."
    )
    name: str | None = Field(
        None, description="Adapter name to register; default <base>-<method>-<data stem>."
    )
    output_dir: Path | None = Field(
        None, description="Adapter directory; default <LOCALCHAIN_HOME>/adapters/<name>."
    )
    overwrite: bool = Field(False, description="Replace an existing adapter in output_dir.")
    resume: bool = Field(False, description="Continue from the last checkpoint in output_dir.")

    # -- data --
    val_data: Path | None = Field(None, description="Validation jsonl (else split off the data).")
    val_split: float = Field(
        0.1, ge=0.0, lt=1.0, description="Share of the data held out when no val_data is given."
    )
    template: str | None = Field(
        None,
        description="Prompt template: a name from tuning.data.TEMPLATES or a string with "
        "'{prompt}'; applied to prompt/completion records.",
    )
    system: str | None = Field(None, description="System message put before every prompt.")
    max_length: int | None = Field(
        None, ge=8, description="Longest record in tokens; default the model's context window."
    )

    # -- method --
    rank: int = Field(8, ge=1, description="LoRA rank r.")
    alpha: float = Field(16.0, gt=0, description="LoRA alpha (scale = alpha / rank).")
    dropout: float = Field(0.05, ge=0.0, lt=1.0, description="LoRA dropout.")
    target_modules: list[str] | None = Field(
        None,
        description="LoRA target module names, or ['all-linear']; default per architecture.",
    )
    lora_mlp: bool = Field(False, description="Also adapt the MLP projections (default targets).")
    num_virtual_tokens: int = Field(20, ge=1, description="Prompt tuning: virtual tokens.")
    prompt_init_text: str | None = Field(
        None, description="Prompt tuning: initialise the virtual tokens from this text."
    )

    # -- optimisation --
    epochs: float = Field(3.0, gt=0, description="Passes over the training data.")
    max_steps: int | None = Field(
        None, ge=1, description="Stop after this many optimizer steps (overrides epochs)."
    )
    learning_rate: float | None = Field(
        None, gt=0, description="Peak learning rate; default 2e-4 (LoRA) or 3e-2 (prompt tuning)."
    )
    lr_scheduler: str = Field("linear", description="transformers scheduler name, e.g. cosine.")
    warmup_ratio: float = Field(0.0, ge=0.0, lt=1.0, description="Share of steps warming up.")
    weight_decay: float = Field(0.0, ge=0.0, description="AdamW weight decay.")
    batch_size: int = Field(4, ge=1, description="Examples per device per step.")
    grad_accum: int = Field(1, ge=1, description="Gradient accumulation steps.")
    gradient_checkpointing: bool = Field(False, description="Trade compute for activation memory.")
    group_by_length: bool = Field(
        False,
        description="Batch records of similar length together (less padding, faster steps on "
        "records of mixed length; the order is still shuffled between groups).",
    )
    precision: Precision = Field(
        "auto", description="auto: bf16 (or fp16) on CUDA, fp32 on CPU; fp16 needs CUDA."
    )
    device: str = Field("auto", description="auto, cpu or cuda[:N].")
    seed: int = Field(42, description="Seed for the split, the adapter init and the data order.")

    # -- checkpoints, logging, early stopping --
    eval_steps: int | None = Field(
        None, ge=1, description="Steps between validation losses and checkpoints; default ~10/run."
    )
    logging_steps: int | None = Field(None, ge=1, description="Steps between logged losses.")
    early_stopping_patience: int | None = Field(
        3, ge=1, description="Stop after this many evaluations without a better val loss."
    )
    save_total_limit: int = Field(2, ge=1, description="Checkpoints kept while training.")
    keep_checkpoints: bool = Field(False, description="Keep output_dir/checkpoints at the end.")
    progress: bool = Field(True, description="Show the progress bar and logs on stderr.")

    # -- evaluation --
    evaluate: bool = Field(True, description="Score base and base+adapter on the val set.")
    eval_limit: int | None = Field(
        200, ge=1, description="At most this many validation examples are generated for."
    )
    eval_max_new_tokens: int | None = Field(
        None, ge=1, description="Tokens generated per example; default longest reference + 16."
    )
    eval_batch_size: int = Field(8, ge=1, description="Prompts generated per batch.")

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str | None) -> str | None:
        if value is not None and not _NAME_RE.match(value):
            msg = f"adapter name {value!r} may hold only letters, digits, '_' and '-'"
            raise ValueError(msg)
        return value

    @field_validator("target_modules")
    @classmethod
    def _check_targets(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not [v for v in value if v.strip()]:
            msg = "target_modules is empty; leave it unset for the per-architecture default"
            raise ValueError(msg)
        return [v.strip() for v in value if v.strip()] if value is not None else None

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **overrides: object) -> TuneConfig:
        """Read a config from a JSON file; keyword overrides win over the file.

        Raises:
            ConfigError: The file is missing, not JSON, or holds invalid settings.
        """
        file = Path(path)
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            msg = (
                f"Cannot read tuning config {file}: {err}. Pass a JSON object of TuneConfig fields."
            )
            raise ConfigError(msg) from err
        return build_config({**data, **overrides})

    @property
    def resolved_learning_rate(self) -> float:
        """The learning rate used: the one given, or the method's default."""
        return self.learning_rate or DEFAULT_LEARNING_RATES[self.method]

    def adapter_name(self) -> str:
        """The adapter's name: the one given, or ``<base>-<method>-<data stem>`` made safe."""
        if self.name:
            return self.name
        raw = f"{Path(self.base).name}-{self.method}-{self.data.stem}"
        return re.sub(r"[^A-Za-z0-9_-]+", "-", raw).strip("-") or "adapter"


def build_config(settings: dict[str, object]) -> TuneConfig:
    """Validate settings into a :class:`TuneConfig`, turning pydantic errors into ConfigError.

    Raises:
        ConfigError: A field is unknown or invalid; the message names each one.
    """
    try:
        return TuneConfig(**settings)  # type: ignore[arg-type]
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        msg = f"Invalid tuning settings: {problems}. See `localchain tune --help`."
        raise ConfigError(msg) from err


__all__ = [
    "DEFAULT_LEARNING_RATES",
    "DEFAULT_TARGET_MODULES",
    "MLP_MODULES",
    "Method",
    "TuneConfig",
    "build_config",
]
