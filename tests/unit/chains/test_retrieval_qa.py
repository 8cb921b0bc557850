"""Retrieval QA with fake embeddings: citations, "I don't know", async, errors."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.exceptions import OutputParserException
from langchain_core.retrievers import BaseRetriever
from langchain_core.vectorstores import InMemoryVectorStore

from localchain.chains import I_DONT_KNOW, RetrievalQAChain, create_retrieval_qa
from localchain.errors import ConfigError
from localchain.models import FakeChatModel

WORDS = ["paris", "louvre", "python", "snake"]


class KeywordEmbeddings(Embeddings):
    def _embed(self, text):
        text = text.lower()
        return [float(text.count(w)) for w in WORDS] + [0.01]

    def embed_documents(self, texts):
        return [self._embed(t) for t in texts]

    def embed_query(self, text):
        return self._embed(text)


DOCS = [
    Document("Paris is the capital of France.", metadata={"source": "paris.md"}),
    Document("The Louvre is a museum in Paris.", metadata={"source": "guide.pdf", "page": 3}),
    Document("A python is a snake.", metadata={"source": "zoo.txt"}),
]


@pytest.fixture
def store():
    return InMemoryVectorStore.from_documents(DOCS, KeywordEmbeddings())


def test_answers_with_numbered_citations_and_sources(store):
    model = FakeChatModel(responses=["The Louvre is in Paris [1][2]. See also [9]."])
    qa = RetrievalQAChain(model, store, k=2, score_threshold=0.5)
    out = qa.invoke("Where is the Louvre in Paris?")
    assert out["answer"].startswith("The Louvre is in Paris")
    assert out["cited"] == [1, 2]  # [9] names no passage
    assert out["citations"] == ["guide.pdf, page 3", "paris.md"]
    assert [d.metadata["source"] for d in out["sources"]] == ["guide.pdf", "paris.md"]
    prompt = model.calls[0].messages[-1].text
    assert "[1] (source: guide.pdf, page 3)" in prompt and "[2] (source: paris.md)" in prompt


def test_says_i_dont_know_without_calling_the_model(store):
    model = FakeChatModel(responses=[])
    qa = create_retrieval_qa(model, store, score_threshold=0.5)
    out = qa.invoke({"question": "What is the boiling point of tin?"})
    assert out["answer"] == I_DONT_KNOW and out["sources"] == [] and model.calls == []
    empty = RetrievalQAChain(model, InMemoryVectorStore(KeywordEmbeddings()))
    assert empty.invoke("anything")["answer"] == I_DONT_KNOW


async def test_async_batch_and_a_plain_retriever(store):
    model = FakeChatModel(fn=lambda m, o: "A snake [1].")
    qa = RetrievalQAChain(model, store.as_retriever(search_kwargs={"k": 1}))
    out = await qa.ainvoke("What is a python snake?")
    assert out["citations"] == ["zoo.txt"] and out["cited"] == [1]
    outs = await qa.abatch(["python?", "snake?"])
    assert all(o["answer"] == "A snake [1]." for o in outs)
    assert qa.batch(["python?"])[0]["cited"] == [1]
    thresholded = RetrievalQAChain(
        model, store.as_retriever(search_kwargs={"k": 1}), score_threshold=0.6
    )
    assert (await thresholded.ainvoke("the Louvre"))["citations"] == ["guide.pdf, page 3"]
    assert (await thresholded.ainvoke("tin"))["answer"] == I_DONT_KNOW


class NoScores(BaseRetriever):
    def _get_relevant_documents(self, query, *, run_manager):
        return [Document("   ")]


def test_errors(store):
    model = FakeChatModel(fn=lambda m, o: "  ")
    qa = RetrievalQAChain(model, store)
    with pytest.raises(OutputParserException, match="empty answer"):
        qa.invoke("Paris?")
    with pytest.raises(ConfigError, match="non-empty string"):
        qa.invoke("  ")
    with pytest.raises(ConfigError, match="under 'question'"):
        qa.invoke({"q": "Paris?"})
    with pytest.raises(ConfigError, match="needs scores"):
        RetrievalQAChain(model, NoScores(), score_threshold=0.2)
    assert RetrievalQAChain(model, NoScores()).invoke("x")["answer"] == I_DONT_KNOW  # blank doc
    with pytest.raises(ConfigError, match="VectorStore or a BaseRetriever"):
        RetrievalQAChain(model, [DOCS])
    with pytest.raises(ConfigError, match="k must be"):
        RetrievalQAChain(model, store, k=0)
