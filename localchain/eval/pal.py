"""PAL accuracy: run a :class:`~localchain.chains.pal.PALChain` on problems with known answers.

>>> from localchain.eval.pal import evaluate_pal
>>> report = evaluate_pal(PALChain.from_model(ChatLocal(max_new_tokens=160)))  # doctest: +SKIP
>>> print(report.table())  # doctest: +SKIP

Problems are ``{"question", "answer"[, "task", "id"]}`` objects; a problem's ``task`` overrides
the chain's. Without a file, the packaged set (math, date and colored-objects problems) is used.
:func:`evaluate_direct` is the baseline without code: the same model asked for the answer
itself. From the command line: ``localchain eval --task pal [--data FILE] [--base MODEL]
[--adapter NAME] [--direct]``.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseLanguageModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field, computed_field

from localchain.chains.pal import Answer, PALChain, answers_match
from localchain.eval.tasks import (
    Echo,
    Items,
    format_table,
    load_items,
    map_items,
    model_label,
    write_report,
)

DEFAULT_PROBLEMS = "pal_problems.json"
"""The packaged problem set, in ``localchain/eval/data``."""

DIRECT_SYSTEM = (
    "Answer the question with the final answer only: a number, a date in MM/DD/YYYY, a color or "
    "a word. Do not explain and do not write code."
)
"""The system prompt of the direct-answer baseline (no program, no few-shot examples)."""

_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b")


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
        per = self.seconds / self.n if self.n else 0.0
        note = (
            f"{self.n} problems from {self.data} on {self.model}, {self.seconds:.0f} s "
            f"({per:.1f} s per problem)"
        )
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
    concurrency: int = 1,
) -> PALReport:
    """Run the chain on every problem and measure accuracy.

    Args:
        chain: The PAL chain; a problem's ``task`` overrides the chain's task.
        problems: A JSON file of problems, the problems themselves, or None for the packaged set.
        limit: Only the first ``limit`` problems.
        echo: Called with one line per problem as it finishes.
        concurrency: Problems run at once (one model, batched by its scheduler).

    Returns:
        The typed report; ``report.table()`` prints it.

    Raises:
        ConfigError: The problems file is missing or malformed.
    """

    def ask(problem: dict[str, Any]) -> tuple[Answer, int, str | None]:
        runner = chain.model_copy(update={"task": problem.get("task", chain.task)})
        result = runner.invoke({"question": problem["question"]})
        answer = result.answer if result.ok else None
        return answer, len(result.attempts), result.error_type

    label = model_label(chain.model, chain.chain_model().adapter)
    if chain.samples > 1:
        label += f" (self-consistency, {chain.samples} samples)"
    return _score(
        ask, problems, label, task=chain.task, limit=limit, echo=echo, concurrency=concurrency
    )


def build_direct_messages(question: str) -> list[BaseMessage]:
    """The direct-answer prompt: :data:`DIRECT_SYSTEM`, then the question as PALChain asks it."""
    return [SystemMessage(DIRECT_SYSTEM), HumanMessage(f"Question: {question.strip()}")]


def parse_direct_answer(reply: str, task: str) -> Answer:
    """The answer in a direct reply: a date for date questions, else the last number, else a word.

    Numbers lose thousands separators (``"1,200"`` is 1200); without a number, the last word of
    the first line is taken (``"The cup is blue."`` gives "blue"). None for an empty reply.
    """
    text = reply.strip()
    if task == "date":
        dates = _DATE.findall(text)
        return dates[0] if dates else None
    numbers = _NUMBER.findall(text)
    if numbers:
        value = float(numbers[-1].replace(",", ""))
        return int(value) if value.is_integer() else value
    words = text.splitlines()[0].split() if text else []
    return words[-1].strip(".,;:!?\"'`*()") if words else None


def evaluate_direct(
    model: BaseLanguageModel[Any],
    problems: Items | None = None,
    *,
    limit: int | None = None,
    echo: Echo | None = None,
    concurrency: int = 1,
) -> PALReport:
    """Direct answering without code: the baseline PAL is measured against.

    The model gets :func:`build_direct_messages` (no program, no examples) and its reply is
    read by :func:`parse_direct_answer`; scoring is PAL's (:func:`answers_match`).

    Args:
        model: The chat model (the same one, and adapter, the PAL chain runs on).
        problems: A JSON file of problems, the problems, or None for the packaged set.
        limit: Only the first ``limit`` problems.
        echo: Called with one line per problem as it finishes.
        concurrency: Problems run at once.

    Raises:
        ConfigError: The problems file is missing or malformed.
    """

    def ask(problem: dict[str, Any]) -> tuple[Answer, int, str | None]:
        reply = model.invoke(build_direct_messages(problem["question"]))
        text = reply.text if isinstance(reply, BaseMessage) else str(reply)
        return parse_direct_answer(text, problem.get("task", "math")), 1, None

    label = f"{model_label(model)} (direct)"
    return _score(
        ask, problems, label, task="math", limit=limit, echo=echo, concurrency=concurrency
    )


def _score(
    ask: Callable[[dict[str, Any]], tuple[Answer, int, str | None]],
    problems: Items | None,
    label: str,
    *,
    task: str,
    limit: int | None,
    echo: Echo | None,
    concurrency: int = 1,
) -> PALReport:
    """Score ``ask(problem) -> (answer, attempts, error)``; ``task`` for problems without one."""
    items, data = load_items(problems, default=DEFAULT_PROBLEMS, required=("question", "answer"))
    items = items[:limit] if limit is not None else items
    started = time.monotonic()

    def one(index: int, problem: dict[str, Any]) -> PALItemResult:
        t0 = time.monotonic()
        answer, attempts, error_type = ask(problem)
        ok = answer is not None
        item = PALItemResult(
            id=problem.get("id", index),
            task=problem.get("task", task),
            question=problem["question"],
            expected=problem["answer"],
            answer=answer,
            ok=ok,
            correct=ok and answers_match(answer, problem["answer"]),
            attempts=attempts,
            error_type=error_type,
            seconds=round(time.monotonic() - t0, 3),
        )
        if echo is not None:
            mark = "correct" if item.correct else "wrong"
            echo(
                f"[{index}/{len(items)}] {mark:7} answer={item.answer!r} "
                f"expected={item.expected!r} attempts={item.attempts} "
                f"error={item.error_type} ({item.seconds:.1f} s)"
            )
        return item

    results = map_items(one, items, concurrency=concurrency)
    return PALReport(
        model=label, data=data, seconds=round(time.monotonic() - started, 3), results=results
    )


def _row(name: str, results: list[PALItemResult]) -> tuple[str, ...]:
    n, correct = len(results), sum(r.correct for r in results)
    accuracy = f"{correct / n:.1%}" if n else "-"
    return name, str(n), str(correct), accuracy, str(sum(r.ok for r in results))


__all__ = [
    "DEFAULT_PROBLEMS",
    "DIRECT_SYSTEM",
    "PALItemResult",
    "PALReport",
    "build_direct_messages",
    "evaluate_direct",
    "evaluate_pal",
    "parse_direct_answer",
]
