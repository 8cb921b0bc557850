"""The python tool: solution() programs run in the sandbox; refusals and limits become errors."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.tools import BaseTool

from localchain.sandbox import SandboxLimits
from localchain.tools import PythonTool, python_tool
from localchain.tools.python_code import DEFAULT_LIMITS


@pytest.fixture(scope="module")
def python():
    return python_tool(SandboxLimits(timeout_s=2.0, memory_mb=256, max_output_bytes=2000))


def call(tool, code, call_id="p1"):
    return tool.invoke(
        {"name": "python", "args": {"code": code}, "id": call_id, "type": "tool_call"}
    )


def test_is_a_basetool_with_a_schema_and_limits():
    tool = python_tool()
    assert isinstance(tool, BaseTool) and isinstance(tool, PythonTool)
    assert tool.name == "python" and list(tool.args) == ["code"]
    assert tool.limits == DEFAULT_LIMITS
    assert "solution()" in tool.description and "math" in tool.description


def test_returns_the_value_and_the_printed_output(python):
    code = (
        "import math\ndef solution():\n    print('thinking')\n"
        "    return [math.factorial(5), 2.5, 'x']"
    )
    message = call(python, code)
    assert message.status == "success"
    assert message.content == 'result: [120, 2.5, "x"]\nprinted:\nthinking'


def test_without_printing_only_the_result(python):
    assert python.invoke({"code": "def solution():\n    return {'a': 1}"}) == 'result: {"a": 1}'


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (
            "import os\ndef solution():\n    return os.getcwd()",
            "import of module 'os' is not allowed",
        ),
        ("def solution(:\n    pass", "syntax error"),
        ("def main():\n    return 1", "defines no top-level function 'solution'"),
        ("def solution():\n    return ().__class__", "refused"),
        ("def solution():\n    return open('/etc/passwd')", "open"),
    ],
)
def test_refused_programs_become_error_messages(python, code, words):
    message = call(python, code)
    assert message.status == "error"
    assert words in message.content
    assert message.content.endswith("Fix the program and call python again.")


def test_runtime_error_keeps_what_was_printed(python):
    message = call(python, "def solution():\n    print('before')\n    return 1 / 0")
    assert message.status == "error"
    assert "ZeroDivisionError at line 3" in message.content
    assert "printed before it stopped:\nbefore" in message.content


def test_timeout_becomes_an_error_message(python):
    message = call(python, "def solution():\n    while True:\n        pass")
    assert message.status == "error"
    assert "longer than 2 s" in message.content and "do less" in message.content


def test_too_much_output_becomes_an_error_message(python):
    message = call(python, "def solution():\n    print('x' * 100000)\n    return 1")
    assert message.status == "error" and "do less" in message.content


def test_missing_code_argument(python):
    message = python.invoke(
        {"name": "python", "args": {"program": "x"}, "id": "1", "type": "tool_call"}
    )
    assert message.status == "error" and "code: Field required" in message.content


def test_long_results_are_cut():
    tool = python_tool(max_chars=100)
    text = tool.invoke({"code": "def solution():\n    return 'y' * 500"})
    assert len(text) < 200 and "cut at 100" in text


def test_async(python):
    message = asyncio.run(
        python.ainvoke(
            {
                "name": "python",
                "args": {"code": "def solution():\n    return 6 * 7"},
                "id": "a",
                "type": "tool_call",
            }
        )
    )
    assert message.content == "result: 42"
    bad = asyncio.run(
        python.ainvoke(
            {"name": "python", "args": {"code": "import os"}, "id": "b", "type": "tool_call"}
        )
    )
    assert bad.status == "error"
