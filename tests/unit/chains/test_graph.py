"""KnowledgeGraph: merging on normalised names, queries, save/load and export."""

from __future__ import annotations

import csv
import json

import networkx as nx
import pytest

from localchain.chains.graph import KnowledgeGraph
from localchain.chains.triples import Triple
from localchain.errors import ConfigError


def t(subject: str, relation: str, obj: str) -> Triple:
    return Triple(subject=subject, relation=relation, object=obj)


@pytest.fixture
def graph() -> KnowledgeGraph:
    return KnowledgeGraph(
        [
            t("Marie Curie", "born in", "Warsaw"),
            t("Marie Curie", "married", "Pierre Curie"),
            t("Pierre Curie", "born in", "Paris"),
            t("Warsaw", "capital of", "Poland"),
        ]
    )


def test_add_merges_on_normalised_names_and_dedupes(graph):
    assert len(graph) == 4
    assert graph.add_triple(t("the  marie curie", "Born In", "WARSAW.")) is False
    assert len(graph) == 4
    assert graph.add_triple(t("marie curie", "worked in", "Paris")) is True
    assert graph.entities() == ["Marie Curie", "Warsaw", "Pierre Curie", "Paris", "Poland"]
    assert graph.graph.nodes["marie curie"]["aliases"] == ["marie curie"]
    assert "MARIE CURIE" in graph and "Einstein" not in graph


def test_same_pair_keeps_different_relations(graph):
    graph.add_triple(t("Marie Curie", "lived in", "Warsaw"))
    relations = {r.relation for r in graph.facts_about("Warsaw") if r.subject == "Marie Curie"}
    assert relations == {"born_in", "lived_in"}


def test_neighbours(graph):
    assert graph.neighbours("marie curie") == ["Warsaw", "Pierre Curie"]
    assert graph.neighbours("Warsaw", direction="in") == ["Marie Curie"]
    assert graph.neighbours("Warsaw", direction="out") == ["Poland"]
    assert graph.neighbours("nobody") == []


def test_facts_about(graph):
    assert graph.facts_about("Warsaw") == [
        t("Warsaw", "capital_of", "Poland"),
        t("Marie Curie", "born_in", "Warsaw"),
    ]
    assert graph.facts_about("unknown") == []


def test_paths_follow_relations_either_way(graph):
    paths = graph.paths("Poland", "Paris")
    assert paths == [
        [
            t("Warsaw", "capital_of", "Poland"),
            t("Marie Curie", "born_in", "Warsaw"),
            t("Marie Curie", "married", "Pierre Curie"),
            t("Pierre Curie", "born_in", "Paris"),
        ]
    ]
    assert graph.paths("Poland", "Paris", max_hops=3) == []
    assert graph.paths("Warsaw", "Marie Curie") == [[t("Marie Curie", "born_in", "Warsaw")]]
    assert graph.paths("Warsaw", "Atlantis") == []


def test_save_load_roundtrip_keeps_aliases_and_sources(graph, tmp_path):
    graph.add_triple(t("The Marie Curie", "born in", "Warsaw"), source="doc-1")
    path = graph.save(tmp_path / "kg.json")
    loaded = KnowledgeGraph.load(path)
    assert loaded.triples() == graph.triples()
    assert loaded.to_dict() == graph.to_dict()
    data = json.loads(path.read_text())
    assert data["version"] == 1 and data["triples"][0]["sources"] == ["doc-1"]


def test_load_rejects_other_files(tmp_path):
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not JSON"):
        KnowledgeGraph.load(tmp_path / "x.json")
    (tmp_path / "y.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="Not a localchain knowledge graph"):
        KnowledgeGraph.load(tmp_path / "y.json")
    with pytest.raises(FileNotFoundError):
        KnowledgeGraph.load(tmp_path / "missing.json")


def test_export_graphml_and_csv(graph, tmp_path):
    graphml = graph.export(tmp_path / "kg.graphml")
    read = nx.read_graphml(graphml)
    assert read.number_of_edges() == 4 and read.nodes["warsaw"]["name"] == "Warsaw"
    with graph.export(tmp_path / "kg.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["subject", "relation", "object"]
    assert rows[1] == ["Marie Curie", "born_in", "Warsaw"] and len(rows) == 5
    assert json.loads(graph.export(tmp_path / "kg.out", format="json").read_text())["version"] == 1
    with pytest.raises(ConfigError, match="Unknown export format 'xml'"):
        graph.export(tmp_path / "kg.xml")


def test_merge_graphs(graph):
    other = KnowledgeGraph([t("warsaw", "capital of", "poland"), t("Poland", "in", "Europe")])
    assert graph.merge(other) == 1
    assert graph.neighbours("Poland") == ["Europe", "Warsaw"]
    assert len(graph) == 5


def test_empty_names_are_config_errors():
    graph = KnowledgeGraph()
    with pytest.raises(ConfigError, match="empty once normalised"):
        graph.add_triple(t("the", "is", "..."))
    with pytest.raises(ConfigError, match="Relation"):
        graph.add_triple(t("a b", "!!", "c"))
