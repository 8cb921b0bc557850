"""``read_file_tool``: read text files (or list folders) under one directory, and nothing else.

The check is made on what was opened, not on the name asked for: the path is opened first
(read-only, non-blocking, so a FIFO cannot hang the call), then the real path of the open file
descriptor (``/proc/self/fd/N`` on Linux, ``F_GETPATH`` on macOS, else ``fstat`` compared with
the resolved path) must lie under the root. A symbolic link that leads out, even one swapped in
between a check and the open, is refused. ``..`` and absolute paths outside the root are
refused before anything is opened, with a message saying how to name a file instead.

Only regular files up to ``max_file_bytes`` are read, as UTF-8 text without NUL bytes; a
long file comes back a page at a time (``start_line``), the message saying where to go on.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator

from localchain.errors import ConfigError, ToolError
from localchain.tools._builtin import (
    KNOWN_TEXT_CHARS,
    MAX_NAMES,
    BuiltinTool,
    json_safe_names,
)
from localchain.tools._words import most_shared

_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
_MAX_LISTED = 200


def _opened_path(fd: int, asked: Path) -> Path | None:
    """The real path of an open descriptor, or None when it cannot be established."""
    proc = Path(f"/proc/self/fd/{fd}")
    if proc.is_symlink():
        return Path(os.readlink(proc))
    try:
        import fcntl

        if hasattr(fcntl, "F_GETPATH"):  # macOS
            raw = fcntl.fcntl(fd, fcntl.F_GETPATH, bytes(1024))
            return Path(os.fsdecode(raw.split(b"\0", 1)[0]))
    except (ImportError, OSError):
        pass
    # Elsewhere: the resolved name must still be the very file we hold open.
    resolved = Path(os.path.realpath(asked))
    try:
        held, named = os.fstat(fd), os.stat(resolved)
    except OSError:
        return None
    return resolved if (held.st_dev, held.st_ino) == (named.st_dev, named.st_ino) else None


_ENUM_DEPTH = 3
"""Folder levels under the root whose entries a model's ``path`` may name."""


def _entries(root: Path) -> list[str]:
    """``.`` and the folders and files under ``root`` (relative, ``/``-separated; links and
    hidden names left out), up to ``_ENUM_DEPTH`` levels; [] when there are more than
    ``MAX_NAMES`` (the caller then leaves ``path`` free)."""
    found = ["."]
    pending = [(root, "")]
    while pending:
        folder, prefix = pending.pop()
        try:
            scan = list(os.scandir(folder))
        except OSError:
            continue
        for entry in scan:
            if entry.name.startswith(".") or entry.is_symlink():
                continue
            if entry.is_dir(follow_symlinks=False):
                found.append(f"{prefix}{entry.name}/")
                if prefix.count("/") + 1 < _ENUM_DEPTH:
                    pending.append((Path(entry.path), f"{prefix}{entry.name}/"))
            elif entry.is_file(follow_symlinks=False):
                found.append(f"{prefix}{entry.name}")
            if len(found) > MAX_NAMES:
                return []
    return found


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    return f"{n / 1024:.1f} kB" if n < 1024**2 else f"{n / 1024**2:.1f} MB"


class ReadFileInput(BaseModel):
    """Arguments of the read_file tool."""

    path: str = Field(
        description="A file or folder inside the allowed folder, e.g. 'notes/todo.txt'; "
        "'.' lists the folder itself."
    )
    start_line: int = Field(
        default=1, ge=1, description="First line to read (to read on in a long file)."
    )


