"""Vector-store memory with hand-made keyword embeddings."""

from __future__ import annotations

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings
from langchain_core.vectorstores import InMemoryVectorStore

from localchain.errors import ConfigError
from localchain.memory import VectorStoreMemory

TOPICS = ["cat", "car", "cake", "code"]


class KeywordEmbeddings(Embeddings):
    """One dimension per topic word, plus a constant so no vector is zero."""

    def _embed(self, text):
        words = text.lower()
        return [float(words.count(topic)) for topic in TOPICS] + [0.1]

    def embed_documents(self, texts):
        return [self._embed(t) for t in texts]

    def embed_query(self, text):
        return self._embed(text)


def _fill(memory):
    memory.add_turn("My cat is called Tom.", "A fine cat name.")
    memory.add_turn("I drive a red car.", "Nice car.")
    memory.add_turn("I baked a cake.", "Yum, cake.")
    memory.add_turn("Hello again.", "Hi.")


def test_recalls_relevant_older_turns_and_keeps_recent_verbatim():
    memory = VectorStoreMemory(KeywordEmbeddings(), k=1, keep_last=1)
    _fill(memory)
    loaded = memory.load("What is my cat called?")
    assert loaded[0].type == "system"
    assert "Tom" in loaded[0].text and "car" not in loaded[0].text
    assert [m.text for m in loaded[1:]] == ["Hello again.", "Hi."]


def test_min_score_filters_irrelevant_turns():
    memory = VectorStoreMemory(KeywordEmbeddings(), k=3, keep_last=1, min_score=0.9)
    _fill(memory)
    loaded = memory.load("tell me about the car")
    assert "red car" in loaded[0].text and "cake" not in loaded[0].text


async def test_async_load_and_shared_store_namespaces():
    store = InMemoryVectorStore(KeywordEmbeddings())
    one = VectorStoreMemory(vectorstore=store, k=2, keep_last=1)
    two = VectorStoreMemory(vectorstore=store, k=2, keep_last=1)
    _fill(one)
    two.add_turn("I write code.", "Python?")
    two.add_turn("yes", "ok")
    loaded = await two.aload("cat cake car code")
    assert "code" in loaded[0].text and "Tom" not in loaded[0].text
    loaded = await one.aload("cake")
    assert "cake" in loaded[0].text


def test_each_turn_is_indexed_once_and_clear_deletes_them():
    store = InMemoryVectorStore(DeterministicFakeEmbedding(size=8))
    memory = VectorStoreMemory(vectorstore=store, keep_last=1)
    _fill(memory)
    memory.load("x")
    memory.load("y")
    assert len(store.store) == 3
    memory.clear()
    assert len(store.store) == 0 and memory.load("x") == []


def test_bad_arguments():
    with pytest.raises(ConfigError, match="exactly one"):
        VectorStoreMemory()
    with pytest.raises(ConfigError, match="exactly one"):
        VectorStoreMemory(KeywordEmbeddings(), vectorstore=InMemoryVectorStore(KeywordEmbeddings()))
    with pytest.raises(ConfigError, match="VectorStore"):
        VectorStoreMemory(vectorstore=object())
    with pytest.raises(ConfigError, match="min_score"):
        VectorStoreMemory(KeywordEmbeddings(), min_score="high")
