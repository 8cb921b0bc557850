"""PAL training data: word problems with ``solution()`` programs, verified in the sandbox.

>>> from localchain.tuning.datasets.pal import make_pal_dataset
>>> stats = make_pal_dataset("build/pal", n_train=1200)  # doctest: +SKIP

Problems come from the templates of :mod:`~localchain.tuning.datasets.pal_math` and
:mod:`~localchain.tuning.datasets.pal_puzzles` (written for this project, not taken from any
evaluation set). Each one is asked with ``PALChain``'s own prompt (:func:`build_messages`) and
answered with the reply the chain expects: the program in a ```` ```python ```` fence. An
example enters a set only when :func:`localchain.chains.pal.extract_program` gets the program
back from that reply and the sandbox runs it to the gold answer (:func:`verify_problems`).

Splits: ``train`` and ``val`` use training templates and phrasings with training names; ``test``
uses only held-out templates and held-out phrasings, with names never used in training.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from localchain.chains.pal import answers_match, build_messages, extract_program
from localchain.errors import ConfigError, SandboxError
from localchain.sandbox import SandboxLimits, run_program, validate_program
from localchain.tuning.datasets.pal_base import Answer, PALTemplate, person_picker
from localchain.tuning.datasets.pal_math import MATH_TEMPLATES
from localchain.tuning.datasets.pal_puzzles import COLORED_TEMPLATES, DATE_TEMPLATES
from localchain.tuning.datasets.rendering import (
    chat_record,
    render_messages,
    write_json,
    write_jsonl,
)

TEMPLATES: tuple[PALTemplate, ...] = MATH_TEMPLATES + DATE_TEMPLATES + COLORED_TEMPLATES
"""Every PAL template, training and held-out."""

SPLITS = ("train", "val", "test")
_BATCH_ENTRY = "check_all"


@dataclass(frozen=True)
class PALProblem:
    """One generated problem with its program and gold answer."""

    id: str
    split: str
    task: str
    topic: str
    template: str
    phrasing: str
    """``<template>/<index>``: which wording of the template asked it."""
    question: str
    code: str
    answer: Answer

    def eval_item(self) -> dict[str, Any]:
        """The item ``localchain eval --task pal --data FILE`` reads."""
        keys = ("id", "task", "question", "answer", "topic", "template", "phrasing")
        return {key: getattr(self, key) for key in keys}

    def record(self) -> dict[str, Any]:
        """The chat record ``localchain tune`` trains on: the chain's prompt and reply.

        The prompt is the one ``PALChain`` sends when it uses its task adapter: the
        instruction and the question, without the worked examples.
        """
        prompt = render_messages(build_messages(self.task, self.question, few_shot=False))
        extra = {k: v for k, v in asdict(self).items() if k not in ("question", "code")}
        return chat_record(prompt, render_reply(self.code), **extra)


def render_reply(code: str) -> str:
    """The reply PALChain's prompt asks for: the program in a Markdown ``python`` fence."""
    return f"```python\n{code.strip()}\n```"


def generate_problems(split: str, n: int, *, seed: int = 0) -> list[PALProblem]:
    """Draw ``n`` distinct problems for a split, round-robin over the split's templates.

    Args:
        split: "train" and "val" (training templates and phrasings) or "test" (held-out
            templates and phrasings, test names).
        n: How many problems.
        seed: The same seed and split give the same problems.

    Raises:
        ConfigError: The split is unknown.
    """
    if split not in SPLITS:
        msg = f"Unknown split {split!r}; use one of {', '.join(SPLITS)}."
        raise ConfigError(msg)
    phrasing_split = "test" if split == "test" else "train"
    templates = [t for t in TEMPLATES if t.phrasings_for(phrasing_split)]
    rng = random.Random(f"pal-{seed}-{split}")
    problems: list[PALProblem] = []
    seen: set[str] = set()
    attempts = 0
    while len(problems) < n and attempts < 50 * n:
        template = templates[attempts % len(templates)]
        attempts += 1
        index = rng.choice(template.phrasings_for(phrasing_split))
        instance = template.make(rng, person_picker(rng, phrasing_split))
        question = template.phrasings[index].format(**instance.slots)
        if question in seen:
            continue
        seen.add(question)
        problems.append(
            PALProblem(
                id=f"{split}-{len(problems)}",
                split=split,
                task=template.task,
                topic=template.topic,
                template=template.id,
                phrasing=template.phrasing_id(index),
                question=question,
                code=instance.code,
                answer=instance.answer,
            )
        )
    return problems


