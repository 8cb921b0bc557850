"""FaissStore against langchain-tests' VectorStore standard suite, on fake embeddings."""

from __future__ import annotations

from collections.abc import Generator

import pytest
from langchain_core.vectorstores import VectorStore
from langchain_tests.integration_tests import VectorStoreIntegrationTests

from localchain.index import FaissStore


class TestFaissStoreStandard(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self) -> Generator[VectorStore, None, None]:  # type: ignore[override]
        store = FaissStore(self.get_embeddings())
        try:
            yield store
        finally:
            store.delete()
