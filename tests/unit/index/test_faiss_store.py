"""FaissStore on hand-made keyword vectors: ids, delete, search, filters, MMR, save/load."""

from __future__ import annotations

import json
import math

import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from localchain.index import FaissStore, VectorStoreError

VOCAB = ["cat", "dog", "car", "paris", "france", "food"]


class KeywordEmbeddings(Embeddings):
    """Counts of each VOCAB word: cosine similarity is easy to work out by hand."""

    def __init__(self, extra: int = 0) -> None:
        self.extra = extra
        self.calls = 0

    def _vector(self, text: str) -> list[float]:
        words = text.lower().replace(".", "").split()
        return [float(words.count(w)) for w in VOCAB] + [0.0] * self.extra

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        self.calls += 1
        return self._vector(text)


TEXTS = ["cat cat dog", "dog", "car", "paris france", "france food food"]
METAS = [
    {"kind": "pet", "n": 1},
    {"kind": "pet", "n": 2},
    {"kind": "vehicle", "n": 3},
    {"kind": "place", "n": 4},
    {"kind": "place", "n": 5},
]


@pytest.fixture
def store():
    return FaissStore.from_texts(
        TEXTS, KeywordEmbeddings(), metadatas=METAS, ids=["a", "b", "c", "d", "e"]
    )


def test_search_orders_by_cosine_and_scores_are_cosines(store):
    found = store.similarity_search_with_score("cat dog", k=3)
    assert [(d.id, d.page_content) for d, _ in found[:2]] == [("a", "cat cat dog"), ("b", "dog")]
    assert found[0][1] == pytest.approx(3 / math.sqrt(10))
    assert found[1][1] == pytest.approx(1 / math.sqrt(2))
    assert found[2][1] == pytest.approx(0.0)  # shares no word with the query
    assert found[0][0].metadata == {"kind": "pet", "n": 1}
    assert [d.id for d in store.similarity_search("france", k=5)][:2] == ["d", "e"]
    assert len(store.similarity_search("dog", k=100)) == 5


def test_results_are_copies(store):
    doc = store.similarity_search("car", k=1)[0]
    doc.metadata["kind"] = "changed"
    assert store.get_by_ids(["c"])[0].metadata["kind"] == "vehicle"


def test_ids_generated_from_documents_and_replaced(store):
    new_ids = store.add_texts(["cat"])
    assert len(new_ids[0]) == 36  # a uuid4
    ids = store.add_documents([Document("dog dog", id="mine"), Document("car car")])
    assert ids[0] == "mine" and ids[1] not in ("mine", None)
    assert len(store) == 8
    store.add_texts(["food"], [{"kind": "meal"}], ids=["a"])  # "a" exists: replaced
    assert len(store) == 8
    assert store.get_by_ids(["a"]) == [Document("food", metadata={"kind": "meal"}, id="a")]
    assert store.similarity_search("cat", k=1)[0].id == new_ids[0]


def test_same_id_twice_in_one_call_is_an_error(store):
    with pytest.raises(VectorStoreError, match=r"same id .*'x' for texts \[0, 1\]") as info:
        store.add_texts(["cat", "dog"], ids=["x", "x"])
    assert "nothing was added" in str(info.value) and "would replace" not in str(info.value)
    assert len(store) == 5


def test_load_is_an_alias_of_load_local(store, tmp_path):
    folder = store.save_local(tmp_path / "idx")
    loaded = FaissStore.load(folder, KeywordEmbeddings())
    assert isinstance(loaded, FaissStore) and len(loaded) == len(store)
    assert loaded.get_by_ids(["a"]) == store.get_by_ids(["a"])


@pytest.mark.parametrize("field", ["id", "int_id"])
def test_a_docstore_listing_an_id_twice_is_refused(store, tmp_path, field):
    folder = store.save_local(tmp_path / "idx")
    path = folder / "docstore.json"
    saved = json.loads(path.read_text())
    saved["documents"][1][field] = saved["documents"][0][field]
    path.write_text(json.dumps(saved))
    with pytest.raises(VectorStoreError, match=f"docstore.json lists the {field} .* twice"):
        FaissStore.load_local(folder, KeywordEmbeddings())


