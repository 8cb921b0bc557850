"""The errors a sandboxed program can end in, all under ``localchain.errors.SandboxError``.

Each carries data as well as a message: what was refused and where, the program's exception type
and line, the limit that was hit, and whatever the program printed before it stopped.
"""

from __future__ import annotations

from localchain.errors import SandboxError


class ProgramRefusedError(SandboxError, ValueError):
    """The program breaks the sandbox policy and was not run.

    Attributes:
        reason: What was refused, in words (e.g. "attribute 'gi_frame' is not on the allowlist").
        line: 1-based line of the refused code, when known.
        col: 1-based column of the refused code, when known.
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


__all__ = [
    "ProgramMemoryError",
    "ProgramOutputError",
    "ProgramRefusedError",
    "ProgramRuntimeError",
    "ProgramSyntaxError",
    "ProgramTimeoutError",
    "SandboxError",
]
