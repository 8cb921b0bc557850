"""Every error localchain raises on purpose, under one root.

Each error also subclasses the builtin (or langchain-core) exception that callers would
naturally catch, so ``except ValueError`` or ``except ContextOverflowError`` keep working.

The tree, with each error's builtin co-parent in brackets and its data attributes after the
colon::

    LocalchainError                         the root: catches everything below
      ConfigError (ValueError)              a setting or argument is invalid or conflicts
      ModelNotFoundError (LookupError)      no model by that name or local path
      MissingDependencyError (ImportError)  an optional extra is not installed
      UnsupportedOnDeviceError              the device cannot do what was asked (nf4 on CPU)
      AdapterError                          a LoRA adapter is missing, clashes, or fits
                                            another base
      ContextLengthError                    the prompt does not fit the context window
        (langchain-core ContextOverflowError)
      QueueFullError                        too many requests are waiting for a model:
                                            retry_after
      SandboxError                          a sandboxed program did not run to a result:
        ProgramRefusedError (ValueError)      the policy refused it before it ran:
                                              reason, line, col
          ProgramSyntaxError                  it is not valid Python: reason, line, col
        ProgramTimeoutError (TimeoutError)    it ran past its time limit: limit_s
        ProgramMemoryError                    it hit its memory limit: limit_mb, output
        ProgramOutputError                    it printed or returned too much, or returned
                                              something that is not plain data: output
        ProgramRuntimeError                   it raised: exc_type, exc_message, line, output
      DocumentLoadError (ValueError)        a file cannot be loaded for the index: path, reason
      VectorStoreError (ValueError)         a vector store is used wrongly (clashing ids,
                                            wrong dimensions, a bad saved directory)
      HistoryStoreError (RuntimeError)      a chat-history database cannot be opened, read
                                            or written
      ToolError (langchain-core ToolException)  a built-in tool could not do what was asked;
                                            agents hand its message back to the model
      AgentMaxStepsError (RuntimeError)     an agent used all its steps without answering:
                                            steps, messages, max_steps

Parse failures raise langchain-core's ``OutputParserException``, as langchain-core expects.

This module imports nothing from localchain. The sandbox's child process never imports it (it
loads only ``sandbox/_policy.py``, ``_allowlist.py`` and ``_results.py``, all stdlib-only): the
parent turns the child's JSON answer into these errors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from langchain_core.tools import ToolException

try:  # langchain-core >= 1.1 defines a context-overflow exception; keep working without it.
    from langchain_core.exceptions import ContextOverflowError as _ContextOverflowBase
except ImportError:  # pragma: no cover - older langchain-core

    class _ContextOverflowBase(ValueError):  # type: ignore[no-redef]
        """Stand-in for langchain-core's ContextOverflowError."""


class LocalchainError(Exception):
    """Base class for every error localchain raises on purpose."""


# ------------------------------------------------------------------------ settings and models


class ConfigError(LocalchainError, ValueError):
    """A setting is invalid or conflicts with another."""


class ModelNotFoundError(LocalchainError, LookupError):
    """No model by that name or path."""


class MissingDependencyError(LocalchainError, ImportError):
    """An optional extra is not installed."""


class UnsupportedOnDeviceError(LocalchainError):
    """The device cannot do what was asked (e.g. nf4 on CPU)."""


class AdapterError(LocalchainError):
    """A LoRA adapter is missing, clashes with another, or fits another base."""


class ContextLengthError(LocalchainError, _ContextOverflowBase):
    """The prompt does not fit the model's context window."""