class ReadFileTool(BuiltinTool):
    """Read a UTF-8 text file under ``root``, or list a folder there.

    Args:
        root: The only directory the tool may read (resolved once, when the tool is made).
        max_chars: The most characters returned per call (a page).
        max_file_bytes: Larger files are refused.
    """

    name: str = "read_file"
    description: str = (
        "Read a text file from the documents folder, or list a folder ('.' lists the top). "
        "Paths are relative to that folder, e.g. 'notes/todo.txt'."
    )
    args_schema: type[BaseModel] = ReadFileInput
    root: Path
    """The directory files are read from (a real path)."""
    max_chars: int = Field(default=8000, ge=100)
    max_file_bytes: int = Field(default=5_000_000, ge=1)

    @field_validator("root", mode="before")
    @classmethod
    def _resolve_root(cls, value: Any) -> Path:
        resolved = Path(os.path.realpath(Path(value).expanduser()))
        if not resolved.is_dir():
            msg = f"The read_file tool needs an existing directory as root, got {str(value)!r}."
            raise ConfigError(msg)
        return resolved

    def call_schema_extras(self) -> dict[str, dict[str, Any]]:
        """``path`` names what is under the root now (``.``, folders with a trailing ``/``,
        files; links and hidden entries left out), as an ``enum``, when there are at most
        ``MAX_NAMES`` entries within ``_ENUM_DEPTH`` levels."""
        names = json_safe_names(_entries(self.root), limit=MAX_NAMES)
        return {"path": {"enum": names}} if names else {}

    def narrow_extras(
        self, extras: dict[str, dict[str, Any]], focus: str
    ) -> dict[str, dict[str, Any]]:
        """``path`` offers only the entries whose name and text share the most words with
        ``focus`` (all, where none does)."""
        if "path" not in extras:
            return extras
        names = most_shared(extras["path"]["enum"], focus, self._texts())
        return {**extras, "path": {**extras["path"], "enum": names}}

    def _texts(self) -> dict[str, str]:
        """Each entry's name (words split) and, for a file, its text; up to
        ``KNOWN_TEXT_CHARS`` in all."""
        texts: dict[str, str] = {}
        size = 0
        for name in _entries(self.root):
            text = name.replace("/", " ").replace("_", " ")
            if not name.endswith("/") and name != ".":
                try:  # opened as a call opens it: nothing outside the root is read
                    fd, _ = self._open(name)
                except ToolError:
                    continue
                try:
                    data = os.read(fd, max(0, min(self.max_file_bytes, KNOWN_TEXT_CHARS - size)))
                except OSError:
                    data = b""
                finally:
                    os.close(fd)
                text += "\n" + data.decode("utf-8", errors="ignore")
            texts[name] = text
            size += len(text)
            if size >= KNOWN_TEXT_CHARS:
                break
        return texts

    def known_text(self, request: str) -> str | None:
        """The names and text of the files under the root (those ``path`` may name), up to
        ``KNOWN_TEXT_CHARS`` in all."""
        return "\n".join(self._texts().values())

    def _target(self, path: str) -> Path:
        text = path.strip()
        if not text or "\0" in text:
            msg = "The path is empty or invalid; give a path such as 'notes/todo.txt' or '.'."
            raise ToolError(msg)
        asked = Path(text)
        if ".." in asked.parts:
            msg = (
                f"{text!r} uses '..'; only files inside the folder can be read. Give a path "
                "relative to it, e.g. 'notes/todo.txt' (list it with '.')."
            )
            raise ToolError(msg)
        if asked.is_absolute():
            if not asked.is_relative_to(self.root):
                msg = (
                    f"{text!r} is outside the folder; give a path relative to it, e.g. "
                    "'notes/todo.txt' (list it with '.')."
                )
                raise ToolError(msg)
            return asked
        return self.root / asked

    def _open(self, path: str) -> tuple[int, Path]:
        target = self._target(path)
        try:
            fd = os.open(target, _FLAGS)
        except FileNotFoundError:
            msg = (
                f"No file or folder {path.strip()!r}. List the folder with path '.' to see "
                "what is there."
            )
            raise ToolError(msg) from None
        except OSError as err:
            msg = f"Cannot open {path.strip()!r}: {err.strerror or err}."
            raise ToolError(msg) from None
        real = _opened_path(fd, target)
        if real is None or not real.is_relative_to(self.root):
            os.close(fd)
            msg = (
                f"{path.strip()!r} leads outside the folder (through a symbolic link); only "
                "files inside it can be read."
            )
            raise ToolError(msg)
        return fd, real

    def _listing(self, fd: int, real: Path) -> str:
        entries = []
        with os.scandir(fd) as scan:
            for entry in scan:
                try:
                    if entry.is_symlink():
                        entries.append((1, f"{entry.name} (link)"))
                    elif entry.is_dir(follow_symlinks=False):
                        entries.append((0, f"{entry.name}/"))
                    else:
                        size = entry.stat(follow_symlinks=False).st_size
                        entries.append((1, f"{entry.name} ({_size(size)})"))
                except OSError:
                    continue
        entries.sort()
        where = "." if real == self.root else str(real.relative_to(self.root))
        lines = [name for _, name in entries[:_MAX_LISTED]]
        if len(entries) > _MAX_LISTED:
            lines.append(f"(and {len(entries) - _MAX_LISTED} more)")
        return f"Folder {where}:\n" + ("\n".join(lines) or "(empty)")

    def _read(self, fd: int, info: os.stat_result, path: str, start_line: int) -> str:
        if info.st_size > self.max_file_bytes:
            msg = (
                f"{path!r} is {_size(info.st_size)}, more than the {_size(self.max_file_bytes)} "
                "this tool reads."
            )
            raise ToolError(msg)
        chunks, total = [], 0
        while total <= self.max_file_bytes:  # the file may grow while it is read
            chunk = os.read(fd, min(1 << 20, self.max_file_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        data = b"".join(chunks)
        if len(data) > self.max_file_bytes:
            msg = f"{path!r} is more than the {_size(self.max_file_bytes)} this tool reads."
            raise ToolError(msg)
        try:
            if b"\0" in data:
                encoding = "utf-8"  # a NUL byte is binary, though valid UTF-8
                raise UnicodeDecodeError(encoding, data, 0, 1, "NUL byte")
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            msg = f"{path!r} is a binary file (or not UTF-8 text); only text files can be read."
            raise ToolError(msg) from None
        return self._page(text, path, start_line)

    def _page(self, text: str, path: str, start_line: int) -> str:
        lines = text.splitlines(keepends=True)
        if not lines:
            return f"({path} is empty)"
        if start_line > len(lines):
            msg = f"{path!r} has only {len(lines)} lines; start_line must be at most that."
            raise ToolError(msg)
        page: list[str] = []
        size, end = 0, start_line - 1
        for line in lines[start_line - 1 :]:
            if page and size + len(line) > self.max_chars:
                break
            page.append(line[: self.max_chars])
            size += len(line)
            end += 1
        body = "".join(page)
        if start_line == 1 and end == len(lines) and size <= self.max_chars:
            return body
        note = f"[lines {start_line}-{end} of {len(lines)}"
        note += "; the last line was cut" if size > self.max_chars else ""
        if end < len(lines):
            note += f"; call read_file with start_line={end + 1} to read on"
        return f"{body.rstrip()}\n{note}]"

    def _run(self, path: str, start_line: int = 1, **_: Any) -> str:
        fd, real = self._open(path)
        try:
            info = os.fstat(fd)
            if stat.S_ISDIR(info.st_mode):
                return self._listing(fd, real)
            if not stat.S_ISREG(info.st_mode):
                msg = f"{path.strip()!r} is not a regular file (a device, socket or pipe)."
                raise ToolError(msg)
            return self._read(fd, info, path.strip(), start_line)
        finally:
            os.close(fd)


def read_file_tool(
    root: str | Path,
    *,
    name: str = "read_file",
    description: str | None = None,
    max_chars: int = 8000,
    max_file_bytes: int = 5_000_000,
) -> ReadFileTool:
    """A tool that reads text files, and lists folders, under ``root`` only.

    Example:
        .. code-block:: python

            read = read_file_tool("docs/")
            read.invoke({"path": "."})            # 'Folder .:\\nguide.md (1.2 kB)'
            read.invoke({"path": "guide.md"})     # the text
            read.invoke({"path": "../secret"})    # refused

    Args:
        root: The directory the tool may read; it is resolved now (symbolic links included).
        name: The tool's name, as the model calls it.
        description: What the folder holds, for the model; a generic one by default.
        max_chars: The most characters returned per call; longer files are paged.
        max_file_bytes: Larger files are refused.

    Raises:
        ConfigError: ``root`` is not an existing directory.
    """
    if not Path(root).expanduser().is_dir():  # here too: a validator's error is wrapped
        msg = f"read_file_tool needs an existing directory, got {str(root)!r}."
        raise ConfigError(msg)
    options: dict[str, Any] = {"max_chars": max_chars, "max_file_bytes": max_file_bytes}
    if description is not None:
        options["description"] = description
    return ReadFileTool(root=Path(root), name=name, **options)


__all__ = ["ReadFileInput", "ReadFileTool", "read_file_tool"]
