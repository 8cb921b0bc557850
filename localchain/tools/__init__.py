"""Tools a small local model can call, and a safe way to run any tool call.

```python
from localchain.tools import calculator, read_file_tool, run_tool_call, sql_tool

tools = [calculator, sql_tool("shop.sqlite"), read_file_tool("docs/")]
call = {"name": "calculator", "args": {"expression": "17 * 23"}, "id": "c1"}
run_tool_call(tools, call)  # ToolMessage(content='391', tool_call_id='c1', ...)
```

Every built-in tool is a langchain-core ``BaseTool`` with a pydantic argument schema; any other
langchain-core tool (``@tool``, ``StructuredTool``, a plain function with a docstring) works
beside them. A failure (bad arguments, an exception, a timeout) comes back as a ``ToolMessage``
with ``status="error"`` and a message the model can act on. Names load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from localchain._lazy import lazy_getattr
from localchain.errors import ToolError

if TYPE_CHECKING:
    from localchain.tools.arithmetic import CalculatorTool, calculator, evaluate_expression
    from localchain.tools.calling import (
        arun_tool_call,
        as_tool,
        describe_validation_error,
        run_tool_call,
        tools_by_name,
    )
    from localchain.tools.files import ReadFileTool, read_file_tool
    from localchain.tools.graph import GraphLike, KnowledgeGraphTool, knowledge_graph_tool
    from localchain.tools.python_code import PythonTool, python_tool
    from localchain.tools.retriever import RetrieverTool, retriever_tool
    from localchain.tools.sql import SQLSchemaTool, SQLTool, sql_schema_tool, sql_tool

_LAZY = {
    "CalculatorTool": "localchain.tools.arithmetic",
    "calculator": "localchain.tools.arithmetic",
    "evaluate_expression": "localchain.tools.arithmetic",
    "arun_tool_call": "localchain.tools.calling",
    "as_tool": "localchain.tools.calling",
    "describe_validation_error": "localchain.tools.calling",
    "run_tool_call": "localchain.tools.calling",
    "tools_by_name": "localchain.tools.calling",
    "ReadFileTool": "localchain.tools.files",
    "read_file_tool": "localchain.tools.files",
    "GraphLike": "localchain.tools.graph",
    "KnowledgeGraphTool": "localchain.tools.graph",
    "knowledge_graph_tool": "localchain.tools.graph",
    "PythonTool": "localchain.tools.python_code",
    "python_tool": "localchain.tools.python_code",
    "RetrieverTool": "localchain.tools.retriever",
    "retriever_tool": "localchain.tools.retriever",
    "SQLSchemaTool": "localchain.tools.sql",
    "SQLTool": "localchain.tools.sql",
    "sql_schema_tool": "localchain.tools.sql",
    "sql_tool": "localchain.tools.sql",
}

__all__ = [
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


__getattr__ = lazy_getattr(__name__, _LAZY)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
