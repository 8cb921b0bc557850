"""Tune a local model with LoRA, QLoRA or prompt tuning, from a jsonl file to a served adapter.

:func:`tune` runs the whole pipeline: check the method against the device (before any work),
read and check the data, load the base, score it on the validation split, train a peft adapter
with the transformers ``Trainer`` (gradient accumulation, lr schedule, mixed precision where the
device allows, checkpoints to resume from, early stopping on validation loss, a progress bar),
save the adapter with a ``localchain_adapter.json`` metadata file and a loss plot, register it so
``ChatLocal(model=base, adapter=name)`` and ``localchain chat --adapter name`` use it at once,
and score base+adapter on the same validation examples.

It runs unchanged under ``accelerate launch`` (DDP): the ``Trainer`` picks the process group up
from the environment, and only the main process evaluates, saves and registers. FSDP works
through ``accelerate config`` the same way (LoRA weights are gathered when saving).

Prompt-tuning adapters are saved and scored but not registered: the adapter manager serves LoRA
only. Score them with ``localchain eval --adapter DIR`` (a peft ``PeftModel`` copy of the base).
"""

from __future__ import annotations

import gc
import json
import math
import os
import shutil
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localchain._cache import cache_dir
from localchain.errors import ConfigError, MissingDependencyError, UnsupportedOnDeviceError
from localchain.tuning.config import DEFAULT_TARGET_MODULES, MLP_MODULES, TuneConfig, build_config
from localchain.tuning.data import (
    Example,
    PadCollator,
    encode_examples,
    file_sha256,
    load_examples,
    split_examples,
)

if TYPE_CHECKING:
    import torch

    from localchain.eval.runner import EvalReport
    from localchain.models.loading import LoadedModel

METADATA_FILE = "localchain_adapter.json"
PLOT_FILE = "loss.png"
EVAL_JSON_FILE = "eval.json"
CHECKPOINT_DIR = "checkpoints"
_OWN_FILES = (
    "adapter_config.json",
    "adapter_model.safetensors",
    "adapter_model.bin",
    "README.md",
    METADATA_FILE,
    PLOT_FILE,
    EVAL_JSON_FILE,
)
_TASK_TYPES = {"causal": "CAUSAL_LM", "seq2seq": "SEQ_2_SEQ_LM"}


@dataclass
class TuneResult:
    """What a tuning run produced."""

    name: str
    adapter_dir: Path
    metadata: dict[str, Any]
    log_history: list[dict[str, Any]] = field(default_factory=list)
    train_losses: list[tuple[int, float]] = field(default_factory=list)
    """``(step, loss)`` of every logged training loss."""
    val_losses: list[tuple[int, float]] = field(default_factory=list)
    report: EvalReport | None = None
    """Base vs base+adapter on the validation examples (None with ``evaluate=False``)."""
    plot_path: Path | None = None
    registered: bool = False
    """Whether ``register_adapter`` recorded it (LoRA and QLoRA; not prompt tuning)."""


