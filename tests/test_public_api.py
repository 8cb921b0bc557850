"""The public names of each package, pinned."""

from __future__ import annotations

import localchain
import localchain.errors
import localchain.models

EXPECTED_TOP = [
    "ChatLocal",
    "LocalEmbeddings",
    "LocalLLM",
    "LocalchainError",
    "__version__",
    "load_model",
]

EXPECTED_MODELS = [
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
    "clear_model_cache",
    "find_adapter",
    "list_adapters",
    "load_model",
    "register_adapter",
    "resolve_model",
]


def test_top_level_all():
    assert sorted(localchain.__all__) == sorted(EXPECTED_TOP)


def test_models_all_resolves():
    assert sorted(localchain.models.__all__) == sorted(EXPECTED_MODELS)
    for name in localchain.models.__all__:
        assert getattr(localchain.models, name) is not None


def test_errors_share_one_root_and_builtin_parents():
    from langchain_core.exceptions import ContextOverflowError

    assert issubclass(localchain.errors.ConfigError, ValueError)
    assert issubclass(localchain.errors.ModelNotFoundError, LookupError)
    assert issubclass(localchain.errors.MissingDependencyError, ImportError)
    assert issubclass(localchain.errors.ContextLengthError, ContextOverflowError)
    for name in localchain.errors.__all__:
        assert issubclass(getattr(localchain.errors, name), localchain.LocalchainError)
