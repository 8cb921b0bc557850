"""The public names of each package, pinned."""

from __future__ import annotations

import localchain
import localchain.agents
import localchain.errors
import localchain.models
import localchain.tools

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
    "adapter_metadata",
    "clear_model_cache",
    "find_adapter",
    "list_adapters",
    "load_model",
    "register_adapter",
    "resolve_model",
    "shipped_adapters",
]

EXPECTED_TOOLS = [
    "CalculatorTool",
    "GraphLike",
    "KnowledgeGraphTool",
    "PythonTool",
    "ReadFileTool",
    "RetrieverTool",
    "SQLSchemaTool",
    "SQLTool",
    "ToolError",
    "arun_tool_call",
    "as_tool",
    "calculator",
    "describe_validation_error",
    "evaluate_expression",
    "knowledge_graph_tool",
    "python_tool",
    "read_file_tool",
    "retriever_tool",
    "run_tool_call",
    "sql_schema_tool",
    "sql_tool",
    "tools_by_name",
]


def test_top_level_all():
    assert sorted(localchain.__all__) == sorted(EXPECTED_TOP)


def test_models_all_resolves():
    assert sorted(localchain.models.__all__) == sorted(EXPECTED_MODELS)
    for name in localchain.models.__all__:
        assert getattr(localchain.models, name) is not None


EXPECTED_AGENTS = [
    "AgentEvent",
    "AgentMaxStepsError",
    "AgentResult",
    "AgentState",
    "AgentStep",
    "LocalAgent",
    "ToolSelector",
    "create_agent",
    "requires_approval",
    "route_by_data",
]

EXPECTED_ERRORS = [
    "AgentMaxStepsError",
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
    "QueueFullError",
    "SandboxError",
    "ToolError",
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


def test_tools_all_resolves():
    assert sorted(localchain.tools.__all__) == sorted(EXPECTED_TOOLS)
    for name in localchain.tools.__all__:
        assert getattr(localchain.tools, name) is not None
    assert issubclass(localchain.tools.ToolError, localchain.LocalchainError)


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


def test_agents_all_resolves():
    assert sorted(localchain.agents.__all__) == sorted(EXPECTED_AGENTS)
    for name in localchain.agents.__all__:
        assert getattr(localchain.agents, name) is not None
    assert localchain.agents.AgentMaxStepsError is localchain.errors.AgentMaxStepsError
    assert issubclass(localchain.agents.AgentMaxStepsError, localchain.LocalchainError)
    assert issubclass(localchain.agents.AgentMaxStepsError, RuntimeError)