def tune(
    config: TuneConfig | None = None,
    *,
    echo: Callable[[str], None] | None = None,
    **settings: Any,
) -> TuneResult:
    """Train an adapter for a local base model on a jsonl file, save, register and score it.

    Args:
        config: The run's settings; or pass :class:`TuneConfig` fields as keywords.
        echo: Where progress lines go (default: stderr; silent when ``config.progress`` is
            False).
        **settings: :class:`TuneConfig` fields, used when ``config`` is None.

    Returns:
        The adapter directory, metadata, loss history and before/after report.

    Raises:
        UnsupportedOnDeviceError: QLoRA or fp16 off CUDA (checked before anything is loaded).
        MissingDependencyError: QLoRA without bitsandbytes.
        ConfigError: Bad data (the message names the line) or settings.
        ContextLengthError: A record does not fit the model's context (naming the line).
    """
    if config is None:
        config = build_config(settings)
    elif settings:
        config = build_config({**config.model_dump(), **settings})
    say = echo or (_stderr if config.progress else _silent)
    device = check_device(config)
    train_examples, val_examples = _load_data(config)
    name = config.adapter_name()
    output_dir = (config.output_dir or cache_dir("adapters") / name).expanduser().resolve()
    checkpoints = output_dir / CHECKPOINT_DIR
    _prepare_output(config, output_dir, checkpoints)
    say(
        f"localchain tune: {len(train_examples)} training and {len(val_examples)} validation "
        f"examples; method {config.method} on {device}."
    )
    loaded = _load_base(config, device)
    max_length = config.max_length or loaded.context_length
    reserved = config.num_virtual_tokens if config.method == "prompt-tuning" else 0
    format_chat = _format_chat(loaded)

    def encode(examples: list[Example]) -> list[dict[str, list[int]]]:
        return encode_examples(
            examples,
            tokenizer=loaded.tokenizer,
            kind=loaded.kind,
            format_chat=format_chat,
            max_length=max_length,
            reserved=reserved,
        )

    train_rows, val_rows = encode(train_examples), encode(val_examples)

    main_process = os.environ.get("RANK", "0") == "0"
    scored = val_examples[: config.eval_limit] if config.eval_limit else val_examples
    before = None
    max_new_tokens = config.eval_max_new_tokens or _default_max_new(loaded, scored)
    if config.evaluate and scored and main_process:
        from localchain.eval.runner import evaluate

        say(f"Scoring the base model on {len(scored)} validation examples...")
        before = evaluate(
            loaded, scored, max_new_tokens=max_new_tokens, batch_size=config.eval_batch_size
        )

    model = _build_peft_model(config, loaded, device)
    trainable, total = model.get_nb_trainable_parameters()
    say(
        f"Trainable parameters: {trainable:,} of {total:,} ({100 * trainable / total:.3f}%), "
        f"method {config.method}."
    )
    trainer = _build_trainer(config, model, loaded, device, train_rows, val_rows, checkpoints)
    started = time.perf_counter()
    with warnings.catch_warnings():
        # Checkpoint saves make peft look the base up by name to see if the vocabulary grew;
        # it never does here, and a registry name is not a path, so peft warns each time.
        warnings.filterwarnings("ignore", message="Could not find a config file")
        output = trainer.train(resume_from_checkpoint=True if config.resume else None)
    seconds = time.perf_counter() - started
    log_history = list(trainer.state.log_history)
    best_metric = trainer.state.best_metric
    steps = int(trainer.state.global_step)
    if trainer.is_world_process_zero():
        # Embeddings are never trained here; saying so skips peft's look-up of the base by name.
        model.save_pretrained(str(output_dir), save_embedding_layers=False)
    del trainer, model
    gc.collect()
    if not main_process:
        return TuneResult(name, output_dir, {}, log_history)

    from localchain.tuning.plot import loss_curves, plot_losses

    train_losses, val_losses = loss_curves(log_history)
    plot_path = plot_losses(
        log_history, output_dir / PLOT_FILE, title=f"{name}: {config.method} on {loaded.name}"
    )
    registered = False
    if config.method in ("lora", "qlora"):
        from localchain.models.adapters import register_adapter

        register_adapter(name, output_dir, base=config.base)
        registered = True

    report = None
    if before is not None:
        from localchain.eval.runner import EvalReport, evaluate

        say("Scoring base+adapter on the same validation examples...")
        after = evaluate(
            loaded,
            scored,
            adapter=name if registered else output_dir,
            include_base=False,
            max_new_tokens=max_new_tokens,
            batch_size=config.eval_batch_size,
        )
        report = EvalReport(
            base=loaded.name,
            data=str(config.val_data or f"{config.data} (validation split)"),
            n_examples=len(scored),
            results=[before.results[0], after.results[0]],
            prompts=before.prompts,
            references=before.references,
            max_new_tokens=max_new_tokens,
        )
        report.write_json(output_dir / EVAL_JSON_FILE)

    metadata = {
        "name": name,
        "base": config.base,
        "base_resolved": loaded.name,
        "base_path": str(loaded.model_path),
        "kind": loaded.kind,
        "method": config.method,
        "peft_type": "PROMPT_TUNING" if config.method == "prompt-tuning" else "LORA",
        "data": _data_info(config, train_examples, val_examples),
        "metrics": {
            "train_loss": float(output.training_loss),
            "first_train_loss": train_losses[0][1] if train_losses else None,
            "last_train_loss": train_losses[-1][1] if train_losses else None,
            "best_val_loss": float(best_metric) if best_metric is not None else None,
            "last_val_loss": val_losses[-1][1] if val_losses else None,
            "eval": report.to_dict(with_outputs=False)["metrics"] if report else None,
        },
        "parameters": {"trainable": int(trainable), "total": int(total)},
        "steps": steps,
        "training_time_s": round(seconds, 2),
        "seconds_per_step": round(seconds / max(1, steps), 3),
        "device": str(device),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": config.model_dump(mode="json"),
        "versions": _versions(),
    }
    (output_dir / METADATA_FILE).write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    if not config.keep_checkpoints:
        shutil.rmtree(checkpoints, ignore_errors=True)

    say(f"Adapter {name!r} saved to {output_dir} ({steps} steps, {seconds:.1f} s).")
    if report is not None:
        say(report.table())
    say(f"Loss plot: {plot_path}")
    if registered:
        say(f"Use it: localchain chat --model {config.base} --adapter {name}")
    else:
        say(f"Score it: localchain eval --base {config.base} --adapter {output_dir} --data FILE")
    return TuneResult(
        name=name,
        adapter_dir=output_dir,
        metadata=metadata,
        log_history=log_history,
        train_losses=train_losses,
        val_losses=val_losses,
        report=report,
        plot_path=plot_path,
        registered=registered,
    )


