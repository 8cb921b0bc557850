"""Helpers a retrieval-QA chain uses: keep only relevant passages, and number them for citing.

The chain itself lives in ``localchain.chains``; these stay here, beside the store, so any chain
(or an app) can format retrieved passages the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from langchain_core.documents import Document

from localchain.errors import ConfigError

ScoredDocument = tuple[Document, float]


def relevance_filter(
    docs_with_scores: Iterable[ScoredDocument], threshold: float
) -> list[ScoredDocument]:
    """Keep the (document, score) pairs whose score reaches the threshold, in the given order.

    Scores are similarities where higher is more relevant: ``FaissStore`` gives cosine
    similarity (-1 to 1) from ``similarity_search_with_score`` and 0 to 1 from
    ``similarity_search_with_relevance_scores``. An empty result means "nothing relevant": the
    chain should say it does not know rather than answer from no context.

    Args:
        docs_with_scores: Pairs from a ``similarity_search_with_score``-style call.
        threshold: The lowest score kept (inclusive).

    Returns:
        The kept pairs.

    Raises:
        ConfigError: The threshold is not a finite number, or an item is not a pair.
    """
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        msg = f"threshold must be a number, got {threshold!r}."
        raise ConfigError(msg)
    if threshold != threshold or threshold in (float("inf"), float("-inf")):
        msg = f"threshold must be finite, got {threshold!r}; use e.g. 0.3."
        raise ConfigError(msg)
    kept = []
    for i, item in enumerate(docs_with_scores):
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], Document)):
            msg = (
                f"Item {i} is {item!r:.80}, not a (Document, score) pair; get pairs from "
                "similarity_search_with_score."
            )
            raise ConfigError(msg)
        if item[1] >= threshold:
            kept.append(item)
    return kept


def _citation_label(doc: Document) -> str:
    source = doc.metadata.get("source")
    label = str(source) if source not in (None, "") else "unknown source"
    page = doc.metadata.get("page")
    return f"{label}, page {page}" if page is not None else label


def format_docs_with_citations(docs: Sequence[Document | ScoredDocument]) -> str:
    """Number passages with their sources, for a prompt that asks the model to cite [n].

    Example:
        ```text
        [1] (source: notes/paris.md)
        Paris is the capital of France.

        [2] (source: guide.pdf, page 3)
        The Louvre is in Paris.
        ```

    Args:
        docs: Documents, or (document, score) pairs as retrieved; numbered from 1 in order.

    Returns:
        The passages separated by blank lines; "" when there are none (a chain should then say
        it does not know).
    """
    blocks = []
    for number, item in enumerate(docs, start=1):
        doc = item[0] if isinstance(item, tuple) else item
        blocks.append(f"[{number}] (source: {_citation_label(doc)})\n{doc.page_content.strip()}")
    return "\n\n".join(blocks)


def citation_sources(docs: Sequence[Document | ScoredDocument]) -> list[str]:
    """Return the label ``format_docs_with_citations`` gives each passage, in the same order.

    ``citation_sources(docs)[n - 1]`` is what citation [n] refers to, e.g. "guide.pdf, page 3".
    """
    return [_citation_label(item[0] if isinstance(item, tuple) else item) for item in docs]


__all__ = ["citation_sources", "format_docs_with_citations", "relevance_filter"]
