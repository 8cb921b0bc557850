"""The local model layer: registry, loading, quantization, adapters, generation, LangChain models.

Heavy modules (torch, transformers) load on first use of a name, so ``import localchain.models``
stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from localchain._lazy import lazy_getattr
from localchain.models.adapters import AdapterManager as _AdapterManager
from localchain.models.loading import LoadedModel as _LoadedModel

# The package wires its layers together: ``loading`` sits below ``adapters`` and does not import
# it, so the adapter manager each LoadedModel offers is installed here (both modules are light).
_LoadedModel.adapter_manager_factory = _AdapterManager

if TYPE_CHECKING:
    from localchain.models.adapters import (
        AdapterManager,
        adapter_metadata,
        find_adapter,
        list_adapters,
        register_adapter,
        shipped_adapters,
    )
    from localchain.models.chat import ChatLocal
    from localchain.models.embeddings import LocalEmbeddings
    from localchain.models.fake import FakeChatModel
    from localchain.models.generation import Completion, GenerationConfig, StreamEvent
    from localchain.models.llm import LocalLLM
    from localchain.models.loading import LoadedModel, clear_model_cache, load_model
    from localchain.models.registry import DEFAULT_MODEL, MODELS, ModelSpec, resolve_model

_LAZY = {
    "AdapterManager": "localchain.models.adapters",
    "adapter_metadata": "localchain.models.adapters",
    "find_adapter": "localchain.models.adapters",
    "shipped_adapters": "localchain.models.adapters",
    "list_adapters": "localchain.models.adapters",
    "register_adapter": "localchain.models.adapters",
    "ChatLocal": "localchain.models.chat",
    "LocalEmbeddings": "localchain.models.embeddings",
    "FakeChatModel": "localchain.models.fake",
    "Completion": "localchain.models.generation",
    "GenerationConfig": "localchain.models.generation",
    "StreamEvent": "localchain.models.generation",
    "LocalLLM": "localchain.models.llm",
    "LoadedModel": "localchain.models.loading",
    "clear_model_cache": "localchain.models.loading",
    "load_model": "localchain.models.loading",
    "DEFAULT_MODEL": "localchain.models.registry",
    "MODELS": "localchain.models.registry",
    "ModelSpec": "localchain.models.registry",
    "resolve_model": "localchain.models.registry",
}

__all__ = [
    "AdapterManager",
    "ChatLocal",
    "Completion",
    "DEFAULT_MODEL",
    "FakeChatModel",
    "GenerationConfig",
    "LoadedModel",
    "LocalEmbeddings",
    "LocalLLM",
    "MODELS",
    "ModelSpec",
    "StreamEvent",
    "adapter_metadata",
    "clear_model_cache",
    "find_adapter",
    "list_adapters",
    "load_model",
    "register_adapter",
    "resolve_model",
    "shipped_adapters",
]


__getattr__ = lazy_getattr(__name__, _LAZY)
