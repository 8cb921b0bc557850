"""The error the built-in tools raise, under ``localchain.errors.LocalchainError``.

It also subclasses langchain-core's ``ToolException``, so a tool with ``handle_tool_error`` set
(every built-in tool) turns it into a ``ToolMessage`` with ``status="error"`` that the model
reads, and callers' ``except ToolException`` keeps working.
"""

from __future__ import annotations

from langchain_core.tools import ToolException

from localchain.errors import LocalchainError


class ToolError(LocalchainError, ToolException):
    """A tool could not do what was asked; the message says why and what to try instead."""


__all__ = ["ToolError"]
