"""Run a program in the sandbox: validate here, then execute in a fresh, limited child process.

The parent refuses a bad program before any process starts. A good one goes to
``python -I -S -B _child.py``: a new interpreter (not a fork of the host, which would inherit its
memory and secrets), in a new session, with an empty environment, an empty temporary working
directory, no inherited file descriptors, and stdin carrying the request. The child re-validates
and sets rlimits itself; the parent enforces the wall clock (counted from the moment the child
says the program starts) and caps what it reads, then SIGKILLs the whole process group.
"""

from __future__ import annotations

import asyncio
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from localchain.errors import (
    ConfigError,
    ProgramMemoryError,
    ProgramOutputError,
    ProgramRefusedError,
    ProgramRuntimeError,
    ProgramSyntaxError,
    ProgramTimeoutError,
    SandboxError,
)
from localchain.sandbox import _policy

CHILD_PATH = Path(__file__).resolve().parent / "_child.py"
STARTUP_TIMEOUT_S = 15.0
"""How long the child may take to start and get ready (not counted against the program)."""
_STDERR_CAP = 16_000
_CHUNK = 65_536
CHILD_REQUEST_BYTES = 8_000_000
"""The most the child reads of its JSON request (``_child.MAX_REQUEST_BYTES``)."""
MAX_SOURCE_CHARS_LIMIT = CHILD_REQUEST_BYTES // 4
"""The largest ``max_source_chars`` allowed: a program that size still fits the request when
JSON escapes double its plain characters (newlines, quotes); a larger request is refused."""


@dataclass(frozen=True)
class SandboxLimits:
    """Limits for one program run; the defaults are safe for PAL-style programs.

    Attributes:
        timeout_s: Wall-clock seconds the program may run (CPU time is capped at about the same).
        memory_mb: Address-space limit of the child process, in MiB (at least 64).
        max_output_bytes: Cap on printed characters and, separately, on the JSON size of the result.
        max_source_chars: Cap on the program's size, checked before parsing (at most
            ``MAX_SOURCE_CHARS_LIMIT``, 2,000,000: the child reads at most 8 MB of request).

    Raises:
        ConfigError: A limit is out of its range (the message names it and the range).
    """

    timeout_s: float = 5.0
    memory_mb: int = 256
    max_output_bytes: int = 64_000
    max_source_chars: int = _policy.MAX_SOURCE_CHARS

    def __post_init__(self) -> None:
        for name in ("timeout_s", "memory_mb", "max_output_bytes", "max_source_chars"):
            value = getattr(self, name)
            whole = name != "timeout_s"
            kinds = (int,) if whole else (int, float)
            if isinstance(value, bool) or not isinstance(value, kinds) or value != value:
                kind = "a whole number" if whole else "a number of seconds"
                msg = f"Invalid SandboxLimits: {name} must be {kind}, got {value!r}."
                raise ConfigError(msg)
        checks = [
            (0 < self.timeout_s <= 3600, "timeout_s must be in (0, 3600]"),
            (64 <= self.memory_mb <= 65_536, "memory_mb must be between 64 and 65536"),
            (
                1 <= self.max_output_bytes <= 100_000_000,
                "max_output_bytes must be between 1 and 100000000",
            ),
            (
                1 <= self.max_source_chars <= MAX_SOURCE_CHARS_LIMIT,
                f"max_source_chars must be between 1 and {MAX_SOURCE_CHARS_LIMIT} (the sandbox "
                f"child reads at most {CHILD_REQUEST_BYTES} bytes of program and arguments)",
            ),
        ]
        for ok, message in checks:
            if not ok:
                msg = f"Invalid SandboxLimits: {message} (got {self})."
                raise ConfigError(msg)


@dataclass(frozen=True)
class ProgramResult:
    """What a successful run produced.

    Attributes:
        value: The entry function's return value, as plain JSON data.
        output: Everything the program printed.
        duration_s: Wall-clock seconds from process start to result.
    """

    value: Any
    output: str = ""
    duration_s: float = field(default=0.0, compare=False)


