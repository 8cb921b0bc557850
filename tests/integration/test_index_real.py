"""The index end to end on the real packaged all-MiniLM-L6-v2: load, split, embed, retrieve."""

from __future__ import annotations

import pytest

from localchain.index import (
    FaissStore,
    format_docs_with_citations,
    load_documents,
    relevance_filter,
    split_documents,
)
from localchain.models.embeddings import LocalEmbeddings
from tests.unit.index._pdf import write_pdf

pytestmark = pytest.mark.slow

PARAGRAPHS = {
    "volcanoes.txt": (
        "Volcanoes form where magma from the Earth's mantle reaches the surface. Eruptions "
        "release lava, ash and gases such as sulfur dioxide."
    ),
    "baking.md": (
        "# Sourdough\n\nSourdough bread rises with a starter of wild yeast and lactic acid "
        "bacteria. Bakers feed the starter with flour and water every day."
    ),
    "chess.html": (
        "<html><head><title>Chess</title></head><body><p>In chess, castling moves the king two "
        "squares towards a rook, and the rook jumps over the king.</p></body></html>"
    ),
}
PDF_PAGES = [
    "The Nile flows north through eleven countries into the Mediterranean Sea.",
    "Photosynthesis turns sunlight, water and carbon dioxide into glucose and oxygen.",
]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    for name, text in PARAGRAPHS.items():
        (root / name).write_text(text)
    write_pdf(root / "science.pdf", PDF_PAGES)
    chunks = split_documents(load_documents(root), chunk_size=64, chunk_overlap=8)
    return FaissStore.from_documents(chunks, LocalEmbeddings(model="all-minilm-l6-v2"))


@pytest.mark.parametrize(
    ("question", "source", "page"),
    [
        ("What comes out of a volcano when it erupts?", "volcanoes.txt", None),
        ("How do you keep a sourdough starter alive?", "baking.md", None),
        ("Which chess move involves the king and a rook?", "chess.html", None),
        ("How do plants make sugar from light?", "science.pdf", 2),
        ("Which river runs into the Mediterranean?", "science.pdf", 1),
    ],
)
def test_relevant_passage_ranks_first(store, question, source, page):
    [(best, score), (second, second_score)] = store.similarity_search_with_score(question, k=2)
    assert best.metadata["source"].endswith(source)
    assert best.metadata.get("page") == page
    assert score > second_score


def test_irrelevant_question_is_filtered_out(store):
    found = store.similarity_search_with_score("What is the capital of France?", k=3)
    assert relevance_filter(found, 0.5) == []
    relevant = store.similarity_search_with_score("volcanic eruption lava", k=3)
    kept = relevance_filter(relevant, 0.5)
    assert kept and kept[0][0].metadata["source"].endswith("volcanoes.txt")
    assert format_docs_with_citations(kept).startswith("[1] (source: ")


def test_save_load_keeps_rankings(store, tmp_path):
    loaded = FaissStore.load_local(store.save_local(tmp_path), LocalEmbeddings())
    question = "Tell me about bread"
    assert [d.id for d in loaded.similarity_search(question, k=3)] == [
        d.id for d in store.similarity_search(question, k=3)
    ]
