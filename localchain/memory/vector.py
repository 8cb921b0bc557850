"""Vector-store memory: older turns are embedded, and the ones relevant to the new input recalled.

Works with any LangChain ``VectorStore`` (``localchain.index.FaissStore``, say, to persist it), or
with langchain-core's ``InMemoryVectorStore`` over any ``Embeddings``.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.messages import BaseMessage, SystemMessage, message_to_dict
from langchain_core.vectorstores import InMemoryVectorStore, VectorStore

from localchain.errors import ConfigError
from localchain.memory.base import (
    ConversationMemory,
    Turn,
    check_positive_int,
    format_turns,
    last_human_text,
    split_turns,
)

_FETCH_FACTOR = 4  # over-fetch, since a shared store may hold other namespaces' documents


class VectorStoreMemory(ConversationMemory):
    """Keeps recent turns verbatim and recalls the older turns most relevant to the new input.

    Turns are embedded once they leave the verbatim window (so each is indexed whole, once).

    Example:
        .. code-block:: python

            memory = VectorStoreMemory(LocalEmbeddings(), k=3, keep_last=2)
            memory.load("What was the name of my cat?")
            # [SystemMessage("Relevant earlier conversation: ..."), <last 2 turns>]

    Args:
        embeddings: Embeddings for an in-memory store (give this or ``vectorstore``).
        vectorstore: Any LangChain vector store to index turns in.
        k: How many older turns to recall.
        keep_last: How many recent turns are returned verbatim.
        min_score: When set, recall only turns whose relevance score (0 to 1, from
            ``similarity_search_with_relevance_scores``; for stores without one, such as
            ``InMemoryVectorStore``, the raw ``similarity_search_with_score``) reaches it.
        namespace: Tag stored with each indexed turn, so several memories can share one store
            (default: a fresh random one).
        history: Where messages are stored (default: in memory).

    Raises:
        ConfigError: Neither or both of ``embeddings`` and ``vectorstore``, or a bad number.
    """

    def __init__(
        self,
        embeddings: Embeddings | None = None,
        *,
        vectorstore: VectorStore | None = None,
        k: int = 3,
        keep_last: int = 2,
        min_score: float | None = None,
        namespace: str | None = None,
        history: BaseChatMessageHistory | None = None,
    ) -> None:
        super().__init__(history)
        if (embeddings is None) == (vectorstore is None):
            msg = (
                "VectorStoreMemory needs exactly one of embeddings= (for an in-memory store) "
                "or vectorstore= (any LangChain VectorStore)."
            )
            raise ConfigError(msg)
        if vectorstore is not None and not isinstance(vectorstore, VectorStore):
            msg = f"vectorstore must be a LangChain VectorStore, got {type(vectorstore).__name__}."
            raise ConfigError(msg)
        if embeddings is not None and not isinstance(embeddings, Embeddings):
            msg = f"embeddings must be LangChain Embeddings, got {type(embeddings).__name__}."
            raise ConfigError(msg)
        self.vectorstore = vectorstore or InMemoryVectorStore(embeddings)  # type: ignore[arg-type]
        self.k = check_positive_int(k, "k")
        self.keep_last = check_positive_int(keep_last, "keep_last", minimum=0)
        if min_score is not None and not (
            isinstance(min_score, int | float) and not isinstance(min_score, bool)
        ):
            msg = f"min_score must be a number between 0 and 1 or None, got {min_score!r}."
            raise ConfigError(msg)
        self.min_score = min_score
        self.namespace = namespace or uuid.uuid4().hex
        self._ids: list[str] = []
        self._indexed = 0
        self._lock = threading.Lock()

    def _reset(self) -> None:
        if self._ids:
            self.vectorstore.delete(self._ids)
        self._ids.clear()
        self._indexed = 0

    def _pending(self) -> tuple[list[BaseMessage], list[Turn], list[Turn], list[Document]]:
        prefix, turns = split_turns(self.messages)
        cut = max(0, len(turns) - self.keep_last)
        if self._indexed > cut:  # the history was shortened behind our back: re-index
            self._reset()
        docs = [
            Document(
                page_content=format_turns([turn]),
                metadata={
                    "memory_namespace": self.namespace,
                    "memory_turn": index,
                    "messages": json.dumps([message_to_dict(m) for m in turn]),
                },
            )
            for index, turn in enumerate(turns[self._indexed : cut], start=self._indexed)
        ]
        return prefix, turns[:cut], turns[cut:], docs

    def _query(self, query: str | None) -> str:
        return query if query is not None else last_human_text(self.messages) or ""

    def _recall(self, found: list[tuple[Document, float | None]]) -> list[Document]:
        mine = [
            (doc, score)
            for doc, score in found
            if doc.metadata.get("memory_namespace") == self.namespace
            and (self.min_score is None or (score is not None and score >= self.min_score))
        ]
        docs = [doc for doc, _ in mine[: self.k]]
        return sorted(docs, key=lambda d: d.metadata.get("memory_turn", 0))

    def _result(
        self, prefix: list[BaseMessage], recent: list[Turn], recalled: list[Document]
    ) -> list[BaseMessage]:
        verbatim = [m for turn in recent for m in turn]
        if not recalled:
            return prefix + verbatim
        texts = "\n\n".join(doc.page_content for doc in recalled)
        return [*prefix, SystemMessage(f"Relevant earlier conversation:\n{texts}"), *verbatim]

    def _search(self, query: str) -> list[tuple[Document, float | None]]:
        fetch = self.k * _FETCH_FACTOR
        if self.min_score is None:
            return [(d, None) for d in self.vectorstore.similarity_search(query, k=fetch)]
        try:
            return list(self.vectorstore.similarity_search_with_relevance_scores(query, k=fetch))
        except NotImplementedError:  # e.g. InMemoryVectorStore: its scores are cosine already
            return list(self.vectorstore.similarity_search_with_score(query, k=fetch))

    def load(self, query: str | None = None) -> list[BaseMessage]:
        """The system messages, recalled older turns (one system message) and recent turns.

        Args:
            query: The new input to recall by (default: the latest human message).
        """
        with self._lock:
            prefix, older, recent, docs = self._pending()
            if docs:
                self._ids += self.vectorstore.add_documents(docs)
                self._indexed += len(docs)
        query = self._query(query)
        if not older or not query.strip():
            return self._result(prefix, recent, [])
        return self._result(prefix, recent, self._recall(self._search(query)))

    async def aload(self, query: str | None = None) -> list[BaseMessage]:
        """Async ``load``, through the store's async methods."""
        prefix, older, recent, docs = self._pending()
        if docs:
            self._indexed += len(docs)  # claim them before awaiting, so no call adds them twice
            self._ids += await self.vectorstore.aadd_documents(docs)
        query = self._query(query)
        if not older or not query.strip():
            return self._result(prefix, recent, [])
        fetch = self.k * _FETCH_FACTOR
        if self.min_score is None:
            found: list[tuple[Document, Any]] = [
                (d, None) for d in await self.vectorstore.asimilarity_search(query, k=fetch)
            ]
        else:
            store = self.vectorstore
            try:
                found = list(await store.asimilarity_search_with_relevance_scores(query, k=fetch))
            except NotImplementedError:
                found = list(await store.asimilarity_search_with_score(query, k=fetch))
        return self._result(prefix, recent, self._recall(found))


__all__ = ["VectorStoreMemory"]
