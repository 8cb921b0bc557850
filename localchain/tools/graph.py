"""``knowledge_graph_tool``: what a knowledge graph knows about an entity, where a relation
leads from it, and how two entities connect.

The graph is ``localchain.chains.KnowledgeGraph`` in practice, but this layer sits below the
chains, so the tool accepts any object with the few methods it uses (:class:`GraphLike`): the
facts about an entity, the paths between two, and the list of entities (for "did you mean").
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from localchain.errors import ConfigError, ToolError
from localchain.tools._builtin import KNOWN_TEXT_CHARS, BuiltinTool, json_safe_names
from localchain.tools._words import most_shared, named_in


class FactLike(Protocol):
    """A (subject, relation, object) fact, such as ``localchain.chains.Triple``."""

    subject: str
    relation: str
    object: str


@runtime_checkable
class GraphLike(Protocol):
    """What the tool needs from a graph; ``localchain.chains.KnowledgeGraph`` has it all."""

    def __contains__(self, entity: object) -> bool:
        """Whether the entity (by any spelling the graph merges) is known."""
        ...

    def entities(self) -> list[str]:
        """Display names of every entity."""
        ...

    def facts_about(self, entity: str) -> Sequence[FactLike]:
        """Every fact with the entity as subject or object."""
        ...

    def paths(self, source: str, target: str, *, max_hops: int = 4) -> Sequence[Sequence[FactLike]]:
        """Chains of facts linking two entities, shortest first."""
        ...


def _fact(fact: FactLike) -> str:
    return f"{fact.subject} --{fact.relation}--> {fact.object}"


def _fold(name: str) -> str:
    """A name as the tool compares it: case, spacing and underscores ignored."""
    return " ".join(name.replace("_", " ").split()).casefold()


ENTITY_MAX_CHARS = 100
"""Longest entity name the tool accepts (and the tool-call grammar allows)."""


class KnowledgeGraphInput(BaseModel):
    """Arguments of the knowledge graph tool."""

    entity: str = Field(
        description="The entity to look up, e.g. 'Marie Curie'.", max_length=ENTITY_MAX_CHARS
    )
    relation: str | None = Field(
        None,
        description=(
            "A relation to follow from the entity, e.g. 'born_in': returns the entities it "
            "leads to, through other facts when needed."
        ),
        max_length=ENTITY_MAX_CHARS,
    )
    other: str | None = Field(
        None,
        description="A second entity: when given, returns how the two are connected.",
        max_length=ENTITY_MAX_CHARS,
    )


class KnowledgeGraphTool(BuiltinTool):
    """Look up facts about an entity in a knowledge graph, where a relation leads from it, or
    the paths between two entities.

    Args:
        graph: A ``KnowledgeGraph`` (or any :class:`GraphLike`).
        max_facts: The most facts listed for one entity.
        max_paths: The most paths listed between two entities.
        max_hops: The longest path searched, in facts.
        hops: How far an entity's facts reach: 1 (its own), 2 (also those of the entities
            they name, listed after them), 3; ``max_facts`` still caps the list.
    """

    name: str = "knowledge_graph"
    description: str = (
        "Look up facts in the knowledge graph. Give an entity to get its facts (its "
        "neighbours and how they relate); add a relation to get where it leads (the "
        "entity's country, founder, birthplace...); give two entities (entity and other) to "
        "see how they are connected."
    )
    args_schema: type[BaseModel] = KnowledgeGraphInput
    graph: Any
    """The graph queried (a GraphLike)."""
    max_facts: int = Field(default=30, ge=1)
    max_paths: int = Field(default=5, ge=1)
    max_hops: int = Field(default=4, ge=1, le=8)
    hops: int = Field(default=1, ge=1, le=3)
    """How far an entity's facts reach: 1, its own; 2, also those of the entities they name
    (a small model that will not make a second call still sees where the founder was born)."""

    def relations(self) -> list[str]:
        """The graph's relation names, sorted (read from every entity's facts)."""
        found = {fact.relation for e in self.graph.entities() for fact in self.graph.facts_about(e)}
        return sorted(found)

    def call_schema_extras(self) -> dict[str, dict[str, Any]]:
        """Both entity arguments name one of the graph's entities and ``relation`` one of its
        relations (an ``enum`` each, read now), when there are at most ``MAX_NAMES``."""
        extras: dict[str, dict[str, Any]] = {}
        names = json_safe_names(self.graph.entities())
        if names is not None:
            extras.update({"entity": {"enum": names}, "other": {"enum": names}})
        relations = json_safe_names(self.relations())
        if relations is not None:
            extras["relation"] = {"enum": relations}
        return extras or super().call_schema_extras()

    def narrow_extras(
        self, extras: dict[str, dict[str, Any]], focus: str
    ) -> dict[str, dict[str, Any]]:
        """The entities ``focus`` names (all their words) and the relations that share the
        most words with it (all, where none does)."""
        narrowed = dict(extras)
        for name in ("entity", "other"):
            if name in extras:
                narrowed[name] = {**extras[name], "enum": named_in(extras[name]["enum"], focus)}
        if "relation" in extras:
            relations = extras["relation"]["enum"]
            words = {r: r.replace("_", " ") for r in relations}
            narrowed["relation"] = {"enum": most_shared(relations, focus, words)}
        return narrowed

    def known_text(self, request: str) -> str | None:
        """The graph's entities and their relations (words split), up to ``KNOWN_TEXT_CHARS``."""
        parts: list[str] = []
        size = 0
        for entity in self.graph.entities():
            relations = {fact.relation.replace("_", " ") for fact in self.graph.facts_about(entity)}
            parts.append(" ".join([entity, *sorted(relations)]))
            size += len(parts[-1])
            if size > KNOWN_TEXT_CHARS:
                break
        return "\n".join(parts)

    def _unknown(self, entity: str) -> ToolError:
        names = self.graph.entities()
        close = difflib.get_close_matches(entity, names, n=3, cutoff=0.6)
        lowered = entity.casefold()
        close += [n for n in names if lowered and lowered in n.casefold() and n not in close][:3]
        hint = f" Did you mean {', '.join(repr(n) for n in close[:3])}?" if close else ""
        sample = ", ".join(names[:15]) + (", ..." if len(names) > 15 else "")
        msg = f"Unknown entity {entity!r}.{hint} Known entities include: {sample or 'none'}."
        return ToolError(msg)

    def _facts(self, entity: str) -> str:
        facts = list(self.graph.facts_about(entity))
        if not facts:
            return f"{entity} is in the graph, but no facts are recorded about it."
        seen = {(f.subject, f.relation, f.object) for f in facts}
        visited = {entity.casefold()}
        frontier = facts
        for _ in range(self.hops - 1):  # the facts about the entities just reached
            reached = []
            for fact in frontier:
                for name in (fact.subject, fact.object):
                    if name.casefold() not in visited:
                        visited.add(name.casefold())
                        reached.append(name)
            frontier = []
            for name in reached:
                for fact in self.graph.facts_about(name):
                    if (fact.subject, fact.relation, fact.object) not in seen:
                        seen.add((fact.subject, fact.relation, fact.object))
                        frontier.append(fact)
            facts += frontier
        lines = [_fact(fact) for fact in facts[: self.max_facts]]
        if len(facts) > self.max_facts:
            lines.append(f"(and {len(facts) - self.max_facts} more facts)")
        return "\n".join(lines)

    def _follow(self, entity: str, relation: str) -> str:
        """Where ``relation`` leads from ``entity``: the facts with that relation nearest to it
        (either end may be the one reached), each with the chain of facts that gets there."""
        wanted = _fold(relation)
        known = self.relations()
        if wanted not in {_fold(r) for r in known}:
            close = difflib.get_close_matches(relation, known, n=3, cutoff=0.5)
            hint = f" Did you mean {', '.join(repr(r) for r in close)}?" if close else ""
            sample = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "")
            msg = (
                f"Unknown relation {relation!r}.{hint} The graph's relations: {sample or 'none'}; "
                "or leave relation out to get all of the entity's facts."
            )
            raise ToolError(msg)
        visited = {_fold(entity)}
        frontier: list[tuple[str, list[FactLike]]] = [(entity, [])]
        found: dict[str, list[FactLike]] = {}
        for _ in range(self.max_hops):
            reached: list[tuple[str, list[FactLike]]] = []
            for name, path in frontier:
                facts = [(f, _fold(f.subject) == _fold(name)) for f in self.graph.facts_about(name)]
                facts.sort(key=lambda item: not item[1])  # a fact read forwards first
                for fact, forward in facts:
                    other = fact.object if forward else fact.subject
                    chain = [*path, fact]
                    if _fold(fact.relation) == wanted and _fold(other) != _fold(entity):
                        found.setdefault(other, chain)
                    if _fold(other) not in visited:
                        visited.add(_fold(other))
                        reached.append((other, chain))
            if found:
                break
            frontier = reached
        if not found:
            return (
                f"No {relation} fact within {self.max_hops} facts of {entity}. What the graph "
                f"holds about {entity}:\n{self._facts(entity)}"
            )
        lines = [
            f"{target}: " + "; ".join(_fact(fact) for fact in chain)
            for target, chain in list(found.items())[: self.max_paths]
        ]
        if len(found) > self.max_paths:
            lines.append(f"(and {len(found) - self.max_paths} more)")
        return "\n".join(lines)

    def _paths(self, entity: str, other: str) -> str:
        found: Iterable[Sequence[FactLike]] = self.graph.paths(
            entity, other, max_hops=self.max_hops
        )
        paths = list(found)
        if not paths:  # what is known about the first still helps the model answer
            return (
                f"No connection between {entity} and {other} within {self.max_hops} facts. "
                f"What the graph holds about {entity}:\n{self._facts(entity)}"
            )
        lines = [
            f"{number}. " + "; ".join(_fact(fact) for fact in path)
            for number, path in enumerate(paths[: self.max_paths], start=1)
        ]
        if len(paths) > self.max_paths:
            lines.append(f"(and {len(paths) - self.max_paths} longer paths)")
        return "\n".join(lines)

    def _run(
        self, entity: str, other: str | None = None, relation: str | None = None, **_: Any
    ) -> str:
        for name in (entity, other):
            if name is not None and name not in self.graph:
                raise self._unknown(name)
        same = other is not None and _fold(other) == _fold(entity)
        if other is not None and other.strip() and not same:  # paths win over a relation
            return self._paths(entity, other)
        if relation is not None and relation.strip():
            return self._follow(entity, relation)
        return self._facts(entity)  # "how is X connected to X" too: its facts


