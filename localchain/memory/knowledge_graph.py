"""Knowledge-graph memory: facts about entities, recalled when the new input mentions them.

The triples come from a caller-supplied extractor (memory sits below the chains layer, so it
takes ``TripleExtractionChain`` or any function as an argument rather than importing it).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import BaseMessage, SystemMessage

from localchain.errors import ConfigError
from localchain.memory.base import (
    ConversationMemory,
    check_positive_int,
    last_human_text,
    split_turns,
)


class Fact(NamedTuple):
    """One (subject, relation, object) fact, as the extractor gave it."""

    subject: str
    relation: str
    object: str

    def __str__(self) -> str:
        return f"{self.subject} {self.relation} {self.object}"


Extractor = Callable[[str], Iterable[Any]]
"""``extract(text)`` returning triples: objects with ``subject``/``relation``/``object``
attributes (e.g. ``localchain.chains.Triple``), dicts with those keys, or 3-tuples."""


def _normalise(name: str) -> str:
    return " ".join(name.casefold().split())


def _to_fact(item: Any) -> Fact:
    if isinstance(item, dict):
        values = [item.get(k) for k in ("subject", "relation", "object")]
    elif isinstance(item, tuple | list) and len(item) == 3:
        values = list(item)
    else:
        values = [getattr(item, k, None) for k in ("subject", "relation", "object")]
    if not all(isinstance(v, str) and v.strip() for v in values):
        msg = (
            f"The triple extractor returned {item!r:.120}; each triple needs non-empty string "
            "subject, relation and object (an object with those attributes, a dict, or a "
            "3-tuple)."
        )
        raise ConfigError(msg)
    return Fact(*(" ".join(v.split()) for v in values))


class KnowledgeGraphMemory(ConversationMemory):
    """Extracts facts from the conversation and recalls those about entities in the new input.

    Example:
        .. code-block:: python

            memory = KnowledgeGraphMemory(TripleExtractionChain(model))
            memory.add_turn("My sister Ada lives in Paris.", "Nice!")
            memory.load("Where does Ada live?")
            # [SystemMessage("Known facts: ...Ada lives in Paris..."), <last turns>]

    Args:
        extract: A function ``extract(text) -> triples``, or a runnable called as
            ``extract.invoke({"text": text})`` (such as ``TripleExtractionChain``).
        keep_last: How many recent turns are also returned verbatim (0 for facts only).
        roles: Which messages facts are extracted from: "human", "ai" or both.
        max_facts: The most facts recalled per ``load``.
        history: Where messages are stored (default: in memory).

    Raises:
        ConfigError: ``extract`` is not callable, or another argument is out of range.
    """

    def __init__(
        self,
        extract: Extractor | Any,
        *,
        keep_last: int = 2,
        roles: Iterable[str] = ("human", "ai"),
        max_facts: int = 20,
        history: BaseChatMessageHistory | None = None,
    ) -> None:
        super().__init__(history)
        if hasattr(extract, "invoke"):
            self._extract: Extractor = lambda text: extract.invoke({"text": text})
        elif callable(extract):
            self._extract = extract
        else:
            msg = (
                f"extract must be a function text -> triples or a runnable, got "
                f"{type(extract).__name__}; pass e.g. TripleExtractionChain(model)."
            )
            raise ConfigError(msg)
        self.keep_last = check_positive_int(keep_last, "keep_last", minimum=0)
        self.max_facts = check_positive_int(max_facts, "max_facts")
        self.roles = set(roles)
        if not self.roles or not self.roles <= {"human", "ai"}:
            msg = f"roles must name 'human' and/or 'ai', got {sorted(self.roles)}."
            raise ConfigError(msg)
        self._facts: dict[str, list[Fact]] = {}
        self._names: dict[str, str] = {}  # normalised entity -> name as first seen
        self._processed = 0
        self._lock = threading.Lock()

    def _reset(self) -> None:
        self._facts.clear()
        self._names.clear()
        self._processed = 0

    # -- the graph ----------------------------------------------------------------------

    def add_fact(self, subject: str, relation: str, object: str) -> None:  # noqa: A002
        """Record a fact directly (duplicates, ignoring case and spacing, are dropped)."""
        fact = _to_fact((subject, relation, object))
        key = tuple(_normalise(v) for v in fact)
        for name in (fact.subject, fact.object):
            norm = _normalise(name)
            self._names.setdefault(norm, name)
            facts = self._facts.setdefault(norm, [])
            if all(tuple(_normalise(v) for v in f) != key for f in facts):
                facts.append(fact)

    @property
    def entities(self) -> list[str]:
        """Every entity with a fact, as first written."""
        self._update()
        return sorted(self._names.values())

    def facts_about(self, entity: str) -> list[Fact]:
        """The facts whose subject or object is ``entity`` (case-insensitive)."""
        self._update()
        return list(self._facts.get(_normalise(entity), []))

    def _update(self) -> None:
        with self._lock:
            messages = self.messages
            if self._processed > len(messages):  # the history was shortened: rebuild
                self._reset()
            for message in messages[self._processed :]:
                if message.type in self.roles and message.text.strip():
                    for item in self._extract(message.text) or []:
                        self.add_fact(*_to_fact(item))
                self._processed += 1  # only after the message's facts are in

    def mentioned(self, text: str) -> list[str]:
        """The known entities that ``text`` mentions (whole words, case-insensitive)."""
        self._update()
        norm = _normalise(text)
        return [
            self._names[name]
            for name in sorted(self._facts, key=len, reverse=True)
            if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", norm)
        ]

    # -- loading ------------------------------------------------------------------------

    def load(self, query: str | None = None) -> list[BaseMessage]:
        """The system messages, known facts about entities in ``query``, and the recent turns.

        Args:
            query: The new input (default: the latest human message).

        Returns:
            A "Known facts" system message is included only when some fact applies.
        """
        self._update()
        prefix, turns = split_turns(self.messages)
        query = query if query is not None else last_human_text(self.messages) or ""
        facts: list[Fact] = []
        for entity in self.mentioned(query):
            facts += [f for f in self._facts[_normalise(entity)] if f not in facts]
        facts = facts[: self.max_facts]
        recent = [m for turn in turns[max(0, len(turns) - self.keep_last) :] for m in turn]
        if not facts:
            return prefix + recent
        lines = "\n".join(f"- {fact}" for fact in facts)
        return [*prefix, SystemMessage(f"Known facts:\n{lines}"), *recent]


__all__ = ["Extractor", "Fact", "KnowledgeGraphMemory"]
