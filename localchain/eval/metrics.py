"""Text-generation metrics: exact match, ROUGE-1/2/L (rouge-score) and BLEU (sacrebleu).

Conventions: exact match and ROUGE F1 lie in [0, 1]; BLEU lies in [0, 100], as sacrebleu
reports it. BLEU is corpus-level with sacrebleu's default tokenizer and effective n-gram
order, so short answers (fewer than four words) still score 100 when they match.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from localchain.errors import ConfigError, MissingDependencyError

METRICS = ("exact_match", "rouge1", "rouge2", "rougeL", "bleu")
"""The metric names :func:`score` returns, in table order."""


def normalize(text: str) -> str:
    """Lower-case and collapse whitespace (what exact match compares)."""
    return re.sub(r"\s+", " ", text).strip().lower()


def exact_match(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Share of predictions equal to their reference after :func:`normalize`."""
    _check_pairs(predictions, references)
    if not predictions:
        return 0.0
    hits = sum(normalize(p) == normalize(r) for p, r in zip(predictions, references, strict=True))
    return hits / len(predictions)


def rouge(predictions: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """Mean ROUGE-1, ROUGE-2 and ROUGE-L F1 over the pairs, each in [0, 1].

    Raises:
        MissingDependencyError: rouge-score is not installed.
    """
    _check_pairs(predictions, references)
    try:
        from rouge_score import rouge_scorer
    except ImportError as err:
        msg = "ROUGE needs the 'rouge-score' package: pip install 'rouge-score>=0.1.2'."
        raise MissingDependencyError(msg) from err
    keys = ("rouge1", "rouge2", "rougeL")
    scorer = rouge_scorer.RougeScorer(list(keys))
    totals = dict.fromkeys(keys, 0.0)
    for prediction, reference in zip(predictions, references, strict=True):
        scores = scorer.score(reference, prediction)
        for key in keys:
            totals[key] += scores[key].fmeasure
    n = max(1, len(predictions))
    return {key: totals[key] / n for key in keys}


def bleu(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Corpus BLEU in [0, 100] (sacrebleu, effective n-gram order).

    Raises:
        MissingDependencyError: sacrebleu is not installed.
    """
    _check_pairs(predictions, references)
    try:
        import sacrebleu
    except ImportError as err:
        msg = "BLEU needs the 'sacrebleu' package: pip install 'sacrebleu>=2.4,<3'."
        raise MissingDependencyError(msg) from err
    if not predictions:
        return 0.0
    result = sacrebleu.corpus_bleu(list(predictions), [list(references)], use_effective_order=True)
    return float(result.score)


def score(predictions: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """All of :data:`METRICS` for one set of predictions.

    Args:
        predictions: Generated texts.
        references: The expected texts, one per prediction.

    Raises:
        ConfigError: The two lists differ in length.
    """
    return {
        "exact_match": exact_match(predictions, references),
        **rouge(predictions, references),
        "bleu": bleu(predictions, references),
    }


def _check_pairs(predictions: Sequence[str], references: Sequence[str]) -> None:
    if len(predictions) != len(references):
        msg = (
            f"Got {len(predictions)} predictions for {len(references)} references; "
            "pass one prediction per reference."
        )
        raise ConfigError(msg)


__all__ = ["METRICS", "bleu", "exact_match", "normalize", "rouge", "score"]
