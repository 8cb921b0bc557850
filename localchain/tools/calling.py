"""Run a model's tool call and always get a ``ToolMessage`` back, never an exception.

An agent loop calls :func:`run_tool_call` (or :func:`arun_tool_call`) with the tools it has and
one call from the model's reply. Whatever happens (an unknown tool name, arguments that do not
fit the schema, an exception inside the tool, a timeout), the result is a ``ToolMessage``; on
failure it has ``status="error"`` and a message that tells the model what to change.

Works with any langchain-core tool (``@tool``, ``StructuredTool``, ``BaseTool``) and with plain
functions that have a docstring (see :func:`as_tool`).

Example:
    .. code-block:: python

        from localchain.tools import calculator, run_tool_call

        call = {"name": "calculator", "args": {"expression": "17 * 23"}, "id": "c1"}
        run_tool_call([calculator], call).content  # '391'
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from langchain_core.messages import ToolCall, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, StructuredTool, ToolException
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ValidationError
from pydantic.v1 import ValidationError as ValidationErrorV1

from localchain.errors import ConfigError

ToolLike = BaseTool | Callable[..., Any]
"""A langchain-core tool, or a plain function with a docstring and type hints."""


def as_tool(obj: ToolLike) -> BaseTool:
    """Return ``obj`` as a langchain-core tool: tools as they are, functions wrapped.

    Args:
        obj: A ``BaseTool`` (``@tool``, ``StructuredTool``, a built-in tool...), or a plain
            function whose docstring describes it and whose type hints give the arguments.

    Raises:
        ConfigError: ``obj`` is neither, or the function has no docstring.
    """
    if isinstance(obj, BaseTool):
        return obj
    if callable(obj):
        try:
            return StructuredTool.from_function(obj)
        except (ValueError, TypeError) as err:
            name = getattr(obj, "__name__", repr(obj))
            msg = (
                f"Cannot make a tool from {name}: {err} Give it a docstring saying what it "
                "does (the model reads it) and type hints on its arguments, or wrap it in "
                "langchain_core.tools.tool."
            )
            raise ConfigError(msg) from err
    msg = f"{obj!r:.80} is not a tool: pass a BaseTool, a @tool function or a plain function."
    raise ConfigError(msg)


def tools_by_name(tools: Sequence[ToolLike] | Mapping[str, ToolLike]) -> dict[str, BaseTool]:
    """Index tools by their names (the names a model calls them by).

    Args:
        tools: Tools or functions (see :func:`as_tool`), or a mapping already keyed by name.

    Raises:
        ConfigError: Two tools share a name, or an item is not a tool.
    """
    items = tools.values() if isinstance(tools, Mapping) else tools
    found: dict[str, BaseTool] = {}
    for item in items:
        tool = as_tool(item)
        if tool.name in found and found[tool.name] is not tool:
            msg = f"Two tools are named {tool.name!r}; give one of them another name."
            raise ConfigError(msg)
        found[tool.name] = tool
    return found


# ----------------------------------------------------------------------------- error messages


def describe_arguments(tool: BaseTool) -> str:
    """The tool's arguments in one line, e.g. ``query (string, required): what to search``."""
    try:
        parameters = convert_to_openai_tool(tool)["function"].get("parameters", {})
    except Exception:  # a tool whose schema cannot be converted still gets a message
        return ", ".join(tool.args) or "no arguments"
    required = set(parameters.get("required", []))
    parts = []
    for name, schema in parameters.get("properties", {}).items():
        kind = schema.get("type") or "/".join(
            str(option.get("type")) for option in schema.get("anyOf", []) if "type" in option
        )
        flag = "required" if name in required else "optional"
        text = f"{name} ({kind or 'any'}, {flag})"
        if schema.get("description"):
            text += f": {str(schema['description']).rstrip('.')}"
        parts.append(text)
    return "; ".join(parts) or "no arguments"


def describe_validation_error(
    err: ValidationError | ValidationErrorV1 | Exception, *, tool: BaseTool
) -> str:
    """Say which arguments were wrong and what the tool expects, for the model to retry.

    Args:
        err: The validation error raised while parsing the tool's arguments.
        tool: The tool that was called.
    """
    problems = []
    if isinstance(err, ValidationError):
        for item in err.errors():
            where = ".".join(str(part) for part in item.get("loc", ())) or "arguments"
            text = f"{where}: {item.get('msg', 'invalid')}"
            if item.get("type") != "missing" and "input" in item:
                text += f" (got {item['input']!r:.60})"
            problems.append(text)
    else:
        problems.append(str(err))
    return (
        f"Invalid arguments for {tool.name}: {'; '.join(problems)}. "
        f"Expected arguments: {describe_arguments(tool)}. Fix the arguments and call "
        f"{tool.name} again."
    )


def _error_message(call_id: str, name: str, text: str) -> ToolMessage:
    return ToolMessage(text, tool_call_id=call_id, name=name, status="error")


def _unpack(call: ToolCall | Mapping[str, Any]) -> tuple[str, Any, str]:
    name = str(call.get("name") or "")
    call_id = call.get("id") or f"call_{uuid.uuid4().hex[:12]}"
    args = call.get("args", {})
    if isinstance(args, str):  # some producers send the arguments as a JSON string
        try:
            args = json.loads(args) if args.strip() else {}
        except json.JSONDecodeError:
            pass  # reported below as not an object
    return name, args, str(call_id)


