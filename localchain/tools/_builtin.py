"""What every built-in tool shares: errors come back to the model as error ``ToolMessage``s.

``BuiltinTool`` is a plain langchain-core ``BaseTool`` with two defaults set, not a new kind of
tool: ``handle_tool_error=True`` (a ``ToolException``'s message becomes the tool's output with
``status="error"``) and a ``handle_validation_error`` that names the bad arguments and lists the
expected ones. Any other langchain-core tool gets the same treatment from ``run_tool_call``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from langchain_core.tools import BaseTool

from localchain.tools.calling import describe_validation_error


class BuiltinTool(BaseTool):
    """A ``BaseTool`` whose failures come back as error messages the model can act on."""

    handle_tool_error: Any = True
    """Return a ``ToolException``'s message as the tool's output (status "error")."""

    def model_post_init(self, context: Any, /) -> None:
        """Describe argument errors with the expected arguments, unless set by the caller."""
        super().model_post_init(context)
        if not self.handle_validation_error:
            self.handle_validation_error = partial(describe_validation_error, tool=self)


def cut_text(text: str, max_chars: int, *, what: str = "output") -> str:
    """Cut ``text`` to ``max_chars`` characters, saying so at the end when it was cut."""
    if len(text) <= max_chars:
        return text
    return f"{text[:max_chars]}\n[... {what} cut at {max_chars} of {len(text)} characters]"


__all__ = ["BuiltinTool", "cut_text"]
