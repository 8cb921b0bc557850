"""Helpers for a retrieval-QA chain: relevance filtering and numbered citations."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document

from localchain.errors import ConfigError
from localchain.index import citation_sources, format_docs_with_citations, relevance_filter

DOCS = [
    Document("Paris is the capital of France.\n", metadata={"source": "notes/paris.md"}),
    Document("The Louvre is in Paris.", metadata={"source": "guide.pdf", "page": 3}),
    Document("No source here.", metadata={}),
]


def test_format_docs_with_citations_numbers_passages_with_sources():
    assert format_docs_with_citations(DOCS) == (
        "[1] (source: notes/paris.md)\nParis is the capital of France.\n\n"
        "[2] (source: guide.pdf, page 3)\nThe Louvre is in Paris.\n\n"
        "[3] (source: unknown source)\nNo source here."
    )
    assert citation_sources(DOCS) == ["notes/paris.md", "guide.pdf, page 3", "unknown source"]


def test_format_accepts_scored_pairs_and_empty_input():
    pairs = [(DOCS[1], 0.9)]
    assert format_docs_with_citations(pairs) == (
        "[1] (source: guide.pdf, page 3)\nThe Louvre is in Paris."
    )
    assert citation_sources(pairs) == ["guide.pdf, page 3"]
    assert format_docs_with_citations([]) == ""


def test_relevance_filter_keeps_pairs_at_or_above_threshold_in_order():
    pairs = [(DOCS[0], 0.2), (DOCS[1], 0.75), (DOCS[2], 0.5)]
    assert relevance_filter(pairs, 0.5) == [(DOCS[1], 0.75), (DOCS[2], 0.5)]
    assert relevance_filter(pairs, 0.8) == []
    assert relevance_filter(iter(pairs), -1) == pairs


@pytest.mark.parametrize("threshold", [float("nan"), float("inf"), "0.5", True])
def test_relevance_filter_rejects_bad_thresholds(threshold):
    with pytest.raises(ConfigError, match="threshold must be"):
        relevance_filter([(DOCS[0], 0.5)], threshold)


def test_relevance_filter_rejects_bare_documents():
    with pytest.raises(ConfigError, match="Item 0 is .* not a \\(Document, score\\) pair"):
        relevance_filter(DOCS, 0.5)  # type: ignore[arg-type]
