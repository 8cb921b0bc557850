"""The ``python`` tool: run a program's ``solution()`` in ``localchain.sandbox`` and return it.

The program goes through the sandbox's allowlist check and runs in a fresh, rlimited child
process (see ``localchain.sandbox``). Its return value comes back as JSON, with whatever it
printed; a refused, failing or runaway program comes back as an error message (the sandbox's
own message, which says what was refused and where) so the model can fix the program.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

from localchain.errors import SandboxError, ToolError
from localchain.sandbox import (
    ALLOWED_MODULES,
    ProgramMemoryError,
    ProgramOutputError,
    ProgramTimeoutError,
    SandboxLimits,
    arun_program_with_output,
    run_program_with_output,
)
from localchain.tools._builtin import BuiltinTool, cut_text

DEFAULT_LIMITS = SandboxLimits(timeout_s=5.0, memory_mb=256, max_output_bytes=16_000)
"""The tool's default sandbox limits (printed output capped lower than the sandbox's own)."""


class PythonInput(BaseModel):
    """Arguments of the python tool."""

    code: str = Field(
        description=(
            "A complete Python program that defines `def solution():` and returns the answer."
        )
    )


class PythonTool(BuiltinTool):
    """Run a Python program's ``solution()`` in the sandbox; returns its value and output.

    Args:
        limits: Sandbox limits (time, memory, output); default :data:`DEFAULT_LIMITS`.
        max_chars: Cap on the text returned to the model.
    """

    name: str = "python"
    description: str = (
        "Run a Python program and return what its solution() function returns. Write "
        "`def solution():` that computes and returns the answer; print() output is shown "
        f"too. Allowed imports: {', '.join(sorted(ALLOWED_MODULES))}. No files or network."
    )
    args_schema: type[BaseModel] = PythonInput
    limits: SandboxLimits = DEFAULT_LIMITS
    """Sandbox limits for each run."""
    max_chars: int = Field(default=4000, ge=100)
    """Cap on the characters returned to the model."""

    def _format(self, value: Any, output: str) -> str:
        text = f"result: {json.dumps(value, ensure_ascii=False)}"
        if output.strip():
            text += f"\nprinted:\n{output.rstrip()}"
        return cut_text(text, self.max_chars)

    def _failure(self, err: SandboxError) -> ToolError:
        advice = (
            "Make it do less (smaller loops, less output) and call python again."
            if isinstance(err, ProgramTimeoutError | ProgramMemoryError | ProgramOutputError)
            else "Fix the program and call python again."
        )
        text = f"{str(err).rstrip('.')}. {advice}"
        printed = str(getattr(err, "output", "") or "")
        if printed.strip():
            text += f"\nprinted before it stopped:\n{printed.rstrip()}"
        return ToolError(cut_text(text, self.max_chars))

    def _run(self, code: str, **_: Any) -> str:
        try:
            result = run_program_with_output(code, "solution", limits=self.limits)
        except SandboxError as err:
            raise self._failure(err) from err
        return self._format(result.value, result.output)

    async def _arun(self, code: str, **_: Any) -> str:
        try:
            result = await arun_program_with_output(code, "solution", limits=self.limits)
        except SandboxError as err:
            raise self._failure(err) from err
        return self._format(result.value, result.output)


def python_tool(limits: SandboxLimits | None = None, *, max_chars: int = 4000) -> PythonTool:
    """A ``python`` tool that runs ``solution()`` programs in the sandbox.

    Args:
        limits: Sandbox limits for each run; default :data:`DEFAULT_LIMITS` (5 s, 256 MiB).
        max_chars: Cap on the text returned to the model.
    """
    return PythonTool(limits=limits or DEFAULT_LIMITS, max_chars=max_chars)


__all__ = ["DEFAULT_LIMITS", "PythonInput", "PythonTool", "python_tool"]
