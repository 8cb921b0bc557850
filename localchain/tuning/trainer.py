"""Tune a local model with LoRA, QLoRA or prompt tuning, from a jsonl file to a served adapter.

:func:`tune` runs the whole pipeline, top to bottom: check the method against the device (before
any work), read and check the data (:mod:`localchain.datasets`), load the base, encode the
records (:mod:`localchain.tuning.data`), wrap a private copy of the base with peft
(:mod:`localchain.tuning.peft_model`), train it with the transformers ``Trainer``
(:mod:`localchain.tuning.hf_trainer`: gradient accumulation, lr schedule, mixed precision where
the device allows, checkpoints to resume from, early stopping on validation loss, a progress
bar), save the adapter with a ``localchain_adapter.json`` metadata file and a loss plot,
register it so ``ChatLocal(model=base, adapter=name)`` and ``localchain chat --adapter name``
use it at once, and score base and base+adapter on the validation examples in one
:func:`localchain.eval.evaluate` call.

It runs unchanged under ``accelerate launch`` (DDP): the ``Trainer`` picks the process group up
from the environment, and only the main process evaluates, saves and registers. FSDP works
through ``accelerate config`` the same way (LoRA weights are gathered when saving).

Prompt-tuning adapters are saved and scored but not registered: the adapter manager serves LoRA
only. Score them with ``localchain eval --adapter DIR`` (the decode loop puts their learned
embeddings before each prompt).
"""

from __future__ import annotations

import gc
import json
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
from localchain.datasets.records import Example, file_sha256, load_examples, split_examples
from localchain.errors import ConfigError, MissingDependencyError, UnsupportedOnDeviceError
from localchain.models.adapters import METADATA_FILE
from localchain.tuning.config import TuneConfig, build_config
from localchain.tuning.data import encode_examples
from localchain.tuning.hf_trainer import build_trainer
from localchain.tuning.peft_model import (
    build_peft_model,
    default_target_modules,
    linear_module_names,
)

if TYPE_CHECKING:
    import torch

    from localchain.eval.runner import EvalReport
    from localchain.models.loading import LoadedModel

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
        The adapter directory, metadata, loss history and base vs base+adapter report.

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
    from localchain.models.registry import resolve_model

    resolve_model(config.base)  # an unknown base fails before anything is written
    _prepare_output(config, output_dir, checkpoints)
    say(
        f"localchain tune: {len(train_examples)} training and {len(val_examples)} validation "
        f"examples; method {config.method} on {device}."
    )
    loaded = _load_base(config, device)
    train_rows, val_rows = (
        _encode(config, loaded, train_examples),
        _encode(config, loaded, val_examples),
    )

    model = build_peft_model(config, loaded, device)
    trainable, total = model.get_nb_trainable_parameters()
    say(
        f"Trainable parameters: {trainable:,} of {total:,} ({100 * trainable / total:.3f}%), "
        f"method {config.method}."
    )
    trainer = build_trainer(config, model, loaded, device, train_rows, val_rows, checkpoints)
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
    if os.environ.get("RANK", "0") != "0":  # only the main process plots, registers, scores
        return TuneResult(name, output_dir, {}, log_history)

    from localchain.tuning.plot import loss_curves, plot_losses

    train_losses, val_losses = loss_curves(log_history)
    plot_path = plot_losses(
        log_history, output_dir / PLOT_FILE, title=f"{name}: {config.method} on {loaded.name}"
    )
    registered = config.method in ("lora", "qlora")
    if registered:
        from localchain.models.adapters import register_adapter

        register_adapter(name, output_dir, base=config.base)
    report = None
    if config.evaluate and val_examples:
        report = _score(config, loaded, val_examples, name if registered else output_dir, say)
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


# -- steps, in the order tune() takes them ---------------------------------------------------


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
    """The shared loaded base: its tokenizer and files, and the model scored at the end."""
    from localchain.models.loading import load_model

    quantization = "nf4" if config.method == "qlora" else None
    return load_model(config.base, device=str(device), quantization=quantization)  # type: ignore[arg-type]


def _encode(
    config: TuneConfig, loaded: LoadedModel, examples: list[Example]
) -> list[dict[str, list[int]]]:
    """Token ids and labels, with prompts formatted exactly as ``ChatLocal`` formats them."""
    from localchain.models.chat_format import format_chat

    return encode_examples(
        examples,
        tokenizer=loaded.tokenizer,
        kind=loaded.kind,
        format_chat=lambda messages: format_chat(loaded.tokenizer, loaded.kind, messages),
        max_length=config.max_length or loaded.context_length,
        reserved=config.num_virtual_tokens if config.method == "prompt-tuning" else 0,
    )


def _score(
    config: TuneConfig,
    loaded: LoadedModel,
    val_examples: list[Example],
    adapter: str | Path,
    say: Callable[[str], None],
) -> EvalReport:
    """Base and base+adapter on the (first ``eval_limit``) validation examples, in one call."""
    from localchain.eval.runner import evaluate

    scored = val_examples[: config.eval_limit] if config.eval_limit else val_examples
    say(f"Scoring base and base+adapter on {len(scored)} validation examples...")
    return evaluate(
        loaded,
        scored,
        adapter=adapter,
        max_new_tokens=config.eval_max_new_tokens,
        batch_size=config.eval_batch_size,
        data_label=str(config.val_data or f"{config.data} (validation split)"),
    )


def _portable(path: str | os.PathLike[str]) -> str:
    """A data file's path as recorded in the metadata: relative to the working directory when
    it lies below it (so an adapter shipped in a repo names its data the same on every clone)."""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(resolved)


def _data_info(config: TuneConfig, train: list[Example], val: list[Example]) -> dict[str, Any]:
    info: dict[str, Any] = {
        "train_file": _portable(config.data),
        "train_sha256": file_sha256(config.data),
        "train_examples": len(train),
        "val_examples": len(val),
        "val_split": None if config.val_data else config.val_split,
        "template": config.template,
    }
    if config.val_data is not None:
        info["val_file"] = _portable(config.val_data)
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
