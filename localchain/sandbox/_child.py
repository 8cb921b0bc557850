"""The sandbox child: runs one program in a freshly started interpreter under rlimits.

The parent starts this file as ``python -I -S -B <path>/_child.py`` in a new session, with an
empty environment and an empty temporary working directory. It is stdlib-only and self-contained:
``-I`` ignores ``PYTHONPATH`` and the script directory and ``-S`` skips site-packages, so it
registers a bare ``localchain.sandbox`` package pointing at its own directory (no package
``__init__`` runs, and nothing else of localchain is importable) and imports from there, under
the same names as in the parent, ``_policy.py`` (with the ``_allowlist.py`` tables it enforces)
and ``_results.py``.

Protocol:
    stdin: one JSON request ``{"code", "entry", "args", "kwargs", "memory_mb", "cpu_s",
    "max_output_bytes", "max_source_chars"}``, then EOF.
    fd 1 (the result channel): ``R`` when the program is about to run (the parent starts the
    wall clock then), then one JSON frame ``{"status": ..., ...}``, then the process exits.
    Statuses: ``ok`` (``value``, ``output``), ``refused`` (``reason``, ``line``, ``col``,
    ``syntax``), ``runtime`` (``type``, ``message``, ``line``), ``memory``, ``output``,
    ``internal`` (``message``).

Order of work: read the request, build the runtime (imports of the allowed modules happen
now), set the rlimits, validate the program again (the parent already did; this is the second
layer), compile the guard-rewritten tree, block further imports, run it, convert the entry
function's return value to plain data with exact type checks, write the frame and ``os._exit``
(so no finaliser or ``__del__`` runs after the program).
"""

from __future__ import annotations

import importlib
import json
import math
import os
import resource
import sys
import types
from typing import Any

MAX_REQUEST_BYTES = 8_000_000
_PACKAGE = "localchain.sandbox"
_PRELOADED = ("_strptime", "unicodedata", "heapq", "copy")
"""Imported lazily by allowed code (strptime, the parser's NFKC, Counter.most_common)."""
_DROPPED_MODULES = ("socket", "_socket", "subprocess", "ctypes", "_ctypes", "pty", "shutil")


def _load(module: str) -> Any:
    """Import ``localchain.sandbox.<module>`` from this directory, skipping the package inits."""
    if _PACKAGE not in sys.modules:
        directory = os.path.dirname(os.path.abspath(__file__))
        for name, path in (("localchain", []), (_PACKAGE, [directory])):
            package = types.ModuleType(name)
            package.__path__ = path  # the top package holds nothing; only the sandbox is reachable
            sys.modules[name] = package
    return importlib.import_module(f"{_PACKAGE}.{module}")


class _ImportBlocker:
    """A meta-path finder that refuses every import not already loaded."""

    @staticmethod
    def find_spec(fullname: str, path: Any = None, target: Any = None) -> None:
        msg = f"import of {fullname!r} is blocked in the sandbox"
        raise ImportError(msg)


def _block_imports() -> None:
    sys.meta_path.insert(0, _ImportBlocker())
    sys.path[:] = []
    sys.path_hooks.clear()
    sys.path_importer_cache.clear()
    for name in _DROPPED_MODULES:
        sys.modules.pop(name, None)


def _set_limit(which: int, soft: int, hard: int | None = None) -> None:
    hard = soft if hard is None else hard
    _, current_hard = resource.getrlimit(which)
    if current_hard != resource.RLIM_INFINITY:
        soft, hard = min(soft, current_hard), min(hard, current_hard)
    resource.setrlimit(which, (soft, hard))


def _apply_limits(memory_mb: int, cpu_s: float, highest_fd: int) -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(usage.ru_utime + usage.ru_stime) + math.ceil(cpu_s) + 1
    _set_limit(resource.RLIMIT_CPU, cpu, cpu + 1)  # SIGXCPU at the soft limit, SIGKILL after
    _set_limit(resource.RLIMIT_AS, memory_mb * 1024 * 1024)
    _set_limit(resource.RLIMIT_FSIZE, 0)  # no file writes
    _set_limit(resource.RLIMIT_CORE, 0)
    _set_limit(resource.RLIMIT_NOFILE, highest_fd + 1)  # no new files, sockets or pipes
    if hasattr(resource, "RLIMIT_NPROC"):  # does not bind for root; the language layer does
        _set_limit(resource.RLIMIT_NPROC, 0)