def check_device(config: TuneConfig) -> torch.device:
    """Check the method and precision against the device, before anything is loaded.

    Raises:
        UnsupportedOnDeviceError: QLoRA off CUDA, fp16 off CUDA, or bf16 on a GPU without it.
        MissingDependencyError: QLoRA without bitsandbytes installed.
    """
    import importlib.util

    import torch

    from localchain.models.loading import resolve_device

    device = resolve_device(config.device)
    if config.method == "qlora":
        if device.type != "cuda":
            msg = (
                f"QLoRA trains LoRA on a 4-bit NF4 base through bitsandbytes, which needs a CUDA "
                f"GPU; this run is on {device.type} (torch.cuda.is_available() is "
                f"{torch.cuda.is_available()}). Use --method lora (same adapter format, full "
                "precision base) here, or run on a machine with a CUDA GPU."
            )
            raise UnsupportedOnDeviceError(msg)
        if importlib.util.find_spec("bitsandbytes") is None:
            msg = (
                "QLoRA needs bitsandbytes for the 4-bit base: pip install 'localchain[gpu]' "
                "(or 'bitsandbytes>=0.45,<1')."
            )
            raise MissingDependencyError(msg)
    if config.precision == "fp16" and device.type != "cuda":
        msg = f"precision='fp16' needs a CUDA GPU; on {device.type} use 'fp32' or 'auto'."
        raise UnsupportedOnDeviceError(msg)
    if config.precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        msg = "This GPU has no bf16 support; use precision='fp16' or 'auto'."
        raise UnsupportedOnDeviceError(msg)
    return device


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


# -- steps ---------------------------------------------------------------------------------


