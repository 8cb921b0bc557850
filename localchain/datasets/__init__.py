"""Datasets: the example format that tuning trains on and evaluation scores on.

>>> from localchain.datasets import load_examples
>>> train = load_examples("pairs.jsonl", template="flan-qa")  # doctest: +SKIP

It sits below both ``localchain.tuning`` and ``localchain.eval``, so neither imports the
other for it. Names load on first use, like the other packages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from localchain._lazy import lazy_getattr

if TYPE_CHECKING:
    from localchain.datasets.records import (
        Example,
        file_sha256,
        load_examples,
        parse_record,
        split_examples,
    )
    from localchain.datasets.templates import TEMPLATES, resolve_template

_LAZY = {
    "Example": "localchain.datasets.records",
    "file_sha256": "localchain.datasets.records",
    "load_examples": "localchain.datasets.records",
    "parse_record": "localchain.datasets.records",
    "split_examples": "localchain.datasets.records",
    "TEMPLATES": "localchain.datasets.templates",
    "resolve_template": "localchain.datasets.templates",
}

__all__ = [
    "TEMPLATES",
    "Example",
    "file_sha256",
    "load_examples",
    "parse_record",
    "resolve_template",
    "split_examples",
]

__getattr__ = lazy_getattr(__name__, _LAZY)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
