"""retriever_tool over a FaissStore with keyword embeddings (no model): passages and sources."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever

from localchain.errors import ConfigError
from localchain.index import FaissStore
from localchain.tools import RetrieverTool, retriever_tool

VOCAB = ["paris", "france", "bread", "flour", "seine"]


class KeywordEmbeddings(Embeddings):
    """Counts of each VOCAB word."""

    def _vector(self, text):
        words = text.lower().replace(".", "").replace("'s", "").split()
        return [float(words.count(w)) for w in VOCAB]

    def embed_documents(self, texts):
        return [self._vector(t) for t in texts]

    def embed_query(self, text):
        return self._vector(text)


@pytest.fixture
def store():
    return FaissStore.from_texts(
        [
            "Paris is the capital of France.",
            "Bread is baked from flour.",
            "The Seine flows through Paris.",
        ],
        KeywordEmbeddings(),
        metadatas=[
            {"source": "geo.txt"},
            {"source": "food.txt"},
            {"source": "river.md", "page": 2},
        ],
    )


def call(tool, args):
    return tool.invoke({"name": tool.name, "args": args, "id": "r1", "type": "tool_call"})


def test_returns_numbered_passages_with_sources_and_documents_as_artifact(store):
    tool = retriever_tool(store, k=2)
    message = call(tool, {"query": "paris france"})
    assert message.status == "success"
    assert message.content.startswith("[1] (source: geo.txt)\nParis is the capital of France.")
    assert "[2] (source: river.md, page 2)" in message.content
    assert [doc.metadata["source"] for doc in message.artifact] == ["geo.txt", "river.md"]


def test_plain_invoke_gives_the_text(store):
    text = retriever_tool(store, k=1).invoke({"query": "bread"})
    assert text == "[1] (source: food.txt)\nBread is baked from flour."


def test_name_description_and_schema(store):
    tool = retriever_tool(store, name="search_notes", description="Search my notes.")
    assert isinstance(tool, RetrieverTool)
    assert (tool.name, tool.description, list(tool.args)) == (
        "search_notes",
        "Search my notes.",
        ["query"],
    )


def test_passages_are_cut(store):
    long = FaissStore.from_texts(["paris " * 500], KeywordEmbeddings(), metadatas=[{"source": "x"}])
    text = retriever_tool(long, max_chars_per_passage=60).invoke({"query": "paris"})
    assert text.endswith("[...]") and len(text) < 120


def test_empty_store_says_nothing_found():
    empty = FaissStore(KeywordEmbeddings())
    message = call(retriever_tool(empty), {"query": "paris"})
    assert message.status == "success" and message.content.startswith("No passages found")


def test_bad_arguments_become_error_messages(store):
    tool = retriever_tool(store)
    assert call(tool, {"query": "  "}).status == "error"
    missing = call(tool, {"q": "paris"})
    assert missing.status == "error" and "query: Field required" in missing.content


def test_works_with_a_retriever_too(store):
    class Fixed(BaseRetriever):
        def _get_relevant_documents(self, query, *, run_manager):
            return [Document("Found it.", metadata={"source": "fixed.txt"})] * 5

    tool = retriever_tool(Fixed(), k=2)
    assert tool.invoke({"query": "x"}).count("(source: fixed.txt)") == 2


def test_async(store):
    message = asyncio.run(
        retriever_tool(store, k=1).ainvoke(
            {"name": "search_documents", "args": {"query": "flour"}, "id": "a", "type": "tool_call"}
        )
    )
    assert "food.txt" in message.content


def test_refuses_what_is_not_a_store_or_a_usable_name(store):
    with pytest.raises(ConfigError, match="VectorStore"):
        retriever_tool(["a list"])
    with pytest.raises(ConfigError, match="letters, digits"):
        retriever_tool(store, name="search my notes")


def test_query_length_is_capped_in_the_schema_and_the_constrained_call(store, tiny_decoder_path):
    """maxLength reaches the tool-call grammar: a model that never stops writing still closes."""
    from pydantic import BaseModel, Field

    from localchain import ChatLocal
    from localchain.tools.retriever import QUERY_MAX_CHARS

    tool = retriever_tool(store, name="search_documents")
    schema = tool.tool_call_schema.model_json_schema()
    assert schema["properties"]["query"]["maxLength"] == QUERY_MAX_CHARS

    class Lookup(BaseModel):
        """Look a word up."""

        word: str = Field(max_length=6)

    # The random tiny model (128-token window) writes characters until a rule stops it; here
    # only maxLength can, so the call closes long before max_tokens.
    chat = ChatLocal(model=str(tiny_decoder_path), device="cpu", max_tokens=60, truncation="left")
    reply = chat.bind_tools([Lookup], tool_choice="Lookup").invoke("look up paris")
    (call,) = reply.tool_calls
    assert 0 < len(call["args"]["word"]) <= 6
    assert reply.response_metadata["finish_reason"] == "stop"