def test_bad_adds_change_nothing(store):
    with pytest.raises(VectorStoreError, match="2 texts, 1 metadatas"):
        store.add_texts(["cat", "dog"], [{}])
    with pytest.raises(VectorStoreError, match="Text 1 is empty"):
        store.add_texts(["cat", "  "])
    wrong = FaissStore(KeywordEmbeddings(extra=2))
    wrong.add_texts(["cat"])
    store._embedding = KeywordEmbeddings(extra=2)
    with pytest.raises(VectorStoreError, match="have 8 dimensions but this store holds 6"):
        store.add_texts(["cat"])
    assert len(store) == 5
    assert store.add_texts([]) == []


def test_delete_and_get_by_ids(store):
    assert store.get_by_ids(["e", "zzz", "a"]) == [
        Document("france food food", metadata=METAS[4], id="e"),
        Document("cat cat dog", metadata=METAS[0], id="a"),
    ]
    assert store.delete(["a", "a", "missing"]) is True
    assert len(store) == 4
    assert store.similarity_search("cat", k=1)[0].id == "b"
    store.delete()
    assert len(store) == 0
    assert store.similarity_search("cat") == []


def test_metadata_filters(store):
    assert [d.id for d in store.similarity_search("paris", k=5, filter={"kind": "place"})] == [
        "d",
        "e",
    ]
    by_callable = store.similarity_search("dog food", k=2, filter=lambda m: m["n"] % 2 == 1)
    assert [d.id for d in by_callable] == ["e", "a"]
    # exact even when the matches rank far below k unfiltered results
    assert [d.id for d in store.similarity_search("cat", k=1, filter={"n": 5})] == ["e"]
    assert store.similarity_search("cat", filter={"kind": "boat"}) == []
    assert store.similarity_search("cat", filter={"missing": None}) == []
    with pytest.raises(VectorStoreError, match="filter must be a dict or a callable"):
        store.similarity_search("cat", filter="kind=pet")  # type: ignore[arg-type]


def test_thresholds_and_relevance_scores(store):
    found = store.similarity_search_with_score("cat", k=5, score_threshold=0.5)
    assert [d.id for d, _ in found] == ["a"]
    relevance = store.similarity_search_with_relevance_scores("paris", k=5)
    assert all(0.0 <= score <= 1.0 for _, score in relevance)
    assert relevance[0][0].id == "d"
    with pytest.raises(VectorStoreError, match="k must be at least 1"):
        store.similarity_search("cat", k=0)


def test_mmr_prefers_diverse_results():
    texts = ["cat", "cat", "cat dog", "dog car"]
    store = FaissStore.from_texts(texts, KeywordEmbeddings(), ids=["c1", "c2", "cd", "dc"])
    plain = [d.id for d in store.similarity_search("cat", k=2)]
    assert set(plain) == {"c1", "c2"}  # the two duplicates
    diverse = store.max_marginal_relevance_search("cat", k=2, fetch_k=4, lambda_mult=0.3)
    assert diverse[0].id in ("c1", "c2") and diverse[1].id not in ("c1", "c2")
    filtered = store.max_marginal_relevance_search("cat", k=2, filter={"nope": 1})
    assert filtered == []
    by_vector = store.max_marginal_relevance_search_by_vector([1, 0, 0, 0, 0, 0], k=1)
    assert by_vector[0].id in ("c1", "c2")
    with pytest.raises(VectorStoreError, match="lambda_mult"):
        store.max_marginal_relevance_search("cat", lambda_mult=2.0)