def knowledge_graph_tool(
    graph: GraphLike,
    *,
    name: str = "knowledge_graph",
    description: str | None = None,
    max_facts: int = 30,
    max_hops: int = 4,
    hops: int = 1,
) -> KnowledgeGraphTool:
    """A tool that answers from a knowledge graph: facts about an entity, paths between two.

    Example:
        .. code-block:: python

            graph = KnowledgeGraph([Triple(subject="Marie Curie", relation="born_in",
                                           object="Warsaw")])
            knowledge_graph_tool(graph).invoke({"entity": "marie curie"})
            # 'Marie Curie --born_in--> Warsaw'

    Args:
        graph: A ``localchain.chains.KnowledgeGraph``, or any object with ``__contains__``,
            ``entities()``, ``facts_about(entity)`` and ``paths(a, b, max_hops=...)``.
        name: The tool's name, as the model calls it.
        description: What the graph holds, for the model; a generic one by default.
        max_facts: The most facts listed for one entity.
        max_hops: The longest path searched, in facts.
        hops: How far an entity's facts reach: 1 (its own), 2 (also those of the entities
            they name, listed after them), 3; ``max_facts`` still caps the list.

    Raises:
        ConfigError: ``graph`` lacks a method the tool needs.
    """
    if not isinstance(graph, GraphLike):
        msg = (
            f"knowledge_graph_tool needs a KnowledgeGraph (or an object with __contains__, "
            f"entities, facts_about and paths), got {type(graph).__name__}."
        )
        raise ConfigError(msg)
    options: dict[str, Any] = {
        "name": name,
        "max_facts": max_facts,
        "max_hops": max_hops,
        "hops": hops,
    }
    if description is not None:
        options["description"] = description
    return KnowledgeGraphTool(graph=graph, **options)


__all__ = [
    "FactLike",
    "GraphLike",
    "KnowledgeGraphInput",
    "KnowledgeGraphTool",
    "knowledge_graph_tool",
]
