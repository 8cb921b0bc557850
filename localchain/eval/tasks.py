"""What the task evaluations share: gold sets (packaged, or a JSON file) and report output.

PAL and triple extraction are scored on JSON lists of items. The sets the project has always
used ship inside the package (``eval/data/``), so ``localchain eval --task pal`` works from a
wheel; a file of the same shape replaces them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from localchain.errors import ConfigError

T = TypeVar("T")
R = TypeVar("R")

DATA_DIR = Path(__file__).resolve().parent / "data"
"""The packaged gold sets: ``pal_problems.json`` and ``triples_gold.json``."""

Items = str | os.PathLike[str] | Sequence[Mapping[str, Any]]
"""A JSON file holding a list of items, or the items themselves."""

Echo = Callable[[str], None]
"""Where per-item progress lines go."""


def load_items(
    items: Items | None, *, default: str, required: Sequence[str]
) -> tuple[list[dict[str, Any]], str]:
    """The items and a label for the report, checked for the keys every item needs.

    Args:
        items: A JSON file, the items themselves, or None for the packaged ``default`` file.
        default: File name in :data:`DATA_DIR`.
        required: Keys each item must have.

    Raises:
        ConfigError: The file is missing or not a JSON list of objects, or an item lacks a key.
    """
    if items is None or isinstance(items, str | os.PathLike):
        path = DATA_DIR / default if items is None else Path(items).expanduser()
        if not path.is_file():
            msg = f"Evaluation set {path} does not exist; pass a JSON file with a list of items."
            raise ConfigError(msg)
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            msg = f"{path} is not valid JSON ({err.msg} at line {err.lineno}); fix the file."
            raise ConfigError(msg) from err
        label = str(path) if items is not None else f"{default} (packaged)"
    else:
        loaded, label = list(items), "items"
    if not isinstance(loaded, list):
        msg = f"{label} must hold a JSON list of items, got a {type(loaded).__name__}."
        raise ConfigError(msg)
    for index, item in enumerate(loaded):
        missing = [key for key in required if not isinstance(item, Mapping) or key not in item]
        if missing:
            msg = (
                f"{label}: item {index} lacks {', '.join(map(repr, missing))}; every item needs "
                f"{', '.join(map(repr, required))}."
            )
            raise ConfigError(msg)
    return [dict(item) for item in loaded], label


def map_items(fn: Callable[[int, T], R], items: Sequence[T], *, concurrency: int = 1) -> list[R]:
    """``[fn(i, item) for i, item in enumerate(items, 1)]``, on ``concurrency`` threads.

    Items run concurrently through one model (its scheduler batches them), so a set is scored
    faster; the results keep the items' order. Each item's own time then includes waiting for
    its batch, so compare per-item times only between runs of the same concurrency.
    """
    if concurrency <= 1 or len(items) <= 1:
        return [fn(index, item) for index, item in enumerate(items, 1)]
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="eval") as pool:
        futures = [pool.submit(fn, index, item) for index, item in enumerate(items, 1)]
        return [future.result() for future in futures]


def model_label(model: Any, adapter: str | None = None) -> str:
    """A short name for the model a chain runs on (a ``ChatLocal``'s model name + adapter)."""
    name = getattr(model, "model", None)
    label = name if isinstance(name, str) else type(model).__name__
    adapter = adapter or getattr(model, "adapter", None)
    return f"{label} + {adapter}" if isinstance(adapter, str) else label


def write_report(report: BaseModel, path: str | os.PathLike[str]) -> Path:
    """Write a report as indented JSON to ``path`` (parents created) and return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(report.model_dump_json(indent=2), encoding="utf-8")
    return target


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned plain-text columns."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    )


__all__ = ["DATA_DIR", "Echo", "Items", "format_table", "load_items", "model_label", "write_report"]
