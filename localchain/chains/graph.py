"""KnowledgeGraph: triples in a networkx MultiDiGraph, merged on normalised entity names.

Nodes are keyed by :func:`~localchain.chains.triples.entity_key` (normalised, case-folded) and
keep the first display name seen plus every alias; edges are keyed by relation, so adding a
fact twice keeps one edge. The graph saves to and loads from JSON, answers neighbour, path and
fact queries, and exports JSON, GraphML or CSV.

Example:
    .. code-block:: python

        graph = KnowledgeGraph()
        graph.add_triples([Triple(subject="Marie Curie", relation="born_in", object="Warsaw")])
        graph.facts_about("marie curie")  # [Triple(subject='Marie Curie', ...)]
        graph.save("graph.json"); KnowledgeGraph.load("graph.json")
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

import networkx as nx

from localchain.chains.triples import Triple, entity_key, normalize_entity, normalize_relation
from localchain.errors import ConfigError

FORMAT_VERSION = 1
"""Version written into saved graphs; loading checks it."""

ExportFormat = Literal["json", "graphml", "csv"]


class KnowledgeGraph:
    """A directed multigraph of (subject, relation, object) facts.

    Args:
        triples: Facts to add at once.
    """

    def __init__(self, triples: Iterable[Triple] = ()) -> None:
        """Start a graph, optionally with ``triples``."""
        self.graph: nx.MultiDiGraph = nx.MultiDiGraph()
        self.add_triples(triples)

    # -- building ------------------------------------------------------------------------

    def _node(self, name: str) -> str:
        display = normalize_entity(name)
        key = display.casefold()
        if not key:
            msg = f"Entity name {name!r} is empty once normalised."
            raise ConfigError(msg)
        if key not in self.graph:
            self.graph.add_node(key, name=display, aliases=[])
        elif display != self.graph.nodes[key]["name"]:
            aliases = self.graph.nodes[key]["aliases"]
            if display not in aliases:
                aliases.append(display)
        return key

    def add_triple(self, triple: Triple, *, source: str | None = None) -> bool:
        """Add one fact; names merge on their normalised form.

        Args:
            triple: The fact.
            source: Where it came from (kept on the edge), e.g. a document id.

        Returns:
            True when the fact is new, False when it was already there.

        Raises:
            ConfigError: A name or the relation is empty once normalised.
        """
        relation = normalize_relation(triple.relation)
        if not relation:
            msg = f"Relation {triple.relation!r} is empty once normalised."
            raise ConfigError(msg)
        subject, obj = self._node(triple.subject), self._node(triple.object)
        if self.graph.has_edge(subject, obj, key=relation):
            sources = self.graph.edges[subject, obj, relation]["sources"]
            if source is not None and source not in sources:
                sources.append(source)
            return False
        self.graph.add_edge(
            subject, obj, key=relation, relation=relation, sources=[source] if source else []
        )
        return True

    def add_triples(self, triples: Iterable[Triple], *, source: str | None = None) -> int:
        """Add facts; returns how many were new."""
        return sum(self.add_triple(triple, source=source) for triple in triples)

    def merge(self, other: KnowledgeGraph) -> int:
        """Add every fact of another graph (with its sources); returns how many were new."""
        added = 0
        for subject, obj, data in other.graph.edges(data=True):
            triple = self._triple(subject, data["relation"], obj, graph=other.graph)
            added += self.add_triple(triple)
            for source in data.get("sources", []):
                self.add_triple(triple, source=source)
        return added

    # -- queries -------------------------------------------------------------------------

    def _triple(
        self, subject: str, relation: str, obj: str, graph: nx.MultiDiGraph | None = None
    ) -> Triple:
        nodes = (graph if graph is not None else self.graph).nodes
        return Triple(subject=nodes[subject]["name"], relation=relation, object=nodes[obj]["name"])

    def _key(self, entity: str) -> str | None:
        key = entity_key(entity)
        return key if key in self.graph else None

    def __contains__(self, entity: object) -> bool:
        """Whether an entity (by any spelling that normalises to it) is in the graph."""
        return isinstance(entity, str) and self._key(entity) is not None

    def __len__(self) -> int:
        """The number of facts (edges)."""
        return self.graph.number_of_edges()

    def __iter__(self) -> Iterator[Triple]:
        """Every fact, in insertion order."""
        return iter(self.triples())

    def entities(self) -> list[str]:
        """Display names of every entity, in insertion order."""
        return [data["name"] for _, data in self.graph.nodes(data=True)]

    def triples(self) -> list[Triple]:
        """Every fact, in insertion order."""
        return [self._triple(s, key, o) for s, o, key in self.graph.edges(keys=True)]

    def neighbours(
        self, entity: str, *, direction: Literal["out", "in", "both"] = "both"
    ) -> list[str]:
        """Display names of entities linked to ``entity`` (empty if it is unknown).

        Args:
            entity: Any spelling of the entity's name.
            direction: "out" (it is the subject), "in" (it is the object) or "both".
        """
        key = self._key(entity)
        if key is None:
            return []
        keys: list[str] = []
        if direction in ("out", "both"):
            keys += list(self.graph.successors(key))
        if direction in ("in", "both"):
            keys += list(self.graph.predecessors(key))
        unique = dict.fromkeys(k for k in keys if k != key)
        return [self.graph.nodes[k]["name"] for k in unique]

    def facts_about(self, entity: str) -> list[Triple]:
        """Every fact with ``entity`` as subject or object (empty if it is unknown)."""
        key = self._key(entity)
        if key is None:
            return []
        out = [self._triple(key, rel, o) for _, o, rel in self.graph.out_edges(key, keys=True)]
        into = [self._triple(s, rel, key) for s, _, rel in self.graph.in_edges(key, keys=True)]
        return out + [t for t in into if t not in out]

    def paths(self, source: str, target: str, *, max_hops: int = 4) -> list[list[Triple]]:
        """Chains of facts linking two entities, following relations in either direction.

        Args:
            source: Where the paths start.
            target: Where they end.
            max_hops: Longest path, in facts.

        Returns:
            Each path as the facts along it (each in its own direction), shortest first;
            empty when either entity is unknown or they are not linked.
        """
        start, end = self._key(source), self._key(target)
        if start is None or end is None or start == end:
            return []
        undirected = nx.Graph(self.graph.to_undirected(as_view=True))
        found: list[list[Triple]] = []
        for nodes in nx.all_simple_paths(undirected, start, end, cutoff=max_hops):
            hops: list[list[Triple]] = []
            for a, b in zip(nodes, nodes[1:]):
                facts = [
                    self._triple(a, rel, b) for rel in self.graph.get_edge_data(a, b, default={})
                ]
                facts += [
                    self._triple(b, rel, a) for rel in self.graph.get_edge_data(b, a, default={})
                ]
                hops.append(facts)
            found.extend(_product(hops))
        return sorted(found, key=len)

    # -- persistence and export ----------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The graph as plain JSON data (entities with aliases, then facts with sources)."""
        return {
            "version": FORMAT_VERSION,
            "entities": [
                {"name": data["name"], "aliases": list(data["aliases"])}
                for _, data in self.graph.nodes(data=True)
            ],
            "triples": [
                {
                    "subject": self.graph.nodes[s]["name"],
                    "relation": key,
                    "object": self.graph.nodes[o]["name"],
                    "sources": list(data["sources"]),
                }
                for s, o, key, data in self.graph.edges(keys=True, data=True)
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KnowledgeGraph:
        """Rebuild a graph from :meth:`to_dict` data.

        Raises:
            ConfigError: The data is not a saved knowledge graph of a known version.
        """
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            got = data.get("version") if isinstance(data, dict) else type(data).__name__
            msg = f"Not a localchain knowledge graph (version {FORMAT_VERSION}); got {got!r}."
            raise ConfigError(msg)
        graph = cls()
        for entity in data.get("entities", []):
            key = graph._node(entity["name"])
            graph.graph.nodes[key]["aliases"] = list(entity.get("aliases", []))
        for item in data.get("triples", []):
            triple = Triple(
                subject=item["subject"], relation=item["relation"], object=item["object"]
            )
            graph.add_triple(triple)
            for source in item.get("sources", []):
                graph.add_triple(triple, source=source)
        return graph

    def save(self, path: str | Path) -> Path:
        """Write the graph as JSON (atomically: a temporary file, then a rename)."""
        path = Path(path)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False), "utf-8")
        temporary.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> KnowledgeGraph:
        """Read a graph written by :meth:`save`.

        Raises:
            FileNotFoundError: No such file.
            ConfigError: The file is not a saved knowledge graph.
        """
        text = Path(path).read_text(encoding="utf-8")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            msg = f"{path} is not JSON ({err}); expected a file written by KnowledgeGraph.save."
            raise ConfigError(msg) from err
        return cls.from_dict(data)

    def export(self, path: str | Path, *, format: ExportFormat | None = None) -> Path:  # noqa: A002
        """Export the graph for other tools.

        Args:
            path: Output file.
            format: "json" (as :meth:`save`), "graphml" (Gephi, yEd, Cytoscape) or "csv"
                (one ``subject,relation,object`` row per fact); default from the suffix.

        Raises:
            ConfigError: The format is unknown.
        """
        path = Path(path)
        chosen = format or path.suffix.lstrip(".").lower()
        if chosen == "json":
            return self.save(path)
        if chosen == "graphml":
            export = nx.MultiDiGraph()
            for key, data in self.graph.nodes(data=True):
                export.add_node(key, name=data["name"], aliases="|".join(data["aliases"]))
            for s, o, key, data in self.graph.edges(keys=True, data=True):
                export.add_edge(s, o, key=key, relation=key, sources="|".join(data["sources"]))
            nx.write_graphml(export, path)
            return path
        if chosen == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(["subject", "relation", "object"])
            writer.writerows((t.subject, t.relation, t.object) for t in self.triples())
            path.write_text(buffer.getvalue(), encoding="utf-8")
            return path
        msg = f"Unknown export format {chosen!r}; use 'json', 'graphml' or 'csv'."
        raise ConfigError(msg)


def _product(hops: list[list[Triple]]) -> list[list[Triple]]:
    """Every way of picking one fact per hop."""
    paths: list[list[Triple]] = [[]]
    for facts in hops:
        paths = [[*path, fact] for path in paths for fact in facts]
    return paths


__all__ = ["FORMAT_VERSION", "ExportFormat", "KnowledgeGraph"]