class QueueFullError(LocalchainError):
    """Too many requests are already waiting for a model; try again shortly.

    Attributes:
        retry_after: Seconds after which a retry is likely to be admitted.
    """

    def __init__(self, message: str, *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# ------------------------------------------------------------------------------------ sandbox


class SandboxError(LocalchainError):
    """A program was refused, timed out, or hit a limit."""


class ProgramRefusedError(SandboxError, ValueError):
    """The program breaks the sandbox policy and was not run.

    Attributes:
        reason: What was refused, in words (e.g. "attribute 'gi_frame' is not on the allowlist").
        line: 1-based line of the refused code, when known.
        col: 1-based column of the refused code, when known.
        output: Always "" (the program never ran); present so every program error has it.
    """

    def __init__(self, message: str, *, reason: str, line: int | None, col: int | None) -> None:
        super().__init__(message)
        self.reason = reason
        self.line = line
        self.col = col
        self.output = ""


class ProgramSyntaxError(ProgramRefusedError):
    """The program is not valid Python (a refusal, with the parser's message and position)."""


class ProgramTimeoutError(SandboxError, TimeoutError):
    """The program ran past its wall-clock or CPU-time limit and its process group was killed.

    Attributes:
        limit_s: The limit in seconds.
        output: Always "" (what a killed program printed is not kept).
    """

    def __init__(self, message: str, *, limit_s: float) -> None:
        super().__init__(message)
        self.limit_s = limit_s
        self.output = ""


class ProgramMemoryError(SandboxError):
    """The program needed more memory than allowed (or asked for a number too big to compute).

    Attributes:
        limit_mb: The memory limit in MiB.
        output: What the program printed before it stopped.
    """

    def __init__(self, message: str, *, limit_mb: int, output: str = "") -> None:
        super().__init__(message)
        self.limit_mb = limit_mb
        self.output = output


class ProgramOutputError(SandboxError):
    """The program printed or returned too much, or returned something that is not plain data.

    Attributes:
        output: What the program printed (possibly cut at the limit).
    """

    def __init__(self, message: str, *, output: str = "") -> None:
        super().__init__(message)
        self.output = output


class ProgramRuntimeError(SandboxError):
    """The program raised an exception. No host traceback is kept, only what the program needs.

    Attributes:
        exc_type: The exception's class name, e.g. "ZeroDivisionError".
        exc_message: The exception's message.
        line: The line of the program where it was raised (innermost program frame), if known.
        output: What the program printed before the exception.
    """

    def __init__(
        self,
        message: str,
        *,
        exc_type: str,
        exc_message: str,
        line: int | None,
        output: str = "",
    ) -> None:
        super().__init__(message)
        self.exc_type = exc_type
        self.exc_message = exc_message
        self.line = line
        self.output = output


# ------------------------------------------------------------------------- index and memory


class DocumentLoadError(LocalchainError, ValueError):
    """A file could not be loaded: unreadable, binary, empty, or of an unsupported type.

    Attributes:
        path: The file that failed.
        reason: What went wrong, in a few words (e.g. "file is empty").
    """

    def __init__(self, message: str, *, path: Path, reason: str) -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason


class VectorStoreError(LocalchainError, ValueError):
    """A vector store was used wrongly: clashing ids, wrong dimensions, a bad saved directory."""


class HistoryStoreError(LocalchainError, RuntimeError):
    """The history database cannot be opened, read or written."""


# -------------------------------------------------------------------------------------- tools


class ToolError(LocalchainError, ToolException):
    """A tool could not do what was asked; the message says why and what to try instead.

    It is also langchain-core's ``ToolException``, so a tool with ``handle_tool_error`` set (every
    built-in tool) turns it into a ``ToolMessage`` with ``status="error"`` that the model reads.
    """


# ------------------------------------------------------------------------------------- agents


class AgentMaxStepsError(LocalchainError, RuntimeError):
    """An agent used all its steps without a final answer; the transcript comes with it.

    Attributes:
        steps: The run's transcript: one dict per step (model call, tool calls, results), with
            tokens and seconds.
        messages: The conversation so far, tool calls and results included.
        max_steps: The step budget that ran out.
    """

    def __init__(
        self,
        message: str,
        *,
        steps: Sequence[Mapping[str, Any]] | None = None,
        messages: Sequence[Any] | None = None,
        max_steps: int = 0,
    ) -> None:
        """Keep the transcript on the error."""
        super().__init__(message)
        self.steps = list(steps or [])
        self.messages = list(messages or [])
        self.max_steps = max_steps


__all__ = [
    "QueueFullError",
    "AgentMaxStepsError",
    "ToolError",
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
