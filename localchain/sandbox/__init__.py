"""Run untrusted Python programs (PAL solutions, tool code) safely, in depth.

Layers, each enough to stop the known attacks on its own where it can:

1. An allowlist validator on the AST (``_policy.py``, with the tables in ``_allowlist.py``):
   syntax, names, attribute names and importable modules; no dunder or ``_``-prefixed name
   anywhere; size, depth and node caps.
2. Run-time guards in the child: every attribute read checks the exact type's allowlist,
   modules are proxies exposing only allowed attributes, ``**`` and ``pow`` refuse numbers too
   big to compute, ``print`` is captured and capped, and the builtins are a small safe dict.
3. A freshly started ``python -I -S -B`` child (``_child.py``) in its own session with an empty
   environment, an empty temporary directory, rlimits on memory, CPU time, file size (0) and file
   descriptors, imports blocked after start-up, and the result returned as plain JSON only
   (``_results.py``).
4. The parent's wall clock and output caps, ending in a SIGKILL of the child's process group.

>>> from localchain.sandbox import run_program
>>> run_program("def solution():\\n    return sum(range(10))")  # doctest: +SKIP
45
"""

from __future__ import annotations

from localchain.errors import (
    ProgramMemoryError,
    ProgramOutputError,
    ProgramRefusedError,
    ProgramRuntimeError,
    ProgramSyntaxError,
    ProgramTimeoutError,
    SandboxError,
)
from localchain.sandbox._allowlist import ALLOWED_MODULES, SAFE_BUILTINS
from localchain.sandbox._runner import (
    ProgramResult,
    SandboxLimits,
    arun_program,
    arun_program_with_output,
    run_program,
    run_program_with_output,
    validate_program,
)

__all__ = [
    "ALLOWED_MODULES",
    "SAFE_BUILTINS",
    "ProgramMemoryError",
    "ProgramOutputError",
    "ProgramRefusedError",
    "ProgramResult",
    "ProgramRuntimeError",
    "ProgramSyntaxError",
    "ProgramTimeoutError",
    "SandboxError",
    "SandboxLimits",
    "arun_program",
    "arun_program_with_output",
    "run_program",
    "run_program_with_output",
    "validate_program",
]