def _prepare_output(config: TuneConfig, output_dir: Path, checkpoints: Path) -> None:
    has_adapter = (output_dir / "adapter_config.json").is_file()
    has_checkpoint = checkpoints.is_dir() and any(checkpoints.glob("checkpoint-*"))
    if config.resume:
        if not has_checkpoint:
            msg = (
                f"resume=True but {checkpoints} holds no checkpoint to resume from; run without "
                "--resume (checkpoints are kept while a run is in progress or with "
                "keep_checkpoints=True)."
            )
            raise ConfigError(msg)
        return
    if (has_adapter or has_checkpoint) and not config.overwrite:
        msg = (
            f"{output_dir} already holds an adapter or checkpoints; pass --overwrite to replace "
            "it, --resume to continue an interrupted run, or choose another --name/--output."
        )
        raise ConfigError(msg)
    # Delete only what a run writes: output_dir may be a directory the user cares about.
    for file_name in _OWN_FILES:
        (output_dir / file_name).unlink(missing_ok=True)
    shutil.rmtree(checkpoints, ignore_errors=True)
    output_dir.mkdir(parents=True, exist_ok=True)


def _load_data(config: TuneConfig) -> tuple[list[Example], list[Example]]:
    examples = load_examples(config.data, template=config.template, system=config.system)
    if config.val_data is not None:
        val = load_examples(config.val_data, template=config.template, system=config.system)
        return examples, val
    return split_examples(examples, config.val_split, seed=config.seed)


def _load_base(config: TuneConfig, device: torch.device) -> LoadedModel:
    """The shared loaded base: its tokenizer and files, and the model scored before/after."""
    from localchain.models.loading import load_model

    quantization = "nf4" if config.method == "qlora" else None
    return load_model(config.base, device=str(device), quantization=quantization)  # type: ignore[arg-type]


def _format_chat(loaded: LoadedModel) -> Callable[[list[dict[str, str]]], str]:
    from localchain.models.engines.transformers import TransformersEngine

    return TransformersEngine(loaded).format_chat


def _default_max_new(loaded: LoadedModel, examples: list[Example]) -> int:
    if not examples:
        return 64
    lengths = [
        len(loaded.tokenizer(e.completion, add_special_tokens=False)["input_ids"]) for e in examples
    ]
    return max(lengths) + 16


def _build_peft_model(config: TuneConfig, loaded: LoadedModel, device: torch.device) -> Any:
    """A private trainable copy of the base (the shared one keeps serving), wrapped by peft."""
    import torch
    from peft import LoraConfig, PromptTuningConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, set_seed

    set_seed(config.seed)
    auto_cls = AutoModelForSeq2SeqLM if loaded.kind == "seq2seq" else AutoModelForCausalLM
    kwargs: dict[str, Any] = {"local_files_only": True, "dtype": torch.float32}
    if config.method == "qlora":
        from localchain.models.quantization import bitsandbytes_config

        compute = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        kwargs["quantization_config"] = bitsandbytes_config("nf4", compute)
        kwargs["device_map"] = {"": int(os.environ.get("LOCAL_RANK", device.index or 0))}
    model = auto_cls.from_pretrained(loaded.model_path, **kwargs)
    model.config.use_cache = False  # the cache is useless in training and fights checkpointing
    if config.method == "qlora":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=config.gradient_checkpointing
        )
    elif config.gradient_checkpointing:
        model.enable_input_require_grads()  # frozen embeddings: give checkpointing a grad path
    task_type = _TASK_TYPES[loaded.kind]
    if config.method == "prompt-tuning":
        init = {"prompt_tuning_init": "RANDOM"}
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
        targets = _target_modules(config, model)
        peft_config = LoraConfig(
            task_type=task_type,
            r=config.rank,
            lora_alpha=config.alpha,
            lora_dropout=config.dropout,
            target_modules=targets,
            bias="none",
        )
    peft_model = get_peft_model(model, peft_config)
    peft_model.peft_config["default"].base_model_name_or_path = config.base
    return peft_model


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


