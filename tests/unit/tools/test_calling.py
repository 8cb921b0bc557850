"""run_tool_call: any tool, any failure, always a ToolMessage; built-ins report errors the same."""

from __future__ import annotations

import asyncio
import sys
import time

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import StructuredTool, ToolException, tool

from localchain.errors import ConfigError
from localchain.tools import (
    arun_tool_call,
    as_tool,
    calculator,
    describe_validation_error,
    run_tool_call,
    tools_by_name,
)


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
def explode(reason: str) -> str:
    """Always fails (a plain exception, not a ToolException)."""
    msg = f"boom: {reason}"
    raise RuntimeError(msg)


@tool
def refuse(reason: str) -> str:
    """Raises a ToolException, but has no handle_tool_error set."""
    msg = f"refused: {reason}"
    raise ToolException(msg)


@tool
def sleepy(seconds: float) -> str:
    """Sleeps."""
    time.sleep(seconds)
    return "awake"


@tool
def quits(code: int) -> str:
    """Calls sys.exit."""
    sys.exit(code)


def multiply(a: float, b: float) -> float:
    """Multiply two numbers."""
    return a * b


def no_docstring(a: int) -> int:
    return a


TOOLS = [calculator, add, explode, refuse, sleepy, quits, multiply]


def call(name, args, call_id="c1"):
    return {"name": name, "args": args, "id": call_id, "type": "tool_call"}


def test_success_from_a_builtin_a_decorated_tool_and_a_plain_function():
    assert run_tool_call(TOOLS, call("calculator", {"expression": "2+2"})).content == "4"
    message = run_tool_call(TOOLS, call("add", {"a": 2, "b": 3}, "x9"))
    assert isinstance(message, ToolMessage)
    assert (message.content, message.tool_call_id, message.name, message.status) == (
        "5",
        "x9",
        "add",
        "success",
    )
    assert run_tool_call(TOOLS, call("multiply", {"a": 1.5, "b": 4})).content == "6.0"


def test_call_without_type_or_id_and_with_json_string_arguments():
    message = run_tool_call(TOOLS, {"name": "add", "args": '{"a": 1, "b": 1}'})
    assert message.content == "2" and message.tool_call_id.startswith("call_")


def test_unknown_tool_lists_the_known_names():
    message = run_tool_call(TOOLS, call("calculate", {"expression": "1"}))
    assert message.status == "error"
    assert "Unknown tool 'calculate'" in message.content
    assert "calculator" in message.content and "multiply" in message.content


def test_arguments_that_are_not_an_object():
    message = run_tool_call(TOOLS, call("add", "not json"))
    assert message.status == "error" and "must be a JSON object" in message.content
    assert "a (integer, required)" in message.content


def test_validation_error_of_a_third_party_tool_names_the_expected_arguments():
    message = run_tool_call(TOOLS, call("add", {"a": "two", "b": 3}))
    assert message.status == "error"
    assert "Invalid arguments for add" in message.content
    assert "a: Input should be a valid integer" in message.content
    assert "(got 'two')" in message.content
    assert "b (integer, required)" in message.content


def test_missing_argument():
    message = run_tool_call(TOOLS, call("add", {"a": 1}))
    assert message.status == "error" and "b: Field required" in message.content


def test_any_exception_becomes_an_error_message():
    message = run_tool_call(TOOLS, call("explode", {"reason": "x"}))
    assert message.status == "error"
    assert "explode failed with RuntimeError: boom: x" in message.content


def test_unhandled_tool_exception_becomes_an_error_message():
    message = run_tool_call(TOOLS, call("refuse", {"reason": "no"}))
    assert (message.status, message.content) == ("error", "refused: no")


def test_sys_exit_in_a_tool_does_not_end_the_process():
    message = run_tool_call(TOOLS, call("quits", {"code": 3}))
    assert message.status == "error" and "SystemExit" in message.content


def test_timeout_returns_an_error_message_at_once():
    started = time.monotonic()
    message = run_tool_call(TOOLS, call("sleepy", {"seconds": 5}), timeout_s=0.2)
    assert time.monotonic() - started < 2
    assert message.status == "error" and "did not finish within 0.2 s" in message.content


def test_timeout_does_not_disturb_a_fast_tool_or_its_errors():
    assert run_tool_call(TOOLS, call("add", {"a": 1, "b": 2}), timeout_s=5).content == "3"
    message = run_tool_call(TOOLS, call("explode", {"reason": "y"}), timeout_s=5)
    assert message.status == "error" and "boom: y" in message.content


def test_bad_timeout_is_a_config_error():
    with pytest.raises(ConfigError, match="timeout_s"):
        run_tool_call(TOOLS, call("add", {"a": 1, "b": 2}), timeout_s=0)


def test_async_matches_sync():
    async def main():
        ok = await arun_tool_call(TOOLS, call("add", {"a": 2, "b": 2}))
        bad = await arun_tool_call(TOOLS, call("add", {"a": "x", "b": 2}))
        boom = await arun_tool_call(TOOLS, call("explode", {"reason": "z"}))
        slow = await arun_tool_call(TOOLS, call("sleepy", {"seconds": 1}), timeout_s=0.2)
        unknown = await arun_tool_call(TOOLS, call("nope", {}))
        return ok, bad, boom, slow, unknown

    ok, bad, boom, slow, unknown = asyncio.run(main())
    assert ok.content == "4" and ok.status == "success"
    assert bad.status == boom.status == slow.status == unknown.status == "error"
    assert "Invalid arguments for add" in bad.content
    assert "boom: z" in boom.content
    assert "did not finish" in slow.content
    assert "Unknown tool 'nope'" in unknown.content


def test_async_tool_raising_its_own_timeout_error_is_a_failure_not_a_timeout():
    async def late(x: int) -> str:
        """Raises TimeoutError itself."""
        msg = "upstream timed out"
        raise TimeoutError(msg)

    slow_api = StructuredTool.from_function(coroutine=late, name="slow_api")
    message = asyncio.run(arun_tool_call([slow_api], call("slow_api", {"x": 1}), timeout_s=5))
    assert message.status == "error" and "upstream timed out" in message.content


def test_as_tool_and_tools_by_name():
    assert as_tool(calculator) is calculator
    wrapped = as_tool(multiply)
    assert wrapped.name == "multiply" and wrapped.description == "Multiply two numbers."
    with pytest.raises(ConfigError, match="docstring"):
        as_tool(no_docstring)
    with pytest.raises(ConfigError, match="not a tool"):
        as_tool(42)
    assert list(tools_by_name([add, multiply])) == ["add", "multiply"]
    assert tools_by_name({"x": add}) == {"add": add}
    with pytest.raises(ConfigError, match="Two tools are named 'add'"):
        tools_by_name([add, as_tool(add.func)])


def test_builtin_tools_report_errors_through_langchain_core_itself():
    # No run_tool_call here: BaseTool.invoke with a ToolCall returns the error message.
    bad_args = calculator.invoke(call("calculator", {}))
    bad_value = calculator.invoke(call("calculator", {"expression": "x"}))
    assert bad_args.status == bad_value.status == "error"
    assert "expression: Field required" in bad_args.content


def test_describe_validation_error_of_a_non_pydantic_error():
    assert "Expected arguments: a (integer, required)" in describe_validation_error(
        ValueError("nope"), tool=add
    )
