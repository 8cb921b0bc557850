"""localchain: LangChain-style LLM apps on local models, offline.

>>> from localchain import ChatLocal
>>> ChatLocal().invoke("What is the capital of France?").content  # doctest: +SKIP
'The capital of France is Paris.'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from localchain._lazy import lazy_getattr
from localchain.errors import LocalchainError

if TYPE_CHECKING:
    from localchain.models import ChatLocal, LocalEmbeddings, LocalLLM, load_model

__version__ = "0.1.0"

_LAZY = {
    "ChatLocal": "localchain.models.chat",
    "LocalLLM": "localchain.models.llm",
    "LocalEmbeddings": "localchain.models.embeddings",
    "load_model": "localchain.models.loading",
}

__all__ = [
    "ChatLocal",
    "LocalEmbeddings",
    "LocalLLM",
    "LocalchainError",
    "__version__",
    "load_model",
]


__getattr__ = lazy_getattr(__name__, _LAZY)
