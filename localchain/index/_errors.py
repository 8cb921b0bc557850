"""The errors the index layer raises, all under ``localchain.errors.LocalchainError``.

They live here because ``localchain/errors.py`` belongs to the layer below; each also subclasses
``ValueError`` so callers' ``except ValueError`` keeps working.
"""

from __future__ import annotations

from pathlib import Path

from localchain.errors import LocalchainError


class DocumentLoadError(LocalchainError, ValueError):
    """A file could not be loaded: unreadable, binary, empty, or of an unsupported type.

    Attributes:
        path: The file that failed.
        reason: What went wrong, in a few words (e.g. "file is empty").
    """

    def __init__(self, message: str, *, path: Path, reason: str) -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason


class VectorStoreError(LocalchainError, ValueError):
    """A vector store was used wrongly: clashing ids, wrong dimensions, a bad saved directory."""
