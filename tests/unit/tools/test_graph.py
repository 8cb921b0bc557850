"""knowledge_graph_tool: facts about an entity, paths between two, and helpful misses."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from localchain.chains import KnowledgeGraph, Triple
from localchain.errors import ConfigError
from localchain.tools import GraphLike, KnowledgeGraphTool, knowledge_graph_tool


def t(subject, relation, obj):
    return Triple(subject=subject, relation=relation, object=obj)


@pytest.fixture
def tool():
    graph = KnowledgeGraph(
        [
            t("Marie Curie", "born in", "Warsaw"),
            t("Marie Curie", "married", "Pierre Curie"),
            t("Pierre Curie", "born in", "Paris"),
            t("Warsaw", "capital of", "Poland"),
        ]
    )
    return knowledge_graph_tool(graph)


def call(tool, args):
    return tool.invoke({"name": "knowledge_graph", "args": args, "id": "g1", "type": "tool_call"})


def test_facts_about_an_entity_any_spelling(tool):
    message = call(tool, {"entity": "marie  curie"})
    assert message.status == "success"
    assert message.content.splitlines() == [
        "Marie Curie --born_in--> Warsaw",
        "Marie Curie --married--> Pierre Curie",
    ]


def test_paths_between_two_entities(tool):
    text = tool.invoke({"entity": "Pierre Curie", "other": "Poland"})
    assert text == (
        "1. Marie Curie --married--> Pierre Curie; Marie Curie --born_in--> Warsaw; "
        "Warsaw --capital_of--> Poland"
    )


def test_no_connection_is_an_answer_not_an_error(tool):
    message = call(
        tool,
        {
            "entity": "Paris",
            "other": "Poland",
        },
    )
    assert message.status == "success"
    tool.max_hops = 1
    missed = tool.invoke({"entity": "Paris", "other": "Poland"})
    assert "No connection between Paris and Poland within 1 facts" in missed
    # What the graph holds about the first entity comes with the miss.
    assert missed.endswith("What the graph holds about Paris:\nPierre Curie --born_in--> Paris")


def test_unknown_entity_suggests_close_names(tool):
    message = call(tool, {"entity": "Curie"})
    assert message.status == "error"
    assert "Unknown entity 'Curie'" in message.content
    assert "'Marie Curie'" in message.content and "'Pierre Curie'" in message.content
    other = call(tool, {"entity": "Paris", "other": "Warszawa"})
    assert other.status == "error" and "Warszawa" in other.content


def test_bad_arguments(tool):
    message = call(tool, {"name": "Paris"})
    assert message.status == "error" and "entity: Field required" in message.content


def test_facts_are_capped():
    graph = KnowledgeGraph([t("hub", "links", f"node {i}") for i in range(40)])
    text = knowledge_graph_tool(graph, max_facts=5).invoke({"entity": "hub"})
    assert len(text.splitlines()) == 6 and text.endswith("(and 35 more facts)")


def test_any_graph_like_object_works():
    @dataclass
    class Fact:
        subject: str
        relation: str
        object: str

    class TinyGraph:
        def __contains__(self, entity):
            return entity in ("a", "b")

        def entities(self):
            return ["a", "b"]

        def facts_about(self, entity):
            return [Fact("a", "likes", "b")]

        def paths(self, source, target, *, max_hops=4):
            return [[Fact("a", "likes", "b")]]

    assert isinstance(TinyGraph(), GraphLike)
    tool = knowledge_graph_tool(TinyGraph(), name="friends", description="Who likes whom.")
    assert isinstance(tool, KnowledgeGraphTool) and tool.name == "friends"
    assert tool.invoke({"entity": "a"}) == "a --likes--> b"


def test_refuses_a_non_graph():
    with pytest.raises(ConfigError, match="KnowledgeGraph"):
        knowledge_graph_tool({"a": "b"})


def test_two_hops_add_the_facts_of_the_entities_reached(tool):
    two = knowledge_graph_tool(tool.graph, hops=2).invoke({"entity": "Marie Curie"})
    assert two.splitlines() == [
        "Marie Curie --born_in--> Warsaw",
        "Marie Curie --married--> Pierre Curie",
        "Warsaw --capital_of--> Poland",
        "Pierre Curie --born_in--> Paris",
    ]
    capped = knowledge_graph_tool(tool.graph, hops=2, max_facts=2).invoke({"entity": "Warsaw"})
    assert capped.splitlines()[-1] == "(and 1 more facts)"


def test_an_entity_asked_about_itself_gets_its_facts(tool):
    assert tool.invoke({"entity": "Warsaw", "other": "warsaw "}) == tool.invoke(
        {"entity": "Warsaw"}
    )


def test_a_relation_is_followed_through_other_facts(tool):
    # Marie Curie has no capital_of fact: it is reached through Warsaw, with the chain shown.
    assert tool.invoke({"entity": "Marie Curie", "relation": "capital_of"}) == (
        "Poland: Marie Curie --born_in--> Warsaw; Warsaw --capital_of--> Poland"
    )
    # The nearest facts win (Marie Curie's own birthplace, not her husband's); spelling is free.
    assert tool.invoke({"entity": "marie curie", "relation": "Born In"}) == (
        "Warsaw: Marie Curie --born_in--> Warsaw"
    )
    # Read backwards too: who was born in Paris.
    assert tool.invoke({"entity": "Paris", "relation": "born_in"}) == (
        "Pierre Curie: Pierre Curie --born_in--> Paris"
    )


def test_a_relation_that_leads_nowhere_or_does_not_exist(tool):
    tool.max_hops = 1
    missed = tool.invoke({"entity": "Paris", "relation": "capital_of"})
    assert missed.startswith("No capital_of fact within 1 facts of Paris.")
    assert missed.endswith("What the graph holds about Paris:\nPierre Curie --born_in--> Paris")
    message = call(tool, {"entity": "Paris", "relation": "capital"})
    assert message.status == "error"
    assert "Unknown relation 'capital'. Did you mean 'capital_of'?" in message.content
    assert "born_in, capital_of, married" in message.content


def test_two_entities_give_paths_even_with_a_relation(tool):
    both = {"entity": "Pierre Curie", "other": "Poland", "relation": "born_in"}
    assert tool.invoke(both) == tool.invoke({"entity": "Pierre Curie", "other": "Poland"})
    assert tool.relations() == ["born_in", "capital_of", "married"]
