"""The loss plot of a tuning run: train and validation loss against the optimizer step."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from localchain.errors import MissingDependencyError


def loss_curves(
    log_history: Sequence[dict[str, Any]],
) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    """Split a transformers ``Trainer.state.log_history`` into (train, validation) losses.

    Returns:
        Two lists of ``(step, loss)``: the logged training losses and the ``eval_loss`` values.
    """
    train = [(int(e["step"]), float(e["loss"])) for e in log_history if "loss" in e and "step" in e]
    val = [
        (int(e["step"]), float(e["eval_loss"]))
        for e in log_history
        if "eval_loss" in e and "step" in e
    ]
    return train, val


def plot_losses(
    log_history: Sequence[dict[str, Any]],
    path: str | os.PathLike[str],
    *,
    title: str = "Tuning loss",
) -> Path:
    """Draw train and validation loss to a PNG file.

    Args:
        log_history: ``Trainer.state.log_history`` (dicts with ``step`` and ``loss`` or
            ``eval_loss``).
        path: Where to write the PNG.
        title: The plot's title.

    Returns:
        The path written.

    Raises:
        MissingDependencyError: matplotlib is not installed.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display: render straight to a file
        from matplotlib import pyplot as plt
    except ImportError as err:
        msg = "The loss plot needs matplotlib: pip install 'matplotlib>=3.8,<4'."
        raise MissingDependencyError(msg) from err
    train, val = loss_curves(log_history)
    figure, axes = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    try:
        if train:
            axes.plot(
                *zip(*train, strict=True), label="train", marker="." if len(train) < 30 else None
            )
        if val:
            axes.plot(*zip(*val, strict=True), label="validation", marker="o")
        axes.set_xlabel("optimizer step")
        axes.set_ylabel("loss (completion tokens)")
        axes.set_title(title)
        axes.grid(alpha=0.3)
        if train or val:
            axes.legend()
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        figure.tight_layout()
        figure.savefig(target)
    finally:
        plt.close(figure)
    return target


__all__ = ["loss_curves", "plot_losses"]
