"""The index layer: load files, split them for the embedding model, store and search vectors.

```python
from localchain.index import FaissStore, load_documents, split_documents
from localchain.models import LocalEmbeddings

chunks = split_documents(load_documents("docs/", errors="skip"))
store = FaissStore.from_documents(chunks, LocalEmbeddings())
retriever = store.as_retriever(search_kwargs={"k": 4})
```

faiss, pypdf, BeautifulSoup and the tokenizer load on first use, so importing this stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from localchain._lazy import lazy_getattr
from localchain.errors import DocumentLoadError, VectorStoreError

if TYPE_CHECKING:
    from localchain.index.faiss_store import FaissStore, MetadataFilter
    from localchain.index.loaders import (
        FILE_TYPES,
        DirectoryLoader,
        FileLoader,
        SkippedFile,
        load_documents,
    )
    from localchain.index.retrieval import (
        citation_sources,
        format_docs_with_citations,
        relevance_filter,
    )
    from localchain.index.splitting import make_splitter, split_documents, token_counter

_LAZY = {
    "FaissStore": "localchain.index.faiss_store",
    "MetadataFilter": "localchain.index.faiss_store",
    "FILE_TYPES": "localchain.index.loaders",
    "DirectoryLoader": "localchain.index.loaders",
    "FileLoader": "localchain.index.loaders",
    "SkippedFile": "localchain.index.loaders",
    "load_documents": "localchain.index.loaders",
    "citation_sources": "localchain.index.retrieval",
    "format_docs_with_citations": "localchain.index.retrieval",
    "relevance_filter": "localchain.index.retrieval",
    "make_splitter": "localchain.index.splitting",
    "split_documents": "localchain.index.splitting",
    "token_counter": "localchain.index.splitting",
}

__all__ = [
    "FILE_TYPES",
    "DirectoryLoader",
    "DocumentLoadError",
    "FaissStore",
    "FileLoader",
    "MetadataFilter",
    "SkippedFile",
    "VectorStoreError",
    "citation_sources",
    "format_docs_with_citations",
    "load_documents",
    "make_splitter",
    "relevance_filter",
    "split_documents",
    "token_counter",
]


__getattr__ = lazy_getattr(__name__, _LAZY)