def _prepare(
    tools: Sequence[ToolLike] | Mapping[str, ToolLike], call: ToolCall | Mapping[str, Any]
) -> tuple[BaseTool | None, ToolCall | ToolMessage]:
    """The tool and a well-formed ToolCall, or (None, an error message) when that fails."""
    name, args, call_id = _unpack(call)
    registry = tools_by_name(tools)
    tool = registry.get(name)
    if tool is None:
        known = ", ".join(registry) or "none"
        text = f"Unknown tool {name!r}. Known tools: {known}. Call one of them by its exact name."
        return None, _error_message(call_id, name, text)
    if not isinstance(args, dict):
        text = (
            f"The arguments for {name} must be a JSON object, got {args!r:.60}. "
            f"Expected arguments: {describe_arguments(tool)}."
        )
        return None, _error_message(call_id, name, text)
    return tool, ToolCall(name=name, args=args, id=call_id, type="tool_call")


def _result_message(result: Any, call: ToolCall) -> ToolMessage:
    if isinstance(result, ToolMessage):
        return result
    content = result if isinstance(result, str) else json.dumps(result, default=str)
    return ToolMessage(content, tool_call_id=call["id"], name=call["name"])


def _failure_message(err: BaseException, tool: BaseTool, call: ToolCall) -> ToolMessage:
    if isinstance(err, ValidationError | ValidationErrorV1):
        text = describe_validation_error(err, tool=tool)
    elif isinstance(err, ToolException):
        text = str(err) or f"{tool.name} failed without saying why."
    else:
        text = (
            f"{tool.name} failed with {type(err).__name__}: {err}. Check the arguments, or "
            "try another way."
        )
    return _error_message(str(call["id"]), tool.name, text)


def _timeout_message(tool: BaseTool, call: ToolCall, timeout_s: float) -> ToolMessage:
    text = (
        f"{tool.name} did not finish within {timeout_s:g} s and was abandoned. Ask for less, "
        "or try another way."
    )
    return _error_message(str(call["id"]), tool.name, text)


def _invoke_in_thread(
    tool: BaseTool, call: ToolCall, config: RunnableConfig | None, timeout_s: float
) -> tuple[bool, Any]:
    """Run the tool in a daemon thread; (finished, result or exception)."""
    box: dict[str, Any] = {}
    context = contextvars.copy_context()  # callbacks and tracing follow the call

    def target() -> None:
        try:
            box["result"] = context.run(tool.invoke, call, config)
        except BaseException as err:  # noqa: BLE001 - handed back to the caller's thread
            box["error"] = err

    # A daemon thread: a tool that never returns must not keep the process from exiting.
    thread = threading.Thread(target=target, name=f"tool-{tool.name}", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        return False, None
    return True, box.get("error", box.get("result"))


def run_tool_call(
    tools: Sequence[ToolLike] | Mapping[str, ToolLike],
    call: ToolCall | Mapping[str, Any],
    *,
    timeout_s: float | None = None,
    config: RunnableConfig | None = None,
) -> ToolMessage:
    """Run one tool call from a model's reply; failures come back as error messages.

    Args:
        tools: The tools the model may call (tools or functions, see :func:`as_tool`).
        call: A tool call: ``{"name", "args", "id"}`` as in ``AIMessage.tool_calls``
            (``args`` may also be a JSON string).
        timeout_s: Seconds the tool may run; past that the call is abandoned (the tool's
            thread cannot be killed, so it finishes in the background: the built-in tools
            have their own time limits) and an error message is returned. None waits.
        config: Runnable config (callbacks, tags) for the tool run.

    Returns:
        The tool's ``ToolMessage``, or one with ``status="error"`` saying what went wrong: an
        unknown tool (listing the known names), invalid arguments (with the expected ones), an
        exception in the tool, or a timeout.

    Raises:
        ConfigError: ``tools`` itself is wrong (two tools with one name, a non-tool).
    """
    tool, prepared = _prepare(tools, call)
    if tool is None or isinstance(prepared, ToolMessage):
        return prepared  # type: ignore[return-value]
    if timeout_s is not None and timeout_s <= 0:
        msg = f"timeout_s must be positive or None, got {timeout_s!r}."
        raise ConfigError(msg)
    try:
        if timeout_s is None:
            result = tool.invoke(prepared, config)
        else:
            finished, result = _invoke_in_thread(tool, prepared, config, timeout_s)
            if not finished:
                return _timeout_message(tool, prepared, timeout_s)
            if isinstance(result, BaseException):
                raise result
    except (Exception, SystemExit) as err:  # a tool never ends the agent's process
        return _failure_message(err, tool, prepared)
    return _result_message(result, prepared)


async def arun_tool_call(
    tools: Sequence[ToolLike] | Mapping[str, ToolLike],
    call: ToolCall | Mapping[str, Any],
    *,
    timeout_s: float | None = None,
    config: RunnableConfig | None = None,
) -> ToolMessage:
    """Async :func:`run_tool_call`: same arguments, same messages, the event loop stays free."""
    tool, prepared = _prepare(tools, call)
    if tool is None or isinstance(prepared, ToolMessage):
        return prepared  # type: ignore[return-value]
    if timeout_s is not None and timeout_s <= 0:
        msg = f"timeout_s must be positive or None, got {timeout_s!r}."
        raise ConfigError(msg)
    task = asyncio.ensure_future(tool.ainvoke(prepared, config))
    try:
        # asyncio.wait, not wait_for: a TimeoutError raised by the tool itself is a failure.
        done, _ = await asyncio.wait({task}, timeout=timeout_s)
        if not done:
            return _timeout_message(tool, prepared, timeout_s or 0.0)
        result = task.result()
    except (Exception, SystemExit) as err:
        return _failure_message(err, tool, prepared)
    finally:
        if not task.done():  # our caller was cancelled, or we gave up on the tool
            task.cancel()
    return _result_message(result, prepared)


__all__ = [
    "ToolLike",
    "arun_tool_call",
    "as_tool",
    "describe_arguments",
    "describe_validation_error",
    "run_tool_call",
    "tools_by_name",
]
