"""Splitting: chunks fit the MiniLM token budget and keep their document's metadata.

The packaged all-MiniLM-L6-v2 tokenizer (tokenizer.json only, no weights) measures chunks.
"""

from __future__ import annotations

import pytest
from langchain_core.documents import Document

from localchain.errors import ConfigError, ModelNotFoundError
from localchain.index import make_splitter, split_documents, token_counter

WORDS = [
    "tokenization",
    "embeddings",
    "retrieval",
    "antidisestablishmentarianism",
    "Zürich",
    "naïve",
]


def _long_text(paragraphs: int = 6, sentences: int = 12) -> str:
    paras = []
    for p in range(paragraphs):
        sentence = " ".join(WORDS[(p + i) % len(WORDS)] for i in range(9))
        paras.append(" ".join(f"{sentence} number {p}.{s}." for s in range(sentences)))
    return "\n\n".join(paras)


@pytest.fixture(scope="module")
def count():
    return token_counter()[0]


def test_token_counter_uses_minilm_wordpieces(count):
    counter, budget = token_counter("all-minilm-l6-v2")
    assert budget == 254  # max_seq_length 256 less [CLS] and [SEP]
    assert counter("hello world") == 2
    assert counter("antidisestablishmentarianism") > 1  # word pieces, not words
    assert counter("a " * 300) == 300  # no truncation to the tokenizer.json default of 128


@pytest.mark.parametrize(("chunk_size", "overlap"), [(254, 30), (64, 8), (16, 0)])
def test_chunks_respect_the_token_budget(count, chunk_size, overlap):
    doc = Document(_long_text(), metadata={"source": "long.txt", "file_type": "text"})
    chunks = split_documents([doc], chunk_size=chunk_size, chunk_overlap=overlap)
    assert len(chunks) > 1
    assert max(count(c.page_content) for c in chunks) <= chunk_size
    assert all(c.page_content.strip() for c in chunks)


def test_metadata_is_kept_and_chunks_are_numbered(count):
    docs = [
        Document(_long_text(2), metadata={"source": "a.pdf", "page": 3}, id="doc-a"),
        Document("short text", metadata={"source": "b.txt"}),
    ]
    chunks = split_documents(docs, chunk_size=40, chunk_overlap=5)
    a_chunks = [c for c in chunks if c.metadata["source"] == "a.pdf"]
    assert [c.metadata["chunk"] for c in a_chunks] == list(range(len(a_chunks)))
    assert all(c.metadata["page"] == 3 for c in a_chunks)
    for c in a_chunks:  # start_index points at the chunk in the original text
        start = c.metadata["start_index"]
        assert docs[0].page_content[start : start + len(c.page_content)] == c.page_content
    assert chunks[-1].page_content == "short text"
    assert chunks[-1].metadata == {"source": "b.txt", "chunk": 0, "start_index": 0}
    assert docs[0].metadata == {"source": "a.pdf", "page": 3}  # inputs untouched
    assert all(c.id is None for c in chunks)


def test_markdown_splits_on_headings_first():
    text = "# One\n\n" + "alpha " * 30 + "\n\n## Two\n\n" + "beta " * 30
    doc = Document(text, metadata={"file_type": "markdown"})
    chunks = split_documents([doc], chunk_size=40, chunk_overlap=0)
    assert chunks[0].page_content.startswith("# One")
    assert any(c.page_content.startswith("## Two") for c in chunks)


def test_custom_length_function_counts_characters():
    chunks = split_documents(
        [Document("word " * 100)], chunk_size=50, chunk_overlap=0, length_function=len
    )
    assert max(len(c.page_content) for c in chunks) <= 50


def test_bad_sizes_are_config_errors():
    with pytest.raises(ConfigError, match="exceeds what 'all-minilm-l6-v2' reads.*<= 254"):
        make_splitter(chunk_size=512)
    with pytest.raises(ConfigError, match="chunk_overlap < chunk_size"):
        make_splitter(chunk_size=10, chunk_overlap=10)
    with pytest.raises(ModelNotFoundError, match="Unknown embedding model"):
        make_splitter(model="no-such-model")