def validate_program(
    code: str, entry: str | None = "solution", *, max_source_chars: int | None = None
) -> None:
    """Check a program against the sandbox policy without running it.

    Args:
        code: Python source.
        entry: The top-level function the program must define, or None to skip that check.
        max_source_chars: Size cap; defaults to ``SandboxLimits().max_source_chars``.

    Raises:
        ProgramSyntaxError: The program does not parse.
        ProgramRefusedError: The program uses something the sandbox does not allow.
    """
    cap = max_source_chars if max_source_chars is not None else _policy.MAX_SOURCE_CHARS
    try:
        _policy.validate(code, entry=entry, max_source_chars=cap)
    except _policy.PolicyViolation as err:
        raise _refusal(err.reason, err.line, err.col, syntax=err.syntax) from None


def _refusal(
    reason: str, line: int | None, col: int | None, *, syntax: bool = False
) -> ProgramRefusedError:
    where = f" at line {line}, column {col}" if line is not None and col is not None else ""
    where = where or (f" at line {line}" if line is not None else "")
    if syntax:
        return ProgramSyntaxError(f"The program has a {reason}{where}.", reason=reason,
                                  line=line, col=col)  # fmt: skip
    message = f"The sandbox refused the program: {reason}{where}."
    return ProgramRefusedError(message, reason=reason, line=line, col=col)


def _resolve_limits(limits: SandboxLimits | None, **overrides: Any) -> SandboxLimits:
    base = limits or SandboxLimits()
    chosen = {key: value for key, value in overrides.items() if value is not None}
    return replace(base, **chosen) if chosen else base


def _plain_arguments(args: Sequence[Any] | None, kwargs: Mapping[str, Any] | None) -> tuple:
    try:
        plain_args = json.loads(json.dumps(list(args or [])))
        plain_kwargs = json.loads(json.dumps(dict(kwargs or {})))
    except (TypeError, ValueError) as err:
        msg = f"Sandbox arguments must be plain JSON data (str, int, float, list, dict...): {err}"
        raise SandboxError(msg) from err
    for key in plain_kwargs:
        if not key.isidentifier() or key.startswith("_"):
            msg = f"Invalid keyword argument name for the program: {key!r}."
            raise SandboxError(msg)
    return plain_args, plain_kwargs


def run_program_with_output(
    code: str,
    entry: str = "solution",
    timeout_s: float | None = None,
    *,
    memory_mb: int | None = None,
    max_output_bytes: int | None = None,
    args: Sequence[Any] | None = None,
    kwargs: Mapping[str, Any] | None = None,
    limits: SandboxLimits | None = None,
) -> ProgramResult:
    """Run ``code`` in the sandbox and return the entry function's value and printed output.

    Args and errors are those of ``run_program``.
    """
    chosen = _resolve_limits(
        limits, timeout_s=timeout_s, memory_mb=memory_mb, max_output_bytes=max_output_bytes
    )
    validate_program(code, entry, max_source_chars=chosen.max_source_chars)
    plain_args, plain_kwargs = _plain_arguments(args, kwargs)
    request = {
        "code": code,
        "entry": entry,
        "args": plain_args,
        "kwargs": plain_kwargs,
        "memory_mb": chosen.memory_mb,
        "cpu_s": chosen.timeout_s,
        "max_output_bytes": chosen.max_output_bytes,
        "max_source_chars": chosen.max_source_chars,
    }
    payload = json.dumps(request).encode()
    if len(payload) > CHILD_REQUEST_BYTES:
        reason = (
            f"the program and its arguments take {len(payload):,} bytes as JSON; the sandbox "
            f"reads at most {CHILD_REQUEST_BYTES:,}. Shorten the program or pass smaller arguments"
        )
        raise _refusal(reason, None, None)
    started = time.monotonic()
    channel, stderr, stopped, returncode = _run_child(payload, chosen)
    frame = _read_frame(channel, stderr, stopped, returncode, chosen)
    return ProgramResult(
        value=frame.get("value"),
        output=str(frame.get("output", "")),
        duration_s=time.monotonic() - started,
    )


