"""What a PAL problem template is: phrasings, a maker of slot values, a program and the answer.

A :class:`PALTemplate` draws numbers and names, computes the gold answer itself (in plain
Python, apart from the program it writes), and fills one of its phrasings. Held-out templates,
and held-out phrasings of training templates, only ever feed the test set; names come from
separate training and test pools (:data:`TRAIN_PEOPLE`, :data:`TEST_PEOPLE`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

Answer = int | float | str
"""A gold answer: a number, or a string (a date, a color)."""


@dataclass(frozen=True)
class Instance:
    """One drawn problem before phrasing: slot values, the program, the gold answer."""

    slots: dict[str, Any]
    """Values the phrasings are formatted with."""
    code: str
    """``def solution():`` source that computes the answer."""
    answer: Answer
    """The gold answer, computed by the template without running ``code``."""


Maker = Callable[[random.Random, Callable[[], dict[str, str]]], Instance]
"""``make(rng, person)``: draw an instance; ``person()`` gives a fresh name with pronouns."""


@dataclass(frozen=True)
class PALTemplate:
    """A problem family: an id, its PAL task, phrasings and a maker."""

    id: str
    task: str
    """The PALChain task whose prompt the problem is asked with: math, date, colored_objects."""
    topic: str
    """money, time, rates, fractions, percentages, ages, geometry, counting, dates, objects."""
    phrasings: tuple[str, ...]
    """``str.format`` texts over the instance's slots; each is a way of asking."""
    make: Maker
    held_out: bool = False
    """The whole template is for the test set only."""
    held_out_phrasings: tuple[int, ...] = field(default=())
    """Indices of phrasings kept for the test set only."""

    def phrasing_id(self, index: int) -> str:
        """``<template id>/<index>``, the id records carry."""
        return f"{self.id}/{index}"

    def phrasings_for(self, split: str) -> list[int]:
        """Indices of the phrasings a split may use ("train" or "test")."""
        every = range(len(self.phrasings))
        if split == "train":
            return [] if self.held_out else [i for i in every if i not in self.held_out_phrasings]
        return list(every) if self.held_out else list(self.held_out_phrasings)


def program(lines: Sequence[str], *, imports: Sequence[str] = ()) -> str:
    """``def solution():`` with ``lines`` as its body (one statement per line)."""
    head = "".join(f"import {name}\n" for name in imports)
    body = "\n".join(f"    {line}" for line in lines)
    return f"{head}{chr(10) if head else ''}def solution():\n{body}"


def _people(pairs: str) -> list[tuple[str, str]]:
    return [(item.split(":")[0], item.split(":")[1]) for item in pairs.split()]


TRAIN_PEOPLE = _people(
    "Olivia:f Liam:m Emma:f Noah:m Ava:f Lucas:m Sofia:f Mateo:m Mia:f Ethan:m Chloe:f Omar:m "
    "Priya:f Diego:m Hannah:f Kenji:m Zoe:f Samuel:m Aisha:f Victor:m Nora:f Ivan:m Leila:f "
    "Marco:m Grace:f Tariq:m Elena:f Felix:m Ruby:f Hugo:m Maya:f Jonas:m Lena:f Pablo:m"
)
"""Names used in training problems, with grammatical gender for pronouns."""

TEST_PEOPLE = _people(
    "Beatrix:f Anselm:m Farida:f Dmitri:m Ingrid:f Kwame:m Rosalind:f Teodor:m Yuna:f "
    "Emeka:m Solveig:f Bastian:m Marisol:f Ravi:m Annika:f Lorenzo:m"
)
"""Names used only in test problems."""

_PRONOUNS = {
    "f": {"he": "she", "him": "her", "his": "her"},
    "m": {"he": "he", "him": "him", "his": "his"},
}


def person_picker(rng: random.Random, split: str) -> Callable[[], dict[str, str]]:
    """A ``person()`` for one instance: distinct names with he/him/his (and capitalised) slots."""
    pool = TRAIN_PEOPLE if split == "train" else TEST_PEOPLE
    order = rng.sample(pool, len(pool))

    def person() -> dict[str, str]:
        name, gender = order.pop()
        words = _PRONOUNS[gender]
        return {"name": name, **words, **{k.capitalize(): v.capitalize() for k, v in words.items()}}

    return person


def who(prefix: str, person: dict[str, str]) -> dict[str, str]:
    """Slots for one person: ``{prefix}`` is the name, ``{prefix}_he``/``_His``... the pronouns."""
    slots = {prefix: person["name"]}
    slots.update({f"{prefix}_{key}": value for key, value in person.items() if key != "name"})
    return slots


def ident(text: str) -> str:
    """A Python identifier from a noun phrase: ``"teddy bear"`` -> ``"teddy_bear"``."""
    return "_".join(text.replace("-", " ").split())


__all__ = [
    "TEST_PEOPLE",
    "TRAIN_PEOPLE",
    "Answer",
    "Instance",
    "Maker",
    "PALTemplate",
    "ident",
    "person_picker",
    "program",
    "who",
]