def _program_line(exc: BaseException, filename: str) -> int | None:
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _text(exc: BaseException, limit: int = 1000) -> str:
    try:
        text = str(exc)
    except Exception:
        text = "<unprintable message>"
    return text if len(text) <= limit else text[:limit] + "..."


def _prepare(policy: Any, request: dict[str, Any], channel_fd: int) -> tuple[Any, Any]:
    runtime = policy.Runtime(max_output_chars=int(request["max_output_bytes"]))
    for name in _PRELOADED:
        importlib.import_module(name)

    _apply_limits(int(request["memory_mb"]), float(request["cpu_s"]), channel_fd)
    tree = policy.validate(
        request["code"], entry=request["entry"], max_source_chars=int(request["max_source_chars"])
    )
    code = compile(policy.rewrite(tree), policy.PROGRAM_FILENAME, "exec", dont_inherit=True)
    _block_imports()
    return runtime, code


def _serve(raw: bytes, channel_fd: int) -> dict[str, Any]:
    request = json.loads(raw)
    policy = _load("_policy")
    results = _load("_results")
    try:
        runtime, code = _prepare(policy, request, channel_fd)
    except policy.PolicyViolation as err:
        return {
            "status": "refused",
            "reason": err.reason,
            "line": err.line,
            "col": err.col,
            "syntax": err.syntax,
        }
    except (RecursionError, MemoryError):
        return {"status": "refused", "reason": "the program is too complex to compile"}

    os.write(channel_fd, b"R")
    namespace: dict[str, Any] = {"__builtins__": runtime.builtins, "__name__": "program"}
    entry = request["entry"]
    try:
        exec(code, namespace)
        func = namespace.get(entry)
        if type(func) is not types.FunctionType:
            msg = f"{entry!r} is not a function defined by the program"
            raise TypeError(msg)
        value = func(*request.get("args", []), **request.get("kwargs", {}))
    except policy.OutputLimitExceeded as exc:
        return {"status": "output", "message": _text(exc), "output": "".join(runtime.output)}
    except MemoryError as exc:
        message = _text(exc) or "the program ran out of memory"
        return {"status": "memory", "message": message, "output": "".join(runtime.output)}
    except BaseException as exc:
        return {
            "status": "runtime",
            "type": type(exc).__name__,
            "message": _text(exc),
            "line": _program_line(exc, policy.PROGRAM_FILENAME),
            "output": "".join(runtime.output),
        }
    output = "".join(runtime.output)
    if runtime.output_exceeded:  # the program caught the limit error and went on
        message = f"the program printed more than {runtime.max_output_chars:,} characters"
        return {"status": "output", "message": message, "output": output}
    limit = int(request["max_output_bytes"])
    try:
        plain = results.to_plain(value, limit)
        size = len(json.dumps(plain))
    except results.ResultNotPlain as exc:
        return {"status": "output", "message": _text(exc), "output": output}
    if size > limit:
        message = f"the result is {size:,} bytes as JSON, over the limit of {limit:,}"
        return {"status": "output", "message": message, "output": output}
    return {"status": "ok", "value": plain, "output": output}


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def main() -> None:
    """Serve one request from stdin and exit without running any finaliser."""
    channel_fd = os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 1)  # nothing but this file writes to the channel
    with os.fdopen(0, "rb", closefd=False) as stdin:
        raw = stdin.read(MAX_REQUEST_BYTES)
    os.dup2(null, 0)
    os.close(null)
    try:
        frame = _serve(raw, channel_fd)
        data = json.dumps(frame, ensure_ascii=True).encode("ascii")
    except MemoryError:
        data = b'{"status": "memory", "message": "the sandbox ran out of memory"}'
    except BaseException as exc:
        data = json.dumps({"status": "internal", "message": _text(exc)}).encode("ascii")
    _write_all(channel_fd, data)
    os._exit(0)


if __name__ == "__main__":
    main()
