"""The trainable model: a private copy of the base, wrapped by peft (LoRA, QLoRA, prompt tuning).

The shared loaded base keeps serving (and scoring) while this copy trains. LoRA targets default
to each architecture's attention projections (``config.DEFAULT_TARGET_MODULES``, then peft's own
table); explicit targets are checked against the model's linear layers.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from localchain.errors import ConfigError
from localchain.models.registry import model_class
from localchain.tuning.config import DEFAULT_TARGET_MODULES, MLP_MODULES, TuneConfig

if TYPE_CHECKING:
    import torch

    from localchain.models.loading import LoadedModel

TASK_TYPES = {"causal": "CAUSAL_LM", "seq2seq": "SEQ_2_SEQ_LM"}
"""peft's task type for each model kind."""


def build_peft_model(config: TuneConfig, loaded: LoadedModel, device: torch.device) -> Any:
    """A private trainable copy of the base (the shared one keeps serving), wrapped by peft.

    Args:
        config: The run's settings (method, LoRA shape or virtual tokens, seed, QLoRA).
        loaded: The shared loaded base: its files and kind.
        device: Where QLoRA puts the 4-bit base (the ``Trainer`` moves the others).

    Returns:
        A peft ``PeftModel`` with only the adapter's parameters trainable.

    Raises:
        ConfigError: LoRA target modules that are not linear layers of the base.
    """
    import torch
    from peft import LoraConfig, PromptTuningConfig, get_peft_model
    from transformers import set_seed

    set_seed(config.seed)
    kwargs: dict[str, Any] = {"local_files_only": True, "dtype": torch.float32}
    if config.method == "qlora":
        from localchain.models.quantization import bitsandbytes_config

        compute = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        kwargs["quantization_config"] = bitsandbytes_config("nf4", compute)
        kwargs["device_map"] = {"": int(os.environ.get("LOCAL_RANK", device.index or 0))}
    model = model_class(loaded.kind).from_pretrained(loaded.model_path, **kwargs)
    model.config.use_cache = False  # the cache is useless in training and fights checkpointing
    if config.method == "qlora":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=config.gradient_checkpointing
        )
    elif config.gradient_checkpointing:
        model.enable_input_require_grads()  # frozen embeddings: give checkpointing a grad path
    task_type = TASK_TYPES[loaded.kind]
    if config.method == "prompt-tuning":
        init: dict[str, Any] = {"prompt_tuning_init": "RANDOM"}
        if config.prompt_init_text:
            init = {
                "prompt_tuning_init": "TEXT",
                "prompt_tuning_init_text": config.prompt_init_text,
                "tokenizer_name_or_path": str(loaded.model_path),
            }
        peft_config: Any = PromptTuningConfig(
            task_type=task_type, num_virtual_tokens=config.num_virtual_tokens, **init
        )
    else:
        peft_config = LoraConfig(
            task_type=task_type,
            r=config.rank,
            lora_alpha=config.alpha,
            lora_dropout=config.dropout,
            target_modules=_target_modules(config, model),
            bias="none",
        )
    peft_model = get_peft_model(model, peft_config)
    peft_model.peft_config["default"].base_model_name_or_path = config.base
    return peft_model


def default_target_modules(model: Any, *, mlp: bool = False) -> list[str]:
    """LoRA target module names for a model's architecture (attention, plus MLP if asked).

    Raises:
        ConfigError: The architecture is not known; the message lists its linear layers.
    """
    model_type = getattr(model.config, "model_type", "")
    targets = list(DEFAULT_TARGET_MODULES.get(model_type, []))
    if not targets:
        from peft.utils import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as PEFT_TARGETS

        targets = list(PEFT_TARGETS.get(model_type, []))
    if not targets:
        msg = (
            f"No default LoRA target modules for model_type {model_type!r}; pass "
            f"--target-modules from its linear layers ({', '.join(linear_module_names(model))}) "
            "or 'all-linear'."
        )
        raise ConfigError(msg)
    if mlp:
        targets += [m for m in MLP_MODULES.get(model_type, []) if m not in targets]
    return targets


def linear_module_names(model: Any) -> list[str]:
    """The distinct last names of a model's linear-like layers (LoRA target candidates)."""
    names = set()
    for full_name, module in model.named_modules():
        kind = type(module).__name__
        if kind in ("Linear", "Conv1D") or kind.startswith("Linear"):
            names.add(full_name.rsplit(".", 1)[-1])
    return sorted(names)


def _target_modules(config: TuneConfig, model: Any) -> str | list[str]:
    if config.target_modules is None:
        return default_target_modules(model, mlp=config.lora_mlp)
    if config.target_modules == ["all-linear"]:
        return "all-linear"
    known = linear_module_names(model)
    missing = [t for t in config.target_modules if t not in known]
    if missing:
        msg = (
            f"LoRA target module(s) {', '.join(map(repr, missing))} are not linear layers of "
            f"{config.base!r}; its linear layers are {', '.join(known)} (or use 'all-linear')."
        )
        raise ConfigError(msg)
    return list(config.target_modules)


__all__ = ["TASK_TYPES", "build_peft_model", "default_target_modules", "linear_module_names"]