def test_save_load_round_trip(store, tmp_path):
    folder = store.save_local(tmp_path / "idx")
    assert sorted(p.name for p in folder.iterdir()) == ["docstore.json", "index.faiss"]
    saved = json.loads((folder / "docstore.json").read_text())
    assert saved["format"] == "localchain-faiss" and saved["dimension"] == len(VOCAB)
    loaded = FaissStore.load_local(folder, KeywordEmbeddings())
    for query in ["cat", "france food", "car"]:
        before = store.similarity_search_with_score(query, k=5)
        after = loaded.similarity_search_with_score(query, k=5)
        assert [d for d, _ in after] == [d for d, _ in before]
        assert [s for _, s in after] == pytest.approx([s for _, s in before])
    assert loaded.get_by_ids(["a", "e"]) == store.get_by_ids(["a", "e"])
    new = loaded.add_texts(["car car"])  # fresh int ids do not clash with loaded ones
    loaded.delete(["c"])
    assert [d.id for d in loaded.similarity_search("car", k=1)] == new
    loaded.save_local(folder)  # overwrite in place
    assert len(FaissStore.load_local(folder, KeywordEmbeddings())) == 5


def test_save_load_empty_store(tmp_path):
    FaissStore(KeywordEmbeddings()).save_local(tmp_path)
    loaded = FaissStore.load_local(tmp_path, KeywordEmbeddings())
    assert len(loaded) == 0 and loaded.similarity_search("cat") == []
    loaded.add_texts(["cat"])
    assert len(loaded.similarity_search("cat")) == 1


def test_save_refuses_non_json_metadata(tmp_path):
    store = FaissStore.from_texts(["cat"], KeywordEmbeddings(), [{"when": object()}], ids=["x"])
    with pytest.raises(VectorStoreError, match="document 'x' has metadata 'when'"):
        store.save_local(tmp_path / "idx")
    assert not (tmp_path / "idx" / "docstore.json").exists()


def test_load_errors(store, tmp_path):
    with pytest.raises(VectorStoreError, match="does not exist"):
        FaissStore.load_local(tmp_path / "missing", KeywordEmbeddings())
    folder = store.save_local(tmp_path / "idx")
    other = FaissStore.from_texts(["cat"], KeywordEmbeddings()).save_local(tmp_path / "other")
    (folder / "index.faiss").write_bytes((other / "index.faiss").read_bytes())
    with pytest.raises(VectorStoreError, match="does not match docstore.json"):
        FaissStore.load_local(folder, KeywordEmbeddings())
    (folder / "index.faiss").write_bytes(b"garbage")
    with pytest.raises(VectorStoreError, match="index.faiss is not a FAISS"):
        FaissStore.load_local(folder, KeywordEmbeddings())
    (folder / "docstore.json").write_text("{not json")
    with pytest.raises(VectorStoreError, match="docstore.json is unreadable"):
        FaissStore.load_local(folder, KeywordEmbeddings())


def test_query_with_other_embeddings_is_a_clear_error(store, tmp_path):
    loaded = FaissStore.load_local(store.save_local(tmp_path), KeywordEmbeddings(extra=3))
    with pytest.raises(VectorStoreError, match="query vectors have 9 dimensions.*holds 6"):
        loaded.similarity_search("cat")


def test_from_documents_and_retriever():
    docs = [Document(t, metadata=m) for t, m in zip(TEXTS, METAS)]
    store = FaissStore.from_documents(docs, KeywordEmbeddings())
    retriever = store.as_retriever(search_kwargs={"k": 2, "filter": {"kind": "place"}})
    assert [d.page_content for d in retriever.invoke("food")] == [
        "france food food",
        "paris france",
    ]
    mmr = store.as_retriever(search_type="mmr", search_kwargs={"k": 2})
    assert len(mmr.invoke("dog")) == 2
    threshold = store.as_retriever(
        search_type="similarity_score_threshold", search_kwargs={"score_threshold": 0.9}
    )
    assert [d.page_content for d in threshold.invoke("car")] == ["car"]


async def test_async_methods(store):
    ids = await store.aadd_texts(["cat"], ids=["new"])
    assert ids == ["new"]
    assert (await store.aget_by_ids(["new"]))[0].page_content == "cat"
    found = await store.asimilarity_search_with_score("car", k=1)
    assert found[0][0].id == "c"
    assert [d.id for d in await store.amax_marginal_relevance_search("car", k=1)] == ["c"]
    await store.adelete(["new"])
    assert len(store) == 5
    built = await FaissStore.afrom_texts(["dog"], KeywordEmbeddings())
    assert len(await built.asimilarity_search("dog")) == 1
