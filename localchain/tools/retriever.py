"""``retriever_tool``: search a vector store (or any retriever) and return passages with sources.

Passages come back numbered, each with its ``metadata["source"]`` (and page, when there is
one), in the format ``localchain.index.format_docs_with_citations`` uses, so an agent's answer
can cite ``[n]``. The documents themselves ride along as the ``ToolMessage``'s artifact.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.vectorstores import VectorStore
from pydantic import BaseModel, Field

from localchain.errors import ConfigError, ToolError
from localchain.index.retrieval import format_docs_with_citations
from localchain.tools._builtin import BuiltinTool
from localchain.tools._words import WORD

QUERY_MAX_CHARS = 100
"""Longest search query the tool accepts (and the tool-call grammar allows)."""

DEFAULT_DESCRIPTION = (
    "Search the documents for passages about a topic. Input: a short search query. Returns "
    "numbered passages with their sources; cite them as [1], [2]."
)


FOCUS_QUERY_WORDS = 8
"""The most words in a focused query (see ``RetrieverTool.call_schema_extras``)."""
FOCUS_WORDS = 300
"""The most distinct words of the focus a query may choose from."""


class RetrieverInput(BaseModel):
    """Arguments of a retriever tool."""

    query: str = Field(
        description="What to search for, in a few words.",
        # The grammar enforces maxLength, so a small model's query always closes its call
        # within the token limit instead of running on until the reply is cut off.
        max_length=QUERY_MAX_CHARS,
    )


class RetrieverTool(BuiltinTool):
    """Search a vector store or retriever; returns numbered passages with their sources.

    Args:
        store: A langchain-core ``VectorStore`` (such as ``FaissStore``) or ``BaseRetriever``.
        k: How many passages to return (for a vector store).
        max_chars_per_passage: Each passage is cut to this many characters.
    """

    name: str = "search_documents"
    description: str = DEFAULT_DESCRIPTION
    args_schema: type[BaseModel] = RetrieverInput
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    """The passages as content, the documents as the ToolMessage's artifact."""
    store: VectorStore | BaseRetriever
    """Where passages are searched."""
    k: int = Field(default=4, ge=1, le=50)
    """Passages per search (vector stores; a retriever returns what it returns)."""
    max_chars_per_passage: int = Field(default=1000, ge=50)
    """Each passage is cut to this many characters."""

    def narrow_extras(
        self, extras: dict[str, dict[str, Any]], focus: str
    ) -> dict[str, dict[str, Any]]:
        """The query is made of ``focus``'s words (at most ``FOCUS_QUERY_WORDS`` of them, any
        order): a small model otherwise searched for ``todo.txt``."""
        words = list(dict.fromkeys(WORD.findall(focus)))[:FOCUS_WORDS]
        if not words:
            return extras
        alternatives = "|".join(re.escape(w) for w in sorted(words, key=lambda w: (-len(w), w)))
        pattern = rf"^(?:{alternatives})(?: (?:{alternatives})){{0,{FOCUS_QUERY_WORDS - 1}}}$"
        return {**extras, "query": {**extras.get("query", {}), "pattern": pattern}}

    def _search(self, query: str) -> list[Document]:
        if not query.strip():
            msg = "The search query is empty; give a few words about what you are looking for."
            raise ToolError(msg)
        if isinstance(self.store, VectorStore):
            return self.store.similarity_search(query, k=self.k)
        return self.store.invoke(query)[: self.k]

    def known_text(self, request: str) -> str | None:
        """The passages a search for ``request`` finds (what the store holds on it)."""
        try:
            docs = self._search(request)
        except ToolError:
            return None
        return "\n".join(doc.page_content for doc in docs)

    def _format(self, query: str, docs: list[Document]) -> tuple[str, list[Document]]:
        if not docs:
            return f"No passages found for {query!r}. Try other words.", []
        limit = self.max_chars_per_passage
        shown = [
            doc.model_copy(update={"page_content": _cut(doc.page_content, limit)}) for doc in docs
        ]
        return format_docs_with_citations(shown), docs

    def _run(self, query: str, **_: Any) -> tuple[str, list[Document]]:
        return self._format(query, self._search(query))

    async def _arun(self, query: str, **_: Any) -> tuple[str, list[Document]]:
        if not query.strip():
            return self._run(query)  # raises the same error
        if isinstance(self.store, VectorStore):
            docs = await self.store.asimilarity_search(query, k=self.k)
        else:
            docs = (await self.store.ainvoke(query))[: self.k]
        return self._format(query, docs)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + " [...]"


def retriever_tool(
    store: VectorStore | BaseRetriever,
    *,
    k: int = 4,
    name: str = "search_documents",
    description: str = DEFAULT_DESCRIPTION,
    max_chars_per_passage: int = 1000,
) -> RetrieverTool:
    """A tool that searches ``store`` and returns passages with their sources.

    Example:
        .. code-block:: python

            store = FaissStore.from_texts(texts, LocalEmbeddings(), metadatas=sources)
            search = retriever_tool(store, k=3, name="search_notes",
                                    description="Search my notes. Input: a short query.")

    Args:
        store: A ``VectorStore`` (e.g. ``FaissStore``) or a ``BaseRetriever``.
        k: Passages per search.
        name: The tool's name, as the model calls it (letters, digits, ``_`` and ``-``).
        description: What the tool searches, for the model; say what the documents are.
        max_chars_per_passage: Each passage is cut to this many characters.

    Raises:
        ConfigError: ``store`` is not a vector store or retriever, or ``name`` is not usable.
    """
    if not isinstance(store, VectorStore | BaseRetriever):
        msg = (
            f"retriever_tool needs a langchain-core VectorStore (e.g. FaissStore) or a "
            f"BaseRetriever, got {type(store).__name__}."
        )
        raise ConfigError(msg)
    if not name or not all(ch.isalnum() or ch in "_-" for ch in name):
        msg = f"Tool name {name!r} must be letters, digits, '_' or '-', e.g. 'search_notes'."
        raise ConfigError(msg)
    return RetrieverTool(
        store=store,
        k=k,
        name=name,
        description=description,
        max_chars_per_passage=max_chars_per_passage,
    )


__all__ = ["RetrieverInput", "RetrieverTool", "retriever_tool"]
