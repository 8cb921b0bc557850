"""The transformers ``Trainer`` for a tuning run: step counts, precision, checkpoints, stopping.

Steps are sized from the data (``epochs``) unless ``max_steps`` is set; validation and
checkpoints run every ``eval_steps`` (a tenth of the run by default), the best checkpoint by
validation loss is loaded at the end, and mixed precision follows the device (bf16 where the
GPU has it, else fp16; fp32 on the CPU).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localchain.tuning.config import TuneConfig
from localchain.tuning.data import PadCollator

if TYPE_CHECKING:
    import torch

    from localchain.models.loading import LoadedModel


def build_trainer(
    config: TuneConfig,
    model: Any,
    loaded: LoadedModel,
    device: torch.device,
    train_rows: list[dict[str, list[int]]],
    val_rows: list[dict[str, list[int]]],
    checkpoints: Path,
) -> Any:
    """A transformers ``Trainer`` for the peft model on encoded rows.

    Args:
        config: The run's settings (batching, schedule, evaluation, checkpoints, progress).
        model: The trainable peft model.
        loaded: The shared base, for its pad token.
        device: Where training runs (picks mixed precision).
        train_rows: Encoded training records (``encode_examples``).
        val_rows: Encoded validation records; empty turns validation and early stopping off.
        checkpoints: Where checkpoints go (resumable with ``resume``).
    """
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
        train_sampling_strategy="group_by_length" if config.group_by_length else "random",
        report_to="none",
        disable_tqdm=not config.progress,
        remove_unused_columns=False,
        label_names=["labels"],
        dataloader_num_workers=0,
    )
    callbacks: list[Any] = []
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


class _RowDataset:
    """A list of encoded rows as a map-style dataset (no ``datasets`` dependency)."""

    def __init__(self, rows: list[dict[str, list[int]]]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> dict[str, list[int]]:
        return self.rows[index]


__all__ = ["build_trainer"]
