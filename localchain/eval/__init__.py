"""Evaluation: jsonl sets (base vs base+adapter), PAL accuracy and triple extraction quality.

>>> from localchain.eval import evaluate
>>> report = evaluate("smollm2-135m-instruct", "test.jsonl", adapter="units")  # doctest: +SKIP
>>> print(report.table())  # doctest: +SKIP

:func:`evaluate` scores exact match, ROUGE and BLEU for a base model and base+adapter side by
side; :func:`evaluate_pal` and :func:`evaluate_triples` score the PAL and triple-extraction
chains on gold sets. Each returns a typed report with ``table()`` and ``write_json()``; the CLI
runs them as ``localchain eval --task jsonl|pal|triples``. Evaluation never imports tuning: the
example format comes from :mod:`localchain.datasets`. Names load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from localchain._lazy import lazy_getattr

if TYPE_CHECKING:
    from localchain.eval.metrics import bleu, exact_match, rouge, score
    from localchain.eval.pal import PALReport, evaluate_pal
    from localchain.eval.runner import EvalReport, EvalResult, evaluate
    from localchain.eval.triples import TripleScores, TriplesReport, evaluate_triples

_LAZY = {
    "bleu": "localchain.eval.metrics",
    "exact_match": "localchain.eval.metrics",
    "rouge": "localchain.eval.metrics",
    "score": "localchain.eval.metrics",
    "EvalReport": "localchain.eval.runner",
    "EvalResult": "localchain.eval.runner",
    "evaluate": "localchain.eval.runner",
    "PALReport": "localchain.eval.pal",
    "evaluate_pal": "localchain.eval.pal",
    "TripleScores": "localchain.eval.triples",
    "TriplesReport": "localchain.eval.triples",
    "evaluate_triples": "localchain.eval.triples",
}

__all__ = [
    "EvalReport",
    "EvalResult",
    "PALReport",
    "TripleScores",
    "TriplesReport",
    "bleu",
    "evaluate",
    "evaluate_pal",
    "evaluate_triples",
    "exact_match",
    "rouge",
    "score",
]

__getattr__ = lazy_getattr(__name__, _LAZY)