def verify_problems(
    problems: Sequence[PALProblem], *, batch_size: int = 50, limits: SandboxLimits | None = None
) -> tuple[list[PALProblem], list[tuple[PALProblem, str]]]:
    """Keep the problems whose program the chain would extract and the sandbox runs to the answer.

    Each program is checked on its own (extracted from its reply as the chain extracts it,
    then validated against the sandbox policy) and run in the sandbox: several programs share
    one sandbox run (renamed ``solution_<i>`` and called in turn) to spare process starts; a
    batch that fails as a whole is run again program by program.

    Args:
        problems: Generated problems.
        batch_size: Programs per sandbox run.
        limits: Sandbox limits per run (default: the chain's defaults).

    Returns:
        ``(kept, rejected)``; each rejection carries the reason.
    """
    kept: list[PALProblem] = []
    rejected: list[tuple[PALProblem, str]] = []
    runnable: list[PALProblem] = []
    for problem in problems:
        extracted = extract_program(render_reply(problem.code))
        if extracted.strip() != problem.code.strip():
            rejected.append((problem, "extract_program does not return the program"))
            continue
        try:
            validate_program(problem.code)
        except SandboxError as err:
            rejected.append((problem, f"{type(err).__name__}: {err}"))
            continue
        runnable.append(problem)
    for start in range(0, len(runnable), batch_size):
        batch = runnable[start : start + batch_size]
        for problem, outcome in zip(batch, _run_batch(batch, limits), strict=True):
            if isinstance(outcome, SandboxError):
                rejected.append((problem, f"{type(outcome).__name__}: {outcome}"))
            elif not isinstance(outcome, (bool, int, float, str)) or not answers_match(
                outcome, problem.answer
            ):
                rejected.append((problem, f"returned {outcome!r}, gold {problem.answer!r}"))
            else:
                kept.append(problem)
    return kept, rejected


def _run_batch(batch: Sequence[PALProblem], limits: SandboxLimits | None) -> list[Any]:
    """Each program's value (or SandboxError): one sandbox run, else one run per program."""
    parts = [
        p.code.replace("def solution():", f"def solution_{i}():", 1) for i, p in enumerate(batch)
    ]
    calls = ", ".join(f"solution_{i}()" for i in range(len(batch)))
    source = "\n\n".join([*parts, f"def {_BATCH_ENTRY}():\n    return [{calls}]"])
    try:
        values = run_program(source, entry=_BATCH_ENTRY, limits=limits)
        if isinstance(values, list) and len(values) == len(batch):
            return values
    except SandboxError:
        pass
    outcomes: list[Any] = []
    for problem in batch:
        try:
            outcomes.append(run_program(problem.code, limits=limits))
        except SandboxError as err:
            outcomes.append(err)
    return outcomes


def make_pal_dataset(
    output: str | os.PathLike[str],
    *,
    n_train: int = 1200,
    n_val: int = 48,
    n_test: int = 150,
    seed: int = 0,
) -> dict[str, Any]:
    """Generate, verify and write the PAL sets; return statistics (also in ``stats.json``).

    Writes ``train.jsonl`` and ``val.jsonl`` (chat records for ``localchain tune``),
    ``test.jsonl`` (the same for the held-out problems) and ``test.json`` (the held-out
    problems for ``localchain eval --task pal --data``) under ``output``.

    Args:
        output: Directory to write to.
        n_train: Training problems drawn (rejected ones are dropped, not replaced).
        n_val: Validation problems (training templates, for the validation loss).
        n_test: Held-out problems (held-out templates and phrasings only).
        seed: Generation seed.
    """
    out = Path(output)
    started = time.perf_counter()
    stats: dict[str, Any] = {"seed": seed, "splits": {}}
    train_questions: set[str] = set()
    for split, n in (("train", n_train), ("val", n_val), ("test", n_test)):
        t0 = time.perf_counter()
        drawn = generate_problems(split, n, seed=seed)
        if split != "train":  # never score or validate on a training question
            drawn = [p for p in drawn if p.question not in train_questions]
        kept, rejected = verify_problems(drawn)
        if split == "train":
            train_questions = {p.question for p in kept}
        write_jsonl(out / f"{split}.jsonl", [p.record() for p in kept])
        if split == "test":
            write_json(out / "test.json", [p.eval_item() for p in kept])
        stats["splits"][split] = {
            "drawn": len(drawn),
            "kept": len(kept),
            "rejected": [f"{p.id} {p.template}: {why}" for p, why in rejected],
            "tasks": dict(Counter(p.task for p in kept)),
            "topics": dict(Counter(p.topic for p in kept)),
            "templates": len({p.template for p in kept}),
            "phrasings": len({p.phrasing for p in kept}),
            "seconds": round(time.perf_counter() - t0, 1),
        }
    stats["seconds"] = round(time.perf_counter() - started, 1)
    write_json(out / "stats.json", stats)
    return stats


__all__ = [
    "SPLITS",
    "TEMPLATES",
    "PALProblem",
    "generate_problems",
    "make_pal_dataset",
    "render_reply",
    "verify_problems",
]
