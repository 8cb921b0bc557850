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


EXPECTED_ERRORS = [
    "AdapterError",
    "ConfigError",
    "ContextLengthError",
    "DocumentLoadError",
    "HistoryStoreError",
    "LocalchainError",
    "MissingDependencyError",
    "ModelNotFoundError",
    "ProgramMemoryError",
    "ProgramOutputError",
    "ProgramRefusedError",
    "ProgramRuntimeError",
    "ProgramSyntaxError",
    "ProgramTimeoutError",
    "SandboxError",
    "UnsupportedOnDeviceError",
    "VectorStoreError",
]


def test_errors_all():
    assert sorted(localchain.errors.__all__) == sorted(EXPECTED_ERRORS)


def test_errors_keep_their_old_import_paths():
    import localchain.index
    import localchain.memory
    import localchain.memory.sqlite_history
    import localchain.sandbox

    errors = localchain.errors
    moved = {
        localchain.sandbox: [
            "SandboxError",
            "ProgramMemoryError",
            "ProgramOutputError",
            "ProgramRefusedError",
            "ProgramRuntimeError",
            "ProgramSyntaxError",
            "ProgramTimeoutError",
        ],
        localchain.index: ["DocumentLoadError", "VectorStoreError"],
        localchain.memory: ["HistoryStoreError"],
        localchain.memory.sqlite_history: ["HistoryStoreError"],
    }
    for module, names in moved.items():
        for name in names:
            assert getattr(module, name) is getattr(errors, name), (module.__name__, name)


def test_errors_share_one_root_and_builtin_parents():
    from langchain_core.exceptions import ContextOverflowError

    assert issubclass(localchain.errors.ConfigError, ValueError)
    assert issubclass(localchain.errors.ModelNotFoundError, LookupError)
    assert issubclass(localchain.errors.MissingDependencyError, ImportError)
    assert issubclass(localchain.errors.ContextLengthError, ContextOverflowError)
    assert issubclass(localchain.errors.ProgramRefusedError, ValueError)
    assert issubclass(localchain.errors.ProgramSyntaxError, localchain.errors.ProgramRefusedError)
    assert issubclass(localchain.errors.ProgramTimeoutError, TimeoutError)
    assert issubclass(localchain.errors.ProgramRuntimeError, localchain.errors.SandboxError)
    assert issubclass(localchain.errors.DocumentLoadError, ValueError)
    assert issubclass(localchain.errors.VectorStoreError, ValueError)
    assert issubclass(localchain.errors.HistoryStoreError, RuntimeError)
    for name in localchain.errors.__all__:
        assert issubclass(getattr(localchain.errors, name), localchain.LocalchainError)
