"""FaissStore: a langchain-core ``VectorStore`` on a faiss-cpu index, saved without pickle.

Vectors are scaled to unit length and searched by inner product, so scores are cosine
similarities in [-1, 1] (higher is closer). The faiss index is an exact ``IndexFlatIP`` wrapped
in an ``IndexIDMap2``, whose int64 ids map to the string ids of a docstore kept beside it;
``save_local`` writes ``index.faiss`` plus ``docstore.json`` and nothing executable.

Adding a document whose id is already stored replaces it (upsert), as langchain's stores do;
giving the same id twice in one call is an error, since one of the two would be lost.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore
from langchain_core.vectorstores.utils import maximal_marginal_relevance

from localchain.errors import VectorStoreError

if TYPE_CHECKING:
    import faiss

MetadataFilter = dict[str, Any] | Callable[[dict[str, Any]], bool]
"""Keep documents whose metadata equals every key of the dict, or for which the callable is
true."""

INDEX_FILE = "index.faiss"
DOCSTORE_FILE = "docstore.json"
_FORMAT = "localchain-faiss"
_VERSION = 1


def _faiss() -> Any:
    import faiss  # heavy native import, done on first use

    return faiss


def _unit_rows(vectors: Sequence[Sequence[float]], what: str) -> np.ndarray:
    """Return float32 rows scaled to unit length (zero rows stay zero)."""
    try:
        array = np.asarray(vectors, dtype=np.float32)
    except ValueError as err:
        msg = f"The embeddings returned {what} vectors of differing lengths; check the model."
        raise VectorStoreError(msg) from err
    if array.ndim != 2:
        msg = f"Expected {what} vectors as a 2-D list of floats, got shape {array.shape}."
        raise VectorStoreError(msg)
    if not np.isfinite(array).all():
        msg = f"The {what} vectors hold NaN or infinite values; check the embedding model."
        raise VectorStoreError(msg)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return np.ascontiguousarray(array / np.where(norms == 0, 1, norms), dtype=np.float32)


def _matches(metadata: dict[str, Any], where: MetadataFilter) -> bool:
    if callable(where):
        return bool(where(metadata))
    return all(key in metadata and metadata[key] == value for key, value in where.items())


class FaissStore(VectorStore):
    """A FAISS vector store with cosine similarity, metadata filters, MMR and JSON persistence.

    Example:
        ```python
        from localchain.index import FaissStore
        from localchain.models import LocalEmbeddings

        store = FaissStore.from_texts(["Paris is in France.", "Rome is in Italy."],
                                      LocalEmbeddings(), metadatas=[{"lang": "en"}] * 2)
        store.similarity_search_with_score("Where is Paris?", k=1)
        store.save_local("my-index")
        store = FaissStore.load_local("my-index", LocalEmbeddings())
        ```
    """

    def __init__(self, embedding: Embeddings) -> None:
        """Create an empty store; its dimension is fixed by the first vectors added.

        Args:
            embedding: Embeds texts and queries (e.g. ``LocalEmbeddings()``).
        """
        self._embedding = embedding
        self._index: faiss.IndexIDMap2 | None = None
        self._dimension: int | None = None
        self._docs: dict[str, Document] = {}
        self._int_ids: dict[str, int] = {}
        self._str_ids: dict[int, str] = {}
        self._next_int_id = 0
        self._lock = threading.RLock()  # async methods run the sync ones in worker threads

    @property
    def embeddings(self) -> Embeddings:
        """The embeddings this store was built with."""
        return self._embedding

    def __len__(self) -> int:
        """Number of stored documents."""
        return len(self._docs)

    # ----------------------------------------------------------------------------- writing

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict] | None = None,
        *,
        ids: list[str | None] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Embed and store texts; an id already stored is replaced.

        Args:
            texts: Non-empty strings.
            metadatas: One dict per text (copied; must be JSON-able to be saved).
            ids: One id per text; ``None`` entries (or no list) get a new uuid4.
            **kwargs: Ignored.

        Returns:
            The ids, in order.

        Raises:
            VectorStoreError: Lengths differ, an id repeats within the call, a text is empty, or
                the vectors do not fit the store's dimension.
        """
        texts = list(texts)
        metadatas = metadatas if metadatas is not None else [{} for _ in texts]
        ids = ids if ids is not None else [None] * len(texts)
        if not len(texts) == len(metadatas) == len(ids):
            msg = (
                f"add_texts got {len(texts)} texts, {len(metadatas)} metadatas and {len(ids)} "
                "ids; pass one metadata dict and one id (or None) per text."
            )
            raise VectorStoreError(msg)
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                msg = f"Text {i} is empty or not a string ({text!r:.60}); drop it before adding."
                raise VectorStoreError(msg)
        final_ids = [str(i) if i is not None else str(uuid.uuid4()) for i in ids]
        repeated = sorted(i for i, n in Counter(final_ids).items() if n > 1)
        if repeated:
            where = {r: [n for n, i in enumerate(final_ids) if i == r] for r in repeated[:3]}
            shown = "; ".join(f"{r!r} for texts {places}" for r, places in where.items())
            msg = (
                f"add_texts got the same id more than once in one call ({shown}); nothing was "
                "added. Ids must be unique within a call (an id already in the store is "
                "replaced, but two new texts cannot share one): give each text its own id."
            )
            raise VectorStoreError(msg)
        if not texts:
            return []
        vectors = _unit_rows(self._embedding.embed_documents(texts), "document")
        if len(vectors) != len(texts):
            msg = f"The embeddings returned {len(vectors)} vectors for {len(texts)} texts."
            raise VectorStoreError(msg)
        docs = [
            Document(id=doc_id, page_content=text, metadata=copy.deepcopy(dict(meta or {})))
            for doc_id, text, meta in zip(final_ids, texts, metadatas)
        ]
        self._insert(docs, vectors)
        return final_ids

    def _insert(self, docs: list[Document], vectors: np.ndarray) -> None:
        with self._lock:
            if self._index is None:
                faiss = _faiss()
                self._dimension = int(vectors.shape[1])
                self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(self._dimension))
            self._check_dimension(vectors, "document")
            self._remove([d.id for d in docs if d.id in self._docs])  # type: ignore[misc]
            int_ids = np.arange(self._next_int_id, self._next_int_id + len(docs), dtype=np.int64)
            self._next_int_id += len(docs)
            self._index.add_with_ids(vectors, int_ids)
            for doc, int_id in zip(docs, int_ids.tolist()):
                self._docs[doc.id] = doc  # type: ignore[index]
                self._int_ids[doc.id] = int_id  # type: ignore[index]
                self._str_ids[int_id] = doc.id  # type: ignore[assignment]

    def _check_dimension(self, vectors: np.ndarray, what: str) -> None:
        if vectors.shape[1] != self._dimension:
            msg = (
                f"The {what} vectors have {vectors.shape[1]} dimensions but this store holds "
                f"{self._dimension}; use the same embeddings the store was built with."
            )
            raise VectorStoreError(msg)

    def _remove(self, ids: list[str]) -> None:
        int_ids = [self._int_ids.pop(i) for i in ids]
        for doc_id, int_id in zip(ids, int_ids):
            del self._docs[doc_id]
            del self._str_ids[int_id]
        if int_ids and self._index is not None:
            self._index.remove_ids(np.asarray(int_ids, dtype=np.int64))

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        """Delete documents by id; unknown ids are ignored.

        Args:
            ids: The ids to delete; ``None`` deletes everything.
            **kwargs: Ignored.

        Returns:
            True.
        """
        with self._lock:
            if ids is None:
                self._remove(list(self._docs))
            else:
                self._remove([i for i in dict.fromkeys(ids) if i in self._docs])
        return True

    # ----------------------------------------------------------------------------- reading

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """Return the stored documents with these ids, in the given order, skipping unknown ids."""
        with self._lock:
            return [self._copy(self._docs[i]) for i in ids if i in self._docs]

    @staticmethod
    def _copy(doc: Document) -> Document:
        return Document(id=doc.id, page_content=doc.page_content, metadata=dict(doc.metadata))

    def _embed_query(self, query: str) -> list[float]:
        return self._embedding.embed_query(query)

    def _search(
        self, embedding: Sequence[float], k: int, where: MetadataFilter | None
    ) -> list[tuple[Document, float, int]]:
        """Exact top-k by cosine among the documents passing the filter."""
        if k < 1:
            msg = f"k must be at least 1, got {k}."
            raise VectorStoreError(msg)
        if where is not None and not (callable(where) or isinstance(where, dict)):
            msg = f"filter must be a dict or a callable, got {type(where).__name__}."
            raise VectorStoreError(msg)
        with self._lock:
            if self._index is None or not self._docs:
                return []
            query = _unit_rows([embedding], "query")
            self._check_dimension(query, "query")
            params = None
            candidates = len(self._docs)
            if where is not None:
                allowed = [
                    self._int_ids[doc_id]
                    for doc_id, doc in self._docs.items()
                    if _matches(doc.metadata, where)
                ]
                if not allowed:
                    return []
                faiss = _faiss()
                selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
                params = faiss.SearchParameters(sel=selector)
                candidates = len(allowed)
            scores, int_ids = self._index.search(query, min(k, candidates), params=params)
            return [
                (self._copy(self._docs[self._str_ids[int(i)]]), float(s), int(i))
                for s, i in zip(scores[0], int_ids[0])
                if i != -1
            ]

    def similarity_search_with_score_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        *,
        filter: MetadataFilter | None = None,
        score_threshold: float | None = None,
        **kwargs: Any,
    ) -> list[tuple[Document, float]]:
        """Return the k documents closest to a vector, with cosine similarities (high is close).

        Args:
            embedding: The query vector.
            k: How many documents to return at most.
            filter: A dict of metadata values to equal, or a callable on the metadata.
            score_threshold: Drop results whose similarity is below this.
            **kwargs: Ignored.
        """
        found = [(doc, score) for doc, score, _ in self._search(embedding, k, filter)]
        if score_threshold is not None:
            found = [(doc, score) for doc, score in found if score >= score_threshold]
        return found

    def similarity_search_with_score(
        self,
        query: str,
        k: int = 4,
        *,
        filter: MetadataFilter | None = None,
        score_threshold: float | None = None,
        **kwargs: Any,
    ) -> list[tuple[Document, float]]:
        """Return the k documents closest to a query, with cosine similarities (high is close).

        Args:
            query: The query text.
            k: How many documents to return at most.
            filter: A dict of metadata values to equal, or a callable on the metadata.
            score_threshold: Drop results whose similarity is below this.
            **kwargs: Ignored.
        """
        if not self._docs:
            return []
        return self.similarity_search_with_score_by_vector(
            self._embed_query(query), k, filter=filter, score_threshold=score_threshold
        )

    def similarity_search(
        self,
        query: str,
        k: int = 4,
        *,
        filter: MetadataFilter | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """Return the k documents closest to a query (see ``similarity_search_with_score``)."""
        found = self.similarity_search_with_score(query, k, filter=filter, **kwargs)
        return [doc for doc, _ in found]

    def similarity_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        *,
        filter: MetadataFilter | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """Return the k documents closest to a vector."""
        found = self.similarity_search_with_score_by_vector(embedding, k, filter=filter, **kwargs)
        return [doc for doc, _ in found]

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        """Relevance in [0, 1] is the cosine similarity, negatives (unrelated) clipped to 0."""
        return lambda score: min(1.0, max(0.0, score))

    def max_marginal_relevance_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        *,
        filter: MetadataFilter | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """Pick k of the fetch_k closest documents, trading closeness for diversity.

        Args:
            embedding: The query vector.
            k: How many documents to return.
            fetch_k: How many close documents (after filtering) to choose from.
            lambda_mult: 1 is pure closeness, 0 pure diversity.
            filter: A dict of metadata values to equal, or a callable on the metadata.
            **kwargs: Ignored.
        """
        if not 0.0 <= lambda_mult <= 1.0:
            msg = f"lambda_mult must be between 0 and 1, got {lambda_mult}."
            raise VectorStoreError(msg)
        with self._lock:
            found = self._search(embedding, max(k, fetch_k), filter)
            if not found or self._index is None:
                return []
            vectors = np.vstack([self._index.reconstruct(int_id) for _, _, int_id in found])
        chosen = maximal_marginal_relevance(
            _unit_rows([embedding], "query")[0], list(vectors), lambda_mult=lambda_mult, k=k
        )
        return [found[i][0] for i in chosen]

    def max_marginal_relevance_search(
        self,
        query: str,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        *,
        filter: MetadataFilter | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """Pick k of the fetch_k documents closest to a query, trading closeness for diversity."""
        if not self._docs:
            return []
        return self.max_marginal_relevance_search_by_vector(
            self._embed_query(query), k, fetch_k, lambda_mult, filter=filter
        )

    # ----------------------------------------------------------------------------- building

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: list[dict] | None = None,
        *,
        ids: list[str | None] | None = None,
        **kwargs: Any,
    ) -> FaissStore:
        """Build a store from texts (see ``add_texts``)."""
        store = cls(embedding)
        store.add_texts(texts, metadatas, ids=ids)
        return store

    # ----------------------------------------------------------------------------- saving

    def save_local(self, folder: str | os.PathLike[str]) -> Path:
        """Write the store to a directory: ``index.faiss`` and ``docstore.json`` (no pickle).

        Each file is written to a temporary name and renamed, so a failed save leaves any
        earlier save in that directory whole.

        Args:
            folder: The directory; created if missing.

        Returns:
            The directory.

        Raises:
            VectorStoreError: A document's metadata cannot be written as JSON.
        """
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        with self._lock:
            documents = [
                {
                    "id": doc_id,
                    "int_id": self._int_ids[doc_id],
                    "page_content": doc.page_content,
                    "metadata": doc.metadata,
                }
                for doc_id, doc in self._docs.items()
            ]
            payload = {
                "format": _FORMAT,
                "version": _VERSION,
                "metric": "cosine",
                "dimension": self._dimension,
                "next_int_id": self._next_int_id,
                "documents": documents,
            }
            text = self._dump(payload)
            if self._index is not None:
                tmp = path / f".{INDEX_FILE}.tmp"
                _faiss().write_index(self._index, str(tmp))
                os.replace(tmp, path / INDEX_FILE)
            else:
                (path / INDEX_FILE).unlink(missing_ok=True)
            with tempfile.NamedTemporaryFile(
                "w", encoding="utf-8", dir=path, prefix=f".{DOCSTORE_FILE}.", delete=False
            ) as handle:
                handle.write(text)
            os.replace(handle.name, path / DOCSTORE_FILE)
        return path

    def _dump(self, payload: dict[str, Any]) -> str:
        try:
            return json.dumps(payload, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as err:
            for doc_id, doc in self._docs.items():
                for key, value in doc.metadata.items():
                    try:
                        json.dumps(value, allow_nan=False)
                    except (TypeError, ValueError):
                        msg = (
                            f"Cannot save: document {doc_id!r} has metadata {key!r} = "
                            f"{value!r:.60} ({type(value).__name__}), which JSON cannot hold. "
                            "Convert it to a str, number, bool, None, list or dict first."
                        )
                        raise VectorStoreError(msg) from err
            msg = f"Cannot save the docstore as JSON: {err}."
            raise VectorStoreError(msg) from err

    @classmethod
    def load_local(
        cls, folder: str | os.PathLike[str], embeddings: Embeddings, **kwargs: Any
    ) -> FaissStore:
        """Read a store written by ``save_local``.

        Args:
            folder: The directory holding ``index.faiss`` and ``docstore.json``.
            embeddings: The same embeddings the store was built with.
            **kwargs: Ignored (langchain's FAISS takes ``allow_dangerous_deserialization``;
                nothing here is unpickled, so it is not needed).

        Raises:
            VectorStoreError: The directory or a file is missing, or the files are damaged or
                do not agree with each other.
        """
        path = Path(folder)
        docstore = path / DOCSTORE_FILE

        def bad(reason: str) -> VectorStoreError:
            return VectorStoreError(
                f"Cannot load a FaissStore from {str(path)!r}: {reason}. Pass a directory "
                "written by FaissStore.save_local."
            )

        if not docstore.is_file():
            reason = "it does not exist" if not path.exists() else f"{DOCSTORE_FILE} is missing"
            raise bad(reason)
        try:
            payload = json.loads(docstore.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            reason = f"{DOCSTORE_FILE} is unreadable ({err})"
            raise bad(reason) from err
        if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
            reason = f"{DOCSTORE_FILE} is not a localchain FAISS docstore"
            raise bad(reason)
        if payload.get("version") != _VERSION:
            reason = (
                f"{DOCSTORE_FILE} has version {payload.get('version')!r}, but this localchain "
                f"reads version {_VERSION}"
            )
            raise bad(reason)
        store = cls(embeddings)
        repeated: str | None = None
        try:
            docs = payload["documents"]
            store._next_int_id = int(payload["next_int_id"])
            for number, entry in enumerate(docs):
                doc_id, int_id = str(entry["id"]), int(entry["int_id"])
                if doc_id in store._docs or int_id in store._str_ids:
                    which = f"id {doc_id!r}" if doc_id in store._docs else f"int_id {int_id}"
                    repeated = f"{which} twice (again at document {number})"
                    break
                store._docs[doc_id] = Document(
                    id=doc_id, page_content=entry["page_content"], metadata=entry["metadata"]
                )
                store._int_ids[doc_id] = int_id
                store._str_ids[int_id] = doc_id
            # never hand out an int id already in use, even if the counter was edited
            store._next_int_id = max([store._next_int_id, *(i + 1 for i in store._str_ids)])
        except (KeyError, TypeError, ValueError) as err:
            reason = f"{DOCSTORE_FILE} is damaged ({err!r})"
            raise bad(reason) from err
        if repeated is not None:
            reason = f"{DOCSTORE_FILE} lists the {repeated}; the file was edited or damaged"
            raise bad(reason)
        if payload.get("dimension") is None:
            if docs:
                reason = "the docstore has documents but no dimension"
                raise bad(reason)
            return store
        index_path = path / INDEX_FILE
        if not index_path.is_file():
            reason = f"{INDEX_FILE} is missing"
            raise bad(reason)
        faiss = _faiss()
        try:
            index = faiss.read_index(str(index_path))  # already the concrete class
        except RuntimeError as err:
            reason = f"{INDEX_FILE} is not a FAISS IndexIDMap2 ({err})"
            raise bad(reason) from err
        if not isinstance(index, faiss.IndexIDMap2):
            reason = f"{INDEX_FILE} is not a FAISS IndexIDMap2 but a {type(index).__name__}"
            raise bad(reason)
        stored = set(faiss.vector_to_array(index.id_map).tolist())
        if index.d != payload["dimension"] or stored != set(store._str_ids):
            reason = (
                f"{INDEX_FILE} ({index.ntotal} vectors of {index.d} dims) does not match "
                f"{DOCSTORE_FILE} ({len(docs)} documents of {payload['dimension']} dims)"
            )
            raise bad(reason)
        store._index = index
        store._dimension = int(index.d)
        return store

    @classmethod
    def load(
        cls, folder: str | os.PathLike[str], embeddings: Embeddings, **kwargs: Any
    ) -> FaissStore:
        """Read a store written by ``save_local`` (the same as ``load_local``).

        Args:
            folder: The directory holding ``index.faiss`` and ``docstore.json``.
            embeddings: The same embeddings the store was built with.
            **kwargs: Ignored, as for ``load_local``.

        Raises:
            VectorStoreError: The directory or a file is missing, or the files are damaged or
                do not agree with each other.
        """
        return cls.load_local(folder, embeddings, **kwargs)


__all__ = ["DOCSTORE_FILE", "INDEX_FILE", "FaissStore", "MetadataFilter"]
