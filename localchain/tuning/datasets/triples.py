"""Triple-extraction training data: short passages with gold triples, in the chain's own format.

>>> from localchain.tuning.datasets.triples import make_triples_dataset
>>> stats = make_triples_dataset("build/triples", n_train=900)  # doctest: +SKIP

A passage (1-4 sentences) is built around one entity (a person, company, film, book, city,
river, event, team or university) from the tables of
:mod:`~localchain.tuning.datasets.triples_tables`, in one of several structures: separate
sentences with pronouns, coordinated predicates, an apposition, coordinated objects, a
follow-up sentence about an object, a relative clause; distractor sentences state nothing
to extract. Gold triples are passed through the chain's own
:func:`~localchain.chains.triples.normalize_triples`.

Each passage gives one training record: the text to its triples, the direct step that
``TripleExtractionChain`` asks when it uses its task adapter (no facts step, no worked
example). The prompt is taken from the chain itself (it is run on a scripted model that records
what it is asked) and rendered as ``ChatLocal`` renders a structured-output call, so the adapter
sees exactly what the chain sends.

Splits: ``train`` and ``val`` use training phrasings, structures, entities and distractors;
``test`` passages use only test entities and each holds at least one held-out phrasing or
structure.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage

from localchain.chains.triples import (
    FACTS_SYSTEM,
    Facts,
    Triple,
    TripleExtractionChain,
    Triples,
    normalize_entity,
    normalize_triples,
)
from localchain.errors import ConfigError
from localchain.models.fake import FakeChatModel
from localchain.tuning.datasets.rendering import (
    chat_record,
    render_messages,
    write_json,
    write_jsonl,
)
from localchain.tuning.datasets.triples_tables import (
    DISTRACTORS,
    ENTITIES,
    PERSON,
    PHRASINGS,
    PRONOUNS,
    Phrasing,
)

STRUCTURES = ("sentences", "coordination", "apposition", "object_list", "follow_up", "relative")
"""Passage structures; :data:`HELD_OUT_STRUCTURES` are for the test set only."""
HELD_OUT_STRUCTURES = ("relative",)
SPLITS = ("train", "val", "test")
_MAX_TRIPLES = 6  # the chain's Facts schema allows 6 facts


@dataclass
class Passage:
    """One generated text with its facts and gold triples."""

    id: str
    split: str
    structure: str
    text: str
    facts: list[str]
    """One short sentence per triple, full names (the chain's first step)."""
    raw: list[tuple[str, str, str]]
    """Triples as the model should write them: names, relation phrase in words."""
    phrasings: list[str] = field(default_factory=list)

    @property
    def triples(self) -> list[list[str]]:
        """The gold triples in the chain's canonical form (normalised, snake_case relations)."""
        found = normalize_triples(Triple(subject=s, relation=r, object=o) for s, r, o in self.raw)
        return [[t.subject, t.relation, t.object] for t in found]

    def eval_item(self) -> dict[str, Any]:
        """The item ``localchain eval --task triples --data FILE`` reads."""
        return {"id": self.id, "text": self.text, "triples": self.triples,
                "structure": self.structure, "phrasings": self.phrasings}  # fmt: skip

    def records(self) -> list[dict[str, Any]]:
        """The chat record of the chain's call with its task adapter: text -> triples."""
        calls = record_chain_calls(self.text, self.facts, self.raw)
        extra = {"id": self.id, "structure": self.structure, "phrasings": self.phrasings}
        return [chat_record(prompt, reply, step=step, **extra) for step, prompt, reply in calls]


# -- the chain's prompts ------------------------------------------------------------------------


def record_chain_calls(
    text: str, facts: list[str], raw: list[tuple[str, str, str]]
) -> list[tuple[str, list[dict[str, str]], str]]:
    """Run ``TripleExtractionChain`` on a scripted model and return ``(step, prompt, reply)``.

    The chain runs as it does with its task adapter (one direct step, no worked example) and the
    model answers with the gold reply; the prompt is rendered as ``ChatLocal`` renders a
    ``with_structured_output`` call (the schema stated in the system message).
    """
    replies = {
        "facts": Facts(facts=facts).model_dump_json(),
        "triples": Triples(
            triples=[Triple(subject=s, relation=r, object=o) for s, r, o in raw]
        ).model_dump_json(),
    }
    seen: list[tuple[str, list[BaseMessage]]] = []

    def reply(messages: list[BaseMessage], options: dict[str, Any]) -> str:
        step = "facts" if messages[0].content == FACTS_SYSTEM else "triples"
        seen.append((step, list(messages)))
        return replies[step]

    # The prompt the chain sends with its task adapter: the direct step, no worked example.
    chain = TripleExtractionChain.from_model(
        FakeChatModel(fn=reply), adapter=None, facts_first=False, few_shot=False
    )
    chain.invoke({"text": text})
    schemas = {"facts": Facts.model_json_schema(), "triples": Triples.model_json_schema()}
    return [
        (step, render_messages(messages, response_format=schemas[step]), replies[step])
        for step, messages in seen
    ]


# -- generation ---------------------------------------------------------------------------------


class _Picker:
    """Distinct entities of each type for one passage, from the split's pools."""

    def __init__(self, rng: random.Random, split: str) -> None:
        self.rng, self.side, self.used = rng, 1 if split == "test" else 0, set[str]()

    def __call__(self, kind: str) -> str:
        if kind == "year":
            return str(self.rng.randint(1950, 2023))
        kinds = PERSON if kind == "person" else (kind,)
        pool = [n for k in kinds for n in ENTITIES[k][self.side] if n not in self.used]
        name = self.rng.choice(pool)
        self.used.add(name)
        return name


def _kind_of(name: str) -> str:
    for kind, (train, test) in ENTITIES.items():
        if name in train or name in test:
            return kind
    return "year"


def _mention(name: str) -> str:
    """How a name is written in running text (events take "the")."""
    return f"the {name}" if _kind_of(name) == "event" else name


def _cap(text: str) -> str:
    return text[0].upper() + text[1:]


def _pronoun(name: str) -> str:
    return PRONOUNS.get(_kind_of(name), "It")


class _Builder:
    """Collects sentences, facts and triples for one passage."""

    def __init__(self, rng: random.Random, split: str) -> None:
        self.rng, self.split, self.pick = rng, split, _Picker(rng, split)
        self.sentences: list[str] = []
        self.facts: list[str] = []
        self.raw: list[tuple[str, str, str]] = []
        self.used: dict[str, list[str]] = {}
        """Phrasing ids used, per subject."""
        self.allowed = [p for p in PHRASINGS if split == "test" or not p.held_out]

    def phrasing(self, subject: str, *, need: str | None = None) -> Phrasing | None:
        kind = _kind_of(subject)
        taken = [p for p in PHRASINGS if p.id in self.used.get(subject, [])]
        options = [p for p in self.allowed if kind in p.subject and not _clashes(p, taken, kind)
                   and (need is None or getattr(p, need))]  # fmt: skip
        return self.rng.choice(options) if options else None

    def predicate(
        self, subject: str, phrasing: Phrasing, objects: int = 1
    ) -> tuple[str, list[str]]:
        """The predicate text and its object names; records the facts and triples."""
        self.used.setdefault(subject, []).append(phrasing.id)
        names = [self.pick(phrasing.object) for _ in range(objects)]
        listed = " and ".join(_mention(n) for n in names)
        text = phrasing.text.format(o=listed, year=self.pick("year"))
        for name in names:
            fact = phrasing.fact.format(s=_mention(subject), o=_mention(name))
            self.facts.append(_cap(fact))
            self.raw.append((normalize_entity(subject), phrasing.relation, normalize_entity(name)))
        return text, names

    def say(self, text: str) -> None:
        self.sentences.append(_cap(text))

    def subject_text(self, subject: str) -> str:
        """The name the first time, then a pronoun or the name again."""
        if not self.sentences or self.rng.random() < 0.4:
            return _mention(subject)
        return _pronoun(subject)


def _clashes(candidate: Phrasing, taken: list[Phrasing], kind: str) -> bool:
    """Whether a phrasing would repeat or contradict one already said of the same subject.

    Two facts about one subject never share a relation, and, apart from people linked to
    people, never share an object type unless the subject is a person (a company is not
    "based in" one city and "headquartered in" another; one person is born in one city).
    """
    for other in taken:
        if candidate.id == other.id or candidate.relation == other.relation:
            return True
        same_kind = candidate.object == other.object and candidate.object != "person"
        birth = {candidate.id, other.id} & {"born_in", "born_in_year", "native_of"}
        if same_kind and (kind not in PERSON or birth):
            return True
    return False


def _subject_kinds() -> list[str]:
    return sorted({k for p in PHRASINGS for k in p.subject})


def _build(rng: random.Random, split: str, structure: str) -> _Builder | None:
    b = _Builder(rng, split)
    subject = b.pick(rng.choice(_subject_kinds()))
    if structure == "sentences":
        for _ in range(rng.randint(1, 3)):
            phrasing = b.phrasing(subject)
            if phrasing is None:
                break
            who = b.subject_text(subject)
            b.say(f"{who} {b.predicate(subject, phrasing)[0]}.")
    elif structure in ("coordination", "apposition", "relative"):
        first = b.phrasing(subject, need="appositive" if structure == "apposition" else None)
        if first is None:
            return None
        text1, objects = b.predicate(subject, first)
        second = b.phrasing(subject)
        if second is None:
            return None
        text2 = b.predicate(subject, second)[0]
        if structure == "coordination":
            b.say(f"{_mention(subject)} {text1} and {text2}.")
        elif structure == "apposition":
            appositive = (first.appositive or text1).format(
                o=" and ".join(_mention(o) for o in objects)
            )
            b.say(f"{_mention(subject)}, {appositive}, {text2}.")
        else:
            relative = "who" if _kind_of(subject) in PERSON else "which"
            b.say(f"{_mention(subject)}, {relative} {text1}, {text2}.")
    elif structure == "object_list":
        phrasing = b.phrasing(subject, need="multi")
        if phrasing is None:
            return None
        b.say(f"{_mention(subject)} {b.predicate(subject, phrasing, objects=2)[0]}.")
    else:  # follow_up: a fact about the subject, then one about its object
        phrasing = b.phrasing(subject)
        if phrasing is None:
            return None
        text, objects = b.predicate(subject, phrasing)
        b.say(f"{_mention(subject)} {text}.")
        target = objects[0]
        then = b.phrasing(target)
        if then is None:
            return None
        b.say(f"{_mention(target)} {b.predicate(target, then)[0]}.")
    if len(b.sentences) < 4 and rng.random() < 0.3:
        distractor = rng.choice(DISTRACTORS[1 if split == "test" else 0])
        b.sentences.insert(rng.randint(1, len(b.sentences)), distractor)
    return b


def generate_passages(split: str, n: int, *, seed: int = 0) -> list[Passage]:
    """Draw ``n`` distinct passages for a split.

    Args:
        split: "train", "val" or "test" (see the module docstring).
        n: How many passages.
        seed: The same seed and split give the same passages.

    Raises:
        ConfigError: The split is unknown.
    """
    if split not in SPLITS:
        msg = f"Unknown split {split!r}; use one of {', '.join(SPLITS)}."
        raise ConfigError(msg)
    rng = random.Random(f"triples-{seed}-{split}")
    structures = [s for s in STRUCTURES if split == "test" or s not in HELD_OUT_STRUCTURES]
    held = {p.id for p in PHRASINGS if p.held_out}
    passages: list[Passage] = []
    seen: set[str] = set()
    for attempt in range(60 * n):
        if len(passages) >= n:
            break
        structure = structures[attempt % len(structures)]
        built = _build(rng, split, structure)
        if built is None or not built.raw or len(built.raw) > _MAX_TRIPLES:
            continue
        used = [i for ids in built.used.values() for i in ids]
        novel = structure in HELD_OUT_STRUCTURES or bool(held & set(used))
        text = " ".join(built.sentences)
        if text in seen or (split == "test" and not novel):
            continue
        seen.add(text)
        passages.append(
            Passage(
                f"{split}-{len(passages)}", split, structure, text, built.facts, built.raw, used
            )  # fmt: skip
        )
    return passages


def make_triples_dataset(
    output: str | os.PathLike[str],
    *,
    n_train: int = 900,
    n_val: int = 40,
    n_test: int = 80,
    seed: int = 0,
) -> dict[str, Any]:
    """Generate and write the triple sets; return statistics (also in ``stats.json``).

    Writes ``train.jsonl``/``val.jsonl``/``test.jsonl`` (one chat record per passage, the
    chain's direct step) and ``test.json`` (held-out passages for
    ``localchain eval --task triples``).
    """
    out = Path(output)
    started = time.perf_counter()
    stats: dict[str, Any] = {"seed": seed, "splits": {}}
    for split, n in (("train", n_train), ("val", n_val), ("test", n_test)):
        t0 = time.perf_counter()
        passages = generate_passages(split, n, seed=seed)
        write_jsonl(out / f"{split}.jsonl", [r for p in passages for r in p.records()])
        if split == "test":
            write_json(out / "test.json", [p.eval_item() for p in passages])
        stats["splits"][split] = {
            "passages": len(passages),
            "triples": sum(len(p.triples) for p in passages),
            "structures": dict(Counter(p.structure for p in passages)),
            "relations": len({t[1] for p in passages for t in p.triples}),
            "seconds": round(time.perf_counter() - t0, 1),
        }
    stats["seconds"] = round(time.perf_counter() - started, 1)
    write_json(out / "stats.json", stats)
    return stats


def passage_json(passage: Passage) -> str:
    """One passage as a JSON line (for inspection)."""
    return json.dumps(passage.eval_item(), ensure_ascii=False)


__all__ = [
    "HELD_OUT_STRUCTURES",
    "SPLITS",
    "STRUCTURES",
    "Passage",
    "generate_passages",
    "make_triples_dataset",
    "passage_json",
    "record_chain_calls",
]
