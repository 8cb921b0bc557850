"""Fine-tuning: LoRA, QLoRA and prompt tuning of local models, from jsonl to a served adapter.

>>> from localchain.tuning import tune
>>> result = tune(base="smollm2-135m-instruct", data="pairs.jsonl", method="lora")  # doctest: +SKIP
>>> result.name, result.report.table()  # doctest: +SKIP

Heavy modules (torch, transformers, peft) load on first use of a name. The record format
(``Example``, ``load_examples``, ``TEMPLATES``) lives in :mod:`localchain.datasets` and is
re-exported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from localchain._lazy import lazy_getattr

if TYPE_CHECKING:
    from localchain.datasets import TEMPLATES, Example, load_examples, split_examples
    from localchain.tuning.config import TuneConfig
    from localchain.tuning.plot import plot_losses
    from localchain.tuning.trainer import TuneResult, tune

_LAZY = {
    "TuneConfig": "localchain.tuning.config",
    "TEMPLATES": "localchain.datasets.templates",
    "Example": "localchain.datasets.records",
    "load_examples": "localchain.datasets.records",
    "split_examples": "localchain.datasets.records",
    "plot_losses": "localchain.tuning.plot",
    "TuneResult": "localchain.tuning.trainer",
    "tune": "localchain.tuning.trainer",
}

__all__ = [
    "TEMPLATES",
    "Example",
    "TuneConfig",
    "TuneResult",
    "load_examples",
    "plot_losses",
    "split_examples",
    "tune",
]


__getattr__ = lazy_getattr(__name__, _LAZY)
