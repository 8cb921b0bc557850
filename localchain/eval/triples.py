"""Triple extraction quality: micro-averaged precision, recall and F1 against a gold set.

>>> from localchain.eval.triples import evaluate_triples
>>> chain = TripleExtractionChain.from_model(ChatLocal(max_new_tokens=256))  # doctest: +SKIP
>>> print(evaluate_triples(chain).table())  # doctest: +SKIP

Items are ``{"text", "triples": [[subject, relation, object], ...][, "id"]}``. Two scores:
``strict`` needs the snake_case relation to match, ``pairs`` only the (subject, object) pair.
Names are compared normalised (:func:`~localchain.chains.triples.score_triples`). Without a
file, the packaged gold set is used. From the command line: ``localchain eval --task triples``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.exceptions import OutputParserException
from pydantic import BaseModel, Field, computed_field

from localchain.chains.triples import Triple, TripleExtractionChain, score_triples
from localchain.eval.tasks import (
    Echo,
    Items,
    format_table,
    load_items,
    map_items,
    model_label,
    write_report,
)

DEFAULT_GOLD = "triples_gold.json"
"""The packaged gold set, in ``localchain/eval/data``."""


class TripleScores(BaseModel):
    """Matches, counts and the precision/recall/F1 they give."""

    tp: int = 0
    """Predicted triples that are in the gold set."""
    predicted: int = 0
    gold: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def precision(self) -> float:
        """Share of predicted triples that are right."""
        return self.tp / self.predicted if self.predicted else 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def recall(self) -> float:
        """Share of gold triples that were found."""
        return self.tp / self.gold if self.gold else 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall (0 without a match)."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if self.tp else 0.0

    def __add__(self, other: TripleScores) -> TripleScores:
        """Sum the counts (micro-averaging)."""
        return TripleScores(
            tp=self.tp + other.tp,
            predicted=self.predicted + other.predicted,
            gold=self.gold + other.gold,
        )

    def summary(self) -> str:
        """``precision 0.50 (1/2), recall 0.33 (1/3), F1 0.40``."""
        return (
            f"precision {self.precision:.2f} ({self.tp}/{self.predicted}), "
            f"recall {self.recall:.2f} ({self.tp}/{self.gold}), F1 {self.f1:.2f}"
        )


class TriplesItemResult(BaseModel):
    """One text: the triples extracted and their scores."""

    id: int | str | None = None
    predicted: list[Triple] = Field(default_factory=list)
    strict: TripleScores
    pairs: TripleScores
    error: str | None = None
    """Why extraction failed (an off-schema reply), counted as no triples."""
    seconds: float


class TriplesReport(BaseModel):
    """Micro-averaged scores of a triple-extraction chain on a gold set."""

    model: str
    data: str
    seconds: float
    strict: TripleScores
    """Subject, relation and object must all match."""
    pairs: TripleScores
    """Only the (subject, object) pair must match."""
    results: list[TriplesItemResult] = Field(default_factory=list)

    def table(self) -> str:
        """One row per score (strict, pairs): counts, precision, recall, F1."""
        header = ("MATCH", "TP", "PREDICTED", "GOLD", "PRECISION", "RECALL", "F1")
        rows = [
            (name, str(s.tp), str(s.predicted), str(s.gold),
             f"{s.precision:.2f}", f"{s.recall:.2f}", f"{s.f1:.2f}")
            for name, s in (("strict", self.strict), ("pairs", self.pairs))
        ]  # fmt: skip
        failed = sum(r.error is not None for r in self.results)
        note = f"{len(self.results)} texts from {self.data} on {self.model}, {self.seconds:.0f} s"
        if failed:
            note += f"; {failed} failed to parse (scored as no triples)"
        return format_table(header, rows) + "\n" + note

    def write_json(self, path: str | os.PathLike[str]) -> Path:
        """Write the report (every text's triples included) as JSON and return the path."""
        return write_report(self, path)


def evaluate_triples(
    chain: TripleExtractionChain,
    items: Items | None = None,
    *,
    limit: int | None = None,
    echo: Echo | None = None,
    concurrency: int = 1,
) -> TriplesReport:
    """Extract triples from every text and score them against the gold ones.

    Args:
        chain: The extraction chain.
        items: A JSON gold file, the items themselves, or None for the packaged set.
        limit: Only the first ``limit`` texts.
        echo: Called with each text's triples as it finishes.
        concurrency: Texts run at once (one model, batched by its scheduler).

    Returns:
        The typed report; ``report.table()`` prints it.

    Raises:
        ConfigError: The gold file is missing or malformed.
    """
    gold_items, label = load_items(items, default=DEFAULT_GOLD, required=("text", "triples"))
    gold_items = gold_items[:limit] if limit is not None else gold_items
    started = time.monotonic()

    def one(_: int, item: dict[str, Any]) -> TriplesItemResult:
        t0 = time.monotonic()
        error = None
        try:
            predicted = chain.invoke({"text": item["text"]})
        except OutputParserException as err:
            predicted, error = [], str(err).splitlines()[0]
        result = TriplesItemResult(
            id=item.get("id"),
            predicted=predicted,
            strict=_scores(predicted, item["triples"], relation=True),
            pairs=_scores(predicted, item["triples"], relation=False),
            error=error,
            seconds=round(time.monotonic() - t0, 3),
        )
        if echo is not None:
            lines = [f"[{result.id}] {result.strict.summary()} ({result.seconds:.0f} s)"]
            lines += [f"    {t.subject} | {t.relation} | {t.object}" for t in predicted]
            lines += [f"    failed: {error}"] if error else []
            echo("\n".join(lines))  # one call: lines of concurrent items do not interleave
        return result

    results = map_items(one, gold_items, concurrency=concurrency)
    return TriplesReport(
        model=model_label(chain.model, chain.chain_model().adapter),
        data=label,
        seconds=round(time.monotonic() - started, 3),
        strict=sum((r.strict for r in results), TripleScores()),
        pairs=sum((r.pairs for r in results), TripleScores()),
        results=results,
    )


def _scores(predicted: list[Triple], gold: Sequence[Any], *, relation: bool) -> TripleScores:
    counts = score_triples(predicted, gold, relation=relation)
    return TripleScores(
        tp=int(counts["tp"]), predicted=int(counts["predicted"]), gold=int(counts["gold"])
    )


__all__ = [
    "DEFAULT_GOLD",
    "TripleScores",
    "TriplesItemResult",
    "TriplesReport",
    "evaluate_triples",
]
