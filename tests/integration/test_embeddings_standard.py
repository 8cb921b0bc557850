"""LocalEmbeddings on the real packaged all-MiniLM-L6-v2: the langchain-tests suite and sanity."""

from __future__ import annotations

import asyncio
import math

import pytest
from langchain_tests.integration_tests import EmbeddingsIntegrationTests

from localchain.models.embeddings import LocalEmbeddings

pytestmark = pytest.mark.slow


class TestLocalEmbeddingsIntegration(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[LocalEmbeddings]:
        return LocalEmbeddings

    @property
    def embedding_model_params(self) -> dict:
        return {"model": "all-minilm-l6-v2", "device": "cpu"}


@pytest.fixture(scope="module")
def minilm() -> LocalEmbeddings:
    return LocalEmbeddings(model="all-minilm-l6-v2", device="cpu")


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def test_dimensions_and_unit_norm(minilm):
    assert minilm.dimensions == 384
    vectors = minilm.embed_documents(["king", "The quick brown fox jumps over the lazy dog.", ""])
    assert [len(v) for v in vectors] == [384, 384, 384]
    for v in vectors:
        assert math.sqrt(sum(x * x for x in v)) == pytest.approx(1.0, abs=1e-4)


def test_semantic_similarity(minilm):
    king, queen, carburetor = minilm.embed_documents(["king", "queen", "carburetor"])
    assert _cosine(king, queen) > _cosine(king, carburetor)
    question = minilm.embed_query("What is the capital of France?")
    paris, recipe = minilm.embed_documents(
        ["Paris is the capital of France.", "Whisk the eggs with sugar until pale."]
    )
    assert _cosine(question, paris) > _cosine(question, recipe)


def test_batch_equals_single(minilm):
    texts = [f"sentence number {i} about topic {i % 3}" for i in range(10)]
    batched = LocalEmbeddings(batch_size=3).embed_documents(texts)
    for text, vector in zip(texts, batched):
        assert minilm.embed_query(text) == pytest.approx(vector, abs=1e-4)


async def test_concurrent_async_queries(minilm):
    texts = ["king", "queen", "car", "paris", "london", "tea", "coffee", "bread"]
    vectors = await asyncio.gather(*(minilm.aembed_query(t) for t in texts))
    for text, vector in zip(texts, vectors):
        assert vector == pytest.approx(minilm.embed_query(text), abs=1e-4)