def run_program(
    code: str,
    entry: str = "solution",
    timeout_s: float | None = None,
    *,
    memory_mb: int | None = None,
    max_output_bytes: int | None = None,
    args: Sequence[Any] | None = None,
    kwargs: Mapping[str, Any] | None = None,
    limits: SandboxLimits | None = None,
) -> Any:
    """Run ``code`` in the sandbox and return what its entry function returns, as plain data.

    Example:
        >>> run_program("def solution():\\n    return 6 * 7")  # doctest: +SKIP
        42

    Args:
        code: Python source defining ``entry`` at top level.
        entry: Name of the function to call.
        timeout_s: Wall-clock seconds for the program (default 5, from ``limits``).
        memory_mb: Memory limit in MiB (default 256).
        max_output_bytes: Cap on printed characters and on the result's JSON size (default
            64,000).
        args: Positional arguments for the entry function (plain JSON data).
        kwargs: Keyword arguments for the entry function (plain JSON data).
        limits: Base limits; the keyword arguments above override single fields.

    Returns:
        None, bool, int, float, str, or lists and str-keyed dicts of those. Fractions and
        Decimals come back as int (when whole) or float, dates and times as ISO strings, tuples
        and deques as lists, sets as sorted lists.

    Raises:
        ProgramSyntaxError: The program does not parse.
        ProgramRefusedError: The program uses something the sandbox does not allow.
        ProgramTimeoutError: It ran past its time limit and was killed.
        ProgramMemoryError: It needed too much memory.
        ProgramOutputError: It printed or returned too much, or returned non-plain data.
        ProgramRuntimeError: It raised an exception (type, message and line are on the error).
        SandboxError: The sandbox process itself failed.
    """
    return run_program_with_output(
        code,
        entry,
        timeout_s,
        memory_mb=memory_mb,
        max_output_bytes=max_output_bytes,
        args=args,
        kwargs=kwargs,
        limits=limits,
    ).value


async def arun_program_with_output(
    code: str,
    entry: str = "solution",
    timeout_s: float | None = None,
    **options: Any,
) -> ProgramResult:
    """Async ``run_program_with_output``: the child is driven from a worker thread.

    If the awaiting task is cancelled, the child still ends within its own limits.
    """
    return await asyncio.to_thread(run_program_with_output, code, entry, timeout_s, **options)


async def arun_program(
    code: str,
    entry: str = "solution",
    timeout_s: float | None = None,
    **options: Any,
) -> Any:
    """Async ``run_program``; it does not block the event loop. Same arguments and errors."""
    result = await arun_program_with_output(code, entry, timeout_s, **options)
    return result.value


# ----------------------------------------------------------------------------- child process


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _run_child(request: bytes, limits: SandboxLimits) -> tuple[bytes, bytes, str | None, int]:
    """Start the child, feed it the request, and collect its channel within the limits.

    Returns:
        (channel bytes, stderr bytes, why it was stopped or None, return code).
    """
    channel_cap = 16 * (2 * limits.max_output_bytes) + 65_536  # generous: JSON escapes expand
    with tempfile.TemporaryDirectory(prefix="localchain-sandbox-") as workdir:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            [sys.executable, "-I", "-S", "-B", str(CHILD_PATH)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=workdir,
            env={},
            close_fds=True,
            start_new_session=True,
        )
        try:
            channel, stderr, stopped = _exchange(proc, request, limits.timeout_s, channel_cap)
        finally:
            _kill_group(proc)  # the whole session: nothing the child started survives
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                if stream is not None and not stream.closed:
                    stream.close()
            proc.wait()
    return channel, stderr, stopped, proc.returncode


