"""Evaluation: exact match, ROUGE and BLEU for a base model and base+adapter side by side.

>>> from localchain.eval import evaluate
>>> report = evaluate("smollm2-135m-instruct", "test.jsonl", adapter="units")  # doctest: +SKIP
>>> print(report.table())  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from localchain.eval.metrics import bleu, exact_match, rouge, score
    from localchain.eval.runner import EvalReport, EvalResult, evaluate

_LAZY = {
    "bleu": "localchain.eval.metrics",
    "exact_match": "localchain.eval.metrics",
    "rouge": "localchain.eval.metrics",
    "score": "localchain.eval.metrics",
    "EvalReport": "localchain.eval.runner",
    "EvalResult": "localchain.eval.runner",
    "evaluate": "localchain.eval.runner",
}

__all__ = ["EvalReport", "EvalResult", "bleu", "evaluate", "exact_match", "rouge", "score"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'localchain.eval' has no attribute {name!r}"
        raise AttributeError(msg)
    return getattr(importlib.import_module(module), name)
