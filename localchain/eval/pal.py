"""PAL accuracy: run a :class:`~localchain.chains.pal.PALChain` on problems with known answers.

>>> from localchain.eval.pal import evaluate_pal
>>> report = evaluate_pal(PALChain.from_model(ChatLocal(max_new_tokens=160)))  # doctest: +SKIP
>>> print(report.table())  # doctest: +SKIP

Problems are ``{"question", "answer"[, "task", "id"]}`` objects; a problem's ``task`` overrides
the chain's. Without a file, the packaged set (math, date and colored-objects problems) is used.
From the command line: ``localchain eval --task pal [--data FILE] [--base MODEL]``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, computed_field

from localchain.chains.pal import Answer, PALChain, answers_match
from localchain.eval.tasks import Echo, Items, format_table, load_items, model_label, write_report

DEFAULT_PROBLEMS = "pal_problems.json"
"""The packaged problem set, in ``localchain/eval/data``."""


class PALItemResult(BaseModel):
    """One problem: what was expected, what the chain answered, how it went."""

    id: int | str
    task: str
    question: str
    expected: Any
    answer: Answer = None
    ok: bool = Field(description="A program ran and returned an answer.")
    correct: bool = Field(description="The answer matches (numbers within 1e-6, text case-folded).")
    attempts: int
    error_type: str | None = None
    seconds: float


class PALReport(BaseModel):
    """Accuracy of a PAL chain on a problem set, per task and overall."""

    model: str
    """The model the chain ran on."""
    data: str
    """Where the problems came from."""
    seconds: float
    results: list[PALItemResult] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def n(self) -> int:
        """Problems scored."""
        return len(self.results)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def correct(self) -> int:
        """Problems answered correctly."""
        return sum(r.correct for r in self.results)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ran(self) -> int:
        """Problems where some program ran and returned an answer (right or wrong)."""
        return sum(r.ok for r in self.results)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def accuracy(self) -> float:
        """Share of problems answered correctly, in [0, 1]."""
        return self.correct / self.n if self.n else 0.0

    def table(self) -> str:
        """One row per task and one for all problems: count, correct, accuracy, programs ran."""
        tasks = sorted({r.task for r in self.results})
        rows = [_row(task, [r for r in self.results if r.task == task]) for task in tasks]
        rows.append(_row("all", self.results))
        header = ("TASK", "N", "CORRECT", "ACCURACY", "RAN")
        note = f"{self.n} problems from {self.data} on {self.model}, {self.seconds:.0f} s"
        return format_table(header, rows) + "\n" + note

    def write_json(self, path: str | os.PathLike[str]) -> Path:
        """Write the report (every problem included) as JSON and return the path."""
        return write_report(self, path)


def evaluate_pal(
    chain: PALChain,
    problems: Items | None = None,
    *,
    limit: int | None = None,
    echo: Echo | None = None,
) -> PALReport:
    """Run the chain on every problem and measure accuracy.

    Args:
        chain: The PAL chain; a problem's ``task`` overrides the chain's task.
        problems: A JSON file of problems, the problems themselves, or None for the packaged set.
        limit: Only the first ``limit`` problems.
        echo: Called with one line per problem as it finishes.

    Returns:
        The typed report; ``report.table()`` prints it.

    Raises:
        ConfigError: The problems file is missing or malformed.
    """
    items, label = load_items(problems, default=DEFAULT_PROBLEMS, required=("question", "answer"))
    items = items[:limit] if limit is not None else items
    started = time.monotonic()
    results = []
    for index, problem in enumerate(items, 1):
        runner = chain.model_copy(update={"task": problem.get("task", chain.task)})
        t0 = time.monotonic()
        result = runner.invoke({"question": problem["question"]})
        item = PALItemResult(
            id=problem.get("id", index),
            task=runner.task,
            question=problem["question"],
            expected=problem["answer"],
            answer=result.answer,
            ok=result.ok,
            correct=result.ok and answers_match(result.answer, problem["answer"]),
            attempts=len(result.attempts),
            error_type=result.error_type,
            seconds=round(time.monotonic() - t0, 3),
        )
        results.append(item)
        if echo is not None:
            mark = "correct" if item.correct else "wrong"
            echo(
                f"[{index}/{len(items)}] {mark:7} answer={item.answer!r} "
                f"expected={item.expected!r} attempts={item.attempts} "
                f"error={item.error_type} ({item.seconds:.1f} s)"
            )
    return PALReport(
        model=model_label(chain.model),
        data=label,
        seconds=round(time.monotonic() - started, 3),
        results=results,
    )


def _row(name: str, results: list[PALItemResult]) -> tuple[str, ...]:
    n, correct = len(results), sum(r.correct for r in results)
    accuracy = f"{correct / n:.1%}" if n else "-"
    return name, str(n), str(correct), accuracy, str(sum(r.ok for r in results))


__all__ = ["DEFAULT_PROBLEMS", "PALItemResult", "PALReport", "evaluate_pal"]