def _exchange(
    proc: subprocess.Popen, request: bytes, timeout_s: float, channel_cap: int
) -> tuple[bytes, bytes, str | None]:
    assert proc.stdin and proc.stdout and proc.stderr  # noqa: S101 - all three are pipes
    stdin_fd, out_fd, err_fd = proc.stdin.fileno(), proc.stdout.fileno(), proc.stderr.fileno()
    for fd in (stdin_fd, out_fd, err_fd):
        os.set_blocking(fd, False)
    pending = memoryview(request)
    channel, stderr = bytearray(), bytearray()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    ready = False
    with selectors.DefaultSelector() as selector:
        selector.register(stdin_fd, selectors.EVENT_WRITE)
        selector.register(out_fd, selectors.EVENT_READ)
        selector.register(err_fd, selectors.EVENT_READ)
        reading = 2
        while reading:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return bytes(channel), bytes(stderr), "timeout" if ready else "startup"
            for key, _ in selector.select(remaining):
                if key.fd == stdin_fd:
                    try:
                        pending = pending[os.write(stdin_fd, pending) :]
                    except BrokenPipeError:
                        pending = pending[:0]
                    if not pending:
                        selector.unregister(stdin_fd)
                        proc.stdin.close()
                    continue
                chunk = os.read(key.fd, _CHUNK)
                if not chunk:
                    selector.unregister(key.fd)
                    reading -= 1
                elif key.fd == out_fd:
                    channel += chunk
                    if not ready and channel[:1] == b"R":
                        ready = True
                        deadline = time.monotonic() + timeout_s
                    if len(channel) > channel_cap:
                        return bytes(channel), bytes(stderr), "output"
                elif len(stderr) < _STDERR_CAP:
                    stderr += chunk[: _STDERR_CAP - len(stderr)]
    return bytes(channel), bytes(stderr), None


def _read_frame(
    channel: bytes, stderr: bytes, stopped: str | None, returncode: int, limits: SandboxLimits
) -> dict[str, Any]:
    """Turn what the child sent into a frame, or raise the matching error."""
    if stopped == "timeout":
        msg = f"The program ran longer than {limits.timeout_s:g} s and was stopped."
        raise ProgramTimeoutError(msg, limit_s=limits.timeout_s)
    if stopped == "startup":
        msg = f"The sandbox process did not start within {STARTUP_TIMEOUT_S:g} s."
        raise SandboxError(msg)
    if stopped == "output":
        msg = "The sandbox process sent more data than the output limit allows."
        raise ProgramOutputError(msg)
    body = channel[1:] if channel[:1] == b"R" else channel
    try:
        frame = json.loads(body) if body else None
    except (ValueError, RecursionError):  # never trust the child's bytes
        frame = None
    if not isinstance(frame, dict):
        _raise_for_exit(returncode, stderr, limits)
        msg = f"The sandbox process sent an unreadable result (exit code {returncode})."
        raise SandboxError(msg)
    return _check_frame(frame, limits)


def _raise_for_exit(returncode: int, stderr: bytes, limits: SandboxLimits) -> None:
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        msg = f"The program used more than its CPU time ({limits.timeout_s:g} s) and was stopped."
        raise ProgramTimeoutError(msg, limit_s=limits.timeout_s)
    if b"MemoryError" in stderr:
        msg = f"The program needed more than {limits.memory_mb} MiB of memory and was stopped."
        raise ProgramMemoryError(msg, limit_mb=limits.memory_mb)
    tail = stderr.decode("utf-8", "replace").strip()[-500:]
    msg = f"The sandbox process died (exit code {returncode}) without a result: {tail or '-'}"
    raise SandboxError(msg)


def _check_frame(frame: dict[str, Any], limits: SandboxLimits) -> dict[str, Any]:
    status = frame.get("status")
    output = str(frame.get("output", ""))
    if status == "ok":
        return frame
    if status == "refused":
        line, col = frame.get("line"), frame.get("col")
        reason = str(frame.get("reason", "refused"))
        raise _refusal(reason, line, col, syntax=bool(frame.get("syntax")))
    if status == "runtime":
        exc_type, exc_message = str(frame.get("type")), str(frame.get("message", ""))
        line = frame.get("line")
        at = f" at line {line}" if line is not None else ""
        msg = f"The program raised {exc_type}{at}: {exc_message}"
        raise ProgramRuntimeError(
            msg, exc_type=exc_type, exc_message=exc_message, line=line, output=output
        )
    if status == "memory":
        detail = str(frame.get("message", ""))
        msg = f"The program ran out of memory (limit {limits.memory_mb} MiB): {detail}"
        raise ProgramMemoryError(msg, limit_mb=limits.memory_mb, output=output)
    if status == "output":
        msg = f"The program's output was refused: {frame.get('message', '')}"
        raise ProgramOutputError(msg, output=output)
    msg = f"The sandbox failed: {frame.get('message', status)}"
    raise SandboxError(msg)
