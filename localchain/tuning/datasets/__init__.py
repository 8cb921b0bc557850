"""Training-data generators for the task adapters the chains use (PAL and triple extraction).

>>> from localchain.tuning.datasets import make_pal_dataset, make_triples_dataset
>>> make_pal_dataset("build/pal")  # doctest: +SKIP
>>> make_triples_dataset("build/triples")  # doctest: +SKIP

From the command line: ``python -m localchain.tuning.datasets pal --output build/pal`` (or
``triples``); ``make pal-data`` and ``make triples-data`` run it. Records are chat records in
exactly the format the chains send (see :mod:`localchain.tuning.datasets.rendering`), and each
generator writes a held-out test set whose templates and phrasings never occur in training.
Names load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from localchain._lazy import lazy_getattr

if TYPE_CHECKING:
    from localchain.tuning.datasets.pal import PALProblem, generate_problems, make_pal_dataset
    from localchain.tuning.datasets.triples import (
        Passage,
        generate_passages,
        make_triples_dataset,
    )

_LAZY = {
    "PALProblem": "localchain.tuning.datasets.pal",
    "generate_problems": "localchain.tuning.datasets.pal",
    "make_pal_dataset": "localchain.tuning.datasets.pal",
    "Passage": "localchain.tuning.datasets.triples",
    "generate_passages": "localchain.tuning.datasets.triples",
    "make_triples_dataset": "localchain.tuning.datasets.triples",
}

__all__ = [
    "PALProblem",
    "Passage",
    "generate_passages",
    "generate_problems",
    "make_pal_dataset",
    "make_triples_dataset",
]

__getattr__ = lazy_getattr(__name__, _LAZY)
