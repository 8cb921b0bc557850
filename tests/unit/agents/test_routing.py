"""Routing by data: the first calls go to the tool whose data holds the request's words.

A 135M model picks a database query for a question about a knowledge-graph entity; the agent
with ``first_tool_choice="route"`` offers the first step only the tools whose data (entities,
table and column names, text values, files, passages found) share the most content words with
the request, and every tool once one of them has answered.
"""

from __future__ import annotations

import sqlite3

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.messages import AIMessage
from langchain_core.utils.function_calling import convert_to_openai_tool

from localchain.agents import create_agent
from localchain.agents.selection import content_words, route_by_data
from localchain.chains import KnowledgeGraph, Triple
from localchain.index import FaissStore
from localchain.models import FakeChatModel
from localchain.tools import (
    calculator,
    knowledge_graph_tool,
    read_file_tool,
    retriever_tool,
    sql_tool,
)


@pytest.fixture
def tools(tmp_path):
    db = tmp_path / "shop.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE orders (customer TEXT, unit_price REAL)")
        conn.executemany("INSERT INTO orders VALUES (?, ?)", [("Alice Moreau", 3.5), (None, 2)])
    conn.close()
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ferry.md").write_text("The Selje ferry crosses the fjord in 25 minutes.")
    graph = KnowledgeGraph([Triple(subject="Nordlys Labs", relation="located_in", object="Bergen")])
    return {
        "calculator": calculator,
        "sql": sql_tool(db),
        "files": read_file_tool(docs),
        "graph": knowledge_graph_tool(graph),
    }


def test_content_words_drop_stopwords_numbers_and_plural_s():
    assert content_words("How many lamps did Alice's 3 orders hold in 2024?") == {
        "lamp",
        "alice",
        "order",
        "hold",
    }


def test_each_data_tool_says_what_it_holds(tools):
    assert tools["calculator"].known_text("anything") is None
    assert {"orders", "customer", "unit", "price", "Alice"} <= set(
        tools["sql"].known_text("x").split()
    )
    assert "Nordlys Labs located in" in tools["graph"].known_text("x")
    files = tools["files"].known_text("x")
    assert "ferry.md" in files and "Selje ferry crosses" in files


def test_the_search_tool_holds_the_passages_it_finds():
    store = FaissStore.from_texts(
        ["The Selje ferry crosses the fjord."], DeterministicFakeEmbedding(size=8)
    )
    assert "Selje" in retriever_tool(store).known_text("ferry")


@pytest.mark.parametrize(
    ("request_text", "expected"),
    [
        ("In which country is Nordlys Labs?", ["knowledge_graph"]),
        ("What is the average unit price of Alice Moreau's orders?", ["sql_query"]),
        ("How long does the Selje ferry take to cross the fjord?", ["read_file"]),
        ("What is 17 * 23?", []),  # no tool's data: every tool is offered
    ],
)
def test_route_by_data_picks_the_tools_that_know_the_words(tools, request_text, expected):
    assert route_by_data(request_text, list(tools.values())) == expected


def test_ties_are_kept_in_order(tools):
    both = "Is Nordlys an orders customer?"  # one word in the graph, two in the database
    assert route_by_data(both, list(tools.values())) == ["sql_query"]
    assert route_by_data("Nordlys orders", list(tools.values())) == [
        "sql_query",
        "knowledge_graph",
    ]


def test_the_first_step_offers_the_routed_tools_then_every_tool(tools):
    replies = [
        AIMessage(
            "",
            tool_calls=[
                {"name": "knowledge_graph", "args": {"entity": "Nordlys Labs"}, "id": "g1"}
            ],
        ),  # fmt: skip
        "Bergen",
    ]
    model = FakeChatModel(responses=replies)
    offered = list(tools.values())
    result = create_agent(model, offered, first_tool_choice="route", tool_k=None).invoke(
        "Where is Nordlys Labs?"
    )
    assert model.calls[0].tools == ["knowledge_graph"]
    assert model.calls[0].options["tool_choice"] == "any"
    assert model.calls[1].tools == [t.name for t in offered]
    assert model.calls[1].options["tool_choice"] == "auto"
    assert result.output == "Bergen"
    assert result.steps[0]["kind"] == "select" and result.steps[0]["tools"] == ["knowledge_graph"]


def test_a_request_no_data_names_offers_every_tool(tools):
    model = FakeChatModel(responses=["391"])
    create_agent(model, list(tools.values()), first_tool_choice="route", tool_k=None).invoke(
        "17 * 23?"
    )
    assert model.calls[0].tools == [t.name for t in tools.values()]
    assert model.calls[0].options["tool_choice"] == "any"


class _Recording(FakeChatModel):
    """Records the path enum of each bound read_file tool."""

    def bind_tools(self, tools, **kwargs):
        for tool in tools:
            if getattr(tool, "name", "") == "read_file":
                params = convert_to_openai_tool(tool)["function"]["parameters"]
                _bound.append(params["properties"]["path"].get("enum"))
        return super().bind_tools(tools, **kwargs)


_bound: list[list[str] | None] = []


@pytest.mark.parametrize("focus", [True, False])
def test_the_agent_focuses_the_built_in_tools_on_the_request(tools, focus):
    (tools["files"].root / "bakery.md").write_text("Lumen Bakery bakes 480 loaves a day.")
    _bound.clear()
    call = {"name": "read_file", "args": {"path": "bakery.md"}, "id": "f1"}
    model = _Recording(responses=[AIMessage("", tool_calls=[call]), "480"])
    agent = create_agent(model, list(tools.values()), tool_k=None, focus_arguments=focus)
    assert agent.invoke("How many loaves does Lumen Bakery bake?").output == "480"
    offered = ["bakery.md"] if focus else [".", "bakery.md", "ferry.md"]
    assert _bound == [offered, offered]