class _RowDataset:
    """A list of encoded rows as a map-style dataset (no ``datasets`` dependency)."""

    def __init__(self, rows: list[dict[str, list[int]]]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> dict[str, list[int]]:
        return self.rows[index]


def _build_trainer(
    config: TuneConfig,
    model: Any,
    loaded: LoadedModel,
    device: torch.device,
    train_rows: list[dict[str, list[int]]],
    val_rows: list[dict[str, list[int]]],
    checkpoints: Path,
) -> Any:
    import torch
    from transformers import (
        EarlyStoppingCallback,
        PrinterCallback,
        ProgressCallback,
        Trainer,
        TrainingArguments,
    )

    world = int(os.environ.get("WORLD_SIZE", "1"))
    per_step = config.batch_size * config.grad_accum * world
    total_steps = config.max_steps or max(1, math.ceil(len(train_rows) / per_step * config.epochs))
    eval_steps = config.eval_steps or max(1, total_steps // 10)
    logging_steps = config.logging_steps or max(1, min(eval_steps, total_steps // 50))
    use_val = bool(val_rows)
    bf16 = fp16 = False
    if config.precision == "bf16" or (
        config.precision == "auto" and device.type == "cuda" and torch.cuda.is_bf16_supported()
    ):
        bf16 = True
    elif config.precision == "fp16" or (config.precision == "auto" and device.type == "cuda"):
        fp16 = True
    args = TrainingArguments(
        output_dir=str(checkpoints),
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps or -1,
        learning_rate=config.resolved_learning_rate,
        lr_scheduler_type=config.lr_scheduler,
        warmup_steps=config.warmup_ratio,
        weight_decay=config.weight_decay,
        logging_steps=logging_steps,
        logging_first_step=True,
        eval_strategy="steps" if use_val else "no",
        eval_steps=eval_steps if use_val else None,
        save_strategy="steps",
        save_steps=eval_steps,
        save_total_limit=config.save_total_limit,
        load_best_model_at_end=use_val,
        metric_for_best_model="eval_loss" if use_val else None,
        greater_is_better=False if use_val else None,
        seed=config.seed,
        bf16=bf16,
        fp16=fp16,
        use_cpu=device.type == "cpu",
        activation_checkpointing=config.gradient_checkpointing,
        report_to="none",
        disable_tqdm=not config.progress,
        remove_unused_columns=False,
        label_names=["labels"],
        dataloader_num_workers=0,
    )
    callbacks = []
    if use_val and config.early_stopping_patience:
        callbacks.append(
            EarlyStoppingCallback(early_stopping_patience=config.early_stopping_patience)
        )
    pad = loaded.tokenizer.pad_token_id
    trainer = Trainer(
        model=model,
        args=args,
        data_collator=PadCollator(int(pad if pad is not None else loaded.eos_token_ids[0])),
        train_dataset=_RowDataset(train_rows),
        eval_dataset=_RowDataset(val_rows) if use_val else None,
        callbacks=callbacks,
    )
    if not config.progress:  # no bar, and no log dicts printed in its place
        trainer.remove_callback(PrinterCallback)
        trainer.remove_callback(ProgressCallback)
    return trainer


def _data_info(config: TuneConfig, train: list[Example], val: list[Example]) -> dict[str, Any]:
    info: dict[str, Any] = {
        "train_file": str(Path(config.data).resolve()),
        "train_sha256": file_sha256(config.data),
        "train_examples": len(train),
        "val_examples": len(val),
        "val_split": None if config.val_data else config.val_split,
        "template": config.template,
    }
    if config.val_data is not None:
        info["val_file"] = str(Path(config.val_data).resolve())
        info["val_sha256"] = file_sha256(config.val_data)
    return info


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in ("localchain", "torch", "transformers", "peft"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    return found


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)  # noqa: T201 - the run's progress report


def _silent(line: str) -> None:
    del line


__all__ = [
    "METADATA_FILE",
    "TuneResult",
    "check_device",
    "default_target_modules",
    "linear_module_names",
    "tune",
]
