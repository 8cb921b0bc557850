"""localchain.index: its public names, and that importing it stays light."""

from __future__ import annotations

import subprocess
import sys

import localchain.index

EXPECTED_INDEX = [
    "DirectoryLoader",
    "DocumentLoadError",
    "FILE_TYPES",
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


def test_index_all_resolves():
    assert sorted(localchain.index.__all__) == sorted(EXPECTED_INDEX)
    for name in localchain.index.__all__:
        assert getattr(localchain.index, name) is not None


def test_errors_share_the_root():
    from localchain.errors import LocalchainError

    assert issubclass(localchain.index.DocumentLoadError, LocalchainError)
    assert issubclass(localchain.index.VectorStoreError, ValueError)


def test_import_index_stays_light():
    code = (
        "import sys, localchain.index; "
        "heavy = [m for m in ('torch', 'transformers', 'faiss', 'pypdf', 'bs4', 'tokenizers') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
