"""Arguments focused on the request: ``BuiltinTool.focused`` narrows the schema models see.

A 135M model picked ``library.md`` for a question about a bakery and searched for
``todo.txt``; a focused tool offers only the files, entities, relations and words that the
request (and the results so far) names, and everything where it names nothing.
"""

from __future__ import annotations

import re

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.utils.function_calling import convert_to_openai_tool

from localchain.chains import KnowledgeGraph, Triple
from localchain.index import FaissStore
from localchain.tools import knowledge_graph_tool, read_file_tool, retriever_tool
from localchain.tools._words import most_shared, named_in, shared_words


def _properties(tool) -> dict:
    return convert_to_openai_tool(tool)["function"]["parameters"]["properties"]


@pytest.fixture
def docs(tmp_path):
    (tmp_path / "bakery.md").write_text("Lumen Bakery bakes 480 loaves a day.")
    (tmp_path / "library.md").write_text("The Brindle Library holds 15400 books.")
    return tmp_path


@pytest.fixture
def graph():
    facts = [
        ("Nordlys Labs", "founded_by", "Ines Varga"),
        ("Ines Varga", "born_in", "Tromso"),
        ("Brindle Library", "located_in", "Dunmore"),
        ("Harrow Hill Observatory", "located_in", "Dunmore"),
    ]
    return KnowledgeGraph([Triple(subject=s, relation=r, object=o) for s, r, o in facts])


def test_words_match_as_they_are_or_by_their_first_letters():
    assert shared_words({"founder", "born"}, "founded_by born_in") == 2
    assert shared_words({"loaves"}, "Lumen Bakery bakes 480 loaves") == 1
    assert shared_words({"cat"}, "category") == 0  # short words match only whole
    assert most_shared(["a.md", "b.md"], "bakery", {"a.md": "bakery", "b.md": "books"}) == ["a.md"]
    assert most_shared(["a.md", "b.md"], "17 * 23") == ["a.md", "b.md"]  # nothing named: all
    both = "In which town are both the Brindle Library and the Harrow Hill Observatory?"
    names = ["Brindle Library", "Dunmore", "Harrow Hill Observatory", "Nordlys Labs"]
    assert named_in(names, both) == ["Brindle Library", "Harrow Hill Observatory"]


def test_a_focused_file_reader_offers_the_files_about_the_request(docs):
    tool = read_file_tool(docs)
    assert _properties(tool)["path"]["enum"] == [".", "bakery.md", "library.md"]
    focused = tool.focused("How many loaves does Lumen Bakery bake in 30 days?")
    assert _properties(focused)["path"]["enum"] == ["bakery.md"]
    assert _properties(tool.focused("What is 17 * 23?"))["path"]["enum"] == [
        ".",
        "bakery.md",
        "library.md",
    ]
    # Only the schema is narrowed: the focused tool reads any file as the original does.
    assert focused.invoke({"path": "library.md"}) == tool.invoke({"path": "library.md"})
    assert tool.focus is None and focused.name == tool.name


def test_a_focused_graph_offers_the_entities_named_and_the_relations_asked(graph):
    tool = knowledge_graph_tool(graph)
    params = _properties(tool.focused("Where was the founder of Nordlys Labs born?"))
    assert params["entity"]["enum"] == ["Nordlys Labs"]
    assert params["relation"]["enum"] == ["born_in", "founded_by"]
    both = _properties(
        tool.focused("In which town are both the Brindle Library and the Harrow Hill Observatory?")
    )
    assert both["entity"]["enum"] == ["Brindle Library", "Harrow Hill Observatory"]
    assert both["relation"]["enum"] == ["born_in", "founded_by", "located_in"]  # none asked
    # A result that names an entity lets the next call look it up.
    later = _properties(tool.focused("Where was the founder born?\nNordlys Labs --> Ines Varga"))
    assert "Ines Varga" in later["entity"]["enum"]


def test_a_focused_search_is_made_of_the_request_s_words():
    store = FaissStore.from_texts(["Lumen Bakery bakes bread."], DeterministicFakeEmbedding(size=8))
    tool = retriever_tool(store)
    assert "pattern" not in _properties(tool)["query"]
    pattern = _properties(tool.focused("How many loaves does Lumen Bakery bake?"))["query"][
        "pattern"
    ]
    assert re.search(pattern, "Lumen Bakery loaves")
    assert not re.search(pattern, "todo.txt") and not re.search(pattern, "Lumen  Bakery")
    assert not re.search(pattern, " ".join(["Lumen"] * 9))  # at most 8 words


def test_the_prompt_reads_as_unfocused_while_the_schema_is_narrowed(docs, graph):
    from localchain.models.tool_calling import PROMPT_ENUM, tools_system_prompt

    request = "How many loaves does Lumen Bakery bake, and where was the founder born?"
    for tool in (read_file_tool(docs), knowledge_graph_tool(graph)):
        plain = [convert_to_openai_tool(tool)]
        focused = [convert_to_openai_tool(tool.focused(request))]
        assert focused != plain  # the grammar's schema is narrowed...
        # ...the prompt lists every value, as it did: the model picks its tool as before.
        assert tools_system_prompt(focused, "auto") == tools_system_prompt(plain, "auto")
        assert PROMPT_ENUM not in tools_system_prompt(focused, "auto")
    params = _properties(knowledge_graph_tool(graph).focused(request))
    assert params["relation"]["enum"] == ["born_in", "founded_by"]
    assert params["relation"][PROMPT_ENUM] == ["born_in", "founded_by", "located_in"]
