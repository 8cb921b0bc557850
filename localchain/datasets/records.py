"""Example records: read and check jsonl files of prompt/completion or chat records.

Two record shapes are accepted, one JSON object per line (blank lines are skipped)::

    {"prompt": "Convert 3 km to m.", "completion": "3000 m"}
    {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}

A chat record's last message is the completion and must come from the assistant; the messages
before it are the prompt. Every problem raises an error that names the file and the line.
Tuning trains on these records and evaluation scores on them; neither owns the format.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localchain.datasets.templates import resolve_template
from localchain.errors import ConfigError

_ROLES = ("system", "user", "assistant")


@dataclass
class Example:
    """One record: the prompt as chat messages and the completion text."""

    messages: list[dict[str, str]]
    """The prompt side: system/user/assistant turns ending with a user turn."""
    completion: str
    line: int
    """1-based line of the record in its file (0 for records built in code)."""
    source: str = ""
    """The file the record came from."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def where(self) -> str:
        """``file:line`` for error messages."""
        return f"{self.source}:{self.line}" if self.source else f"record {self.line}"


def load_examples(
    path: str | os.PathLike[str], *, template: str | None = None, system: str | None = None
) -> list[Example]:
    """Read and check a jsonl file of prompt/completion or chat records.

    Args:
        path: The jsonl file.
        template: A name from ``localchain.datasets.TEMPLATES`` or a string with ``{prompt}``,
            applied to the prompt of prompt/completion records (chat records are used as they
            are).
        system: A system message put first in every prompt that has none.

    Returns:
        The records, in file order.

    Raises:
        ConfigError: The file is missing or empty, or a line is not valid JSON, lacks a field,
            or has a field of the wrong type; the message names the line.
    """
    file = Path(path).expanduser()
    if file.is_dir():
        msg = f"Data path {file} is a directory; pass a jsonl file inside it, one record per line."
        raise ConfigError(msg)
    if not file.is_file():
        msg = f"Data file {file} does not exist; pass a jsonl file with one record per line."
        raise ConfigError(msg)
    fmt = resolve_template(template)
    examples: list[Example] = []
    with file.open("rb") as handle:
        for number, data in enumerate(handle, start=1):
            where = f"{file}:{number}"
            try:
                raw = data.decode("utf-8")
            except UnicodeDecodeError as err:
                msg = (
                    f"{where}: line {number} is not valid UTF-8 (byte {err.start + 1} of the "
                    "line); save the file as UTF-8."
                )
                raise ConfigError(msg) from err
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except json.JSONDecodeError as err:
                msg = (
                    f"{where}: line {number} is not valid JSON ({err.msg} at column "
                    f"{err.colno}); write one JSON object per line."
                )
                raise ConfigError(msg) from err
            examples.append(parse_record(record, line=number, source=str(file), template=fmt))
    if not examples:
        msg = (
            f"Data file {file} is empty; add records like "
            '{"prompt": "...", "completion": "..."}, one per line.'
        )
        raise ConfigError(msg)
    if system:
        for example in examples:
            if example.messages[0]["role"] != "system":
                example.messages.insert(0, {"role": "system", "content": system})
    return examples


def parse_record(
    record: Any, *, line: int = 0, source: str = "", template: str | None = None
) -> Example:
    """Check one decoded record and turn it into an :class:`Example`.

    Raises:
        ConfigError: The record is not an object, lacks a field, or has a wrong type.
    """
    where = f"{source}:{line}" if source else f"record {line}"
    shape = 'either "prompt" and "completion" strings, or a "messages" list'
    if not isinstance(record, dict):
        msg = f"{where}: line {line} is a JSON {type(record).__name__}, not an object with {shape}."
        raise ConfigError(msg)
    if "messages" in record:
        return _chat_example(record, line, source, where)
    missing = [key for key in ("prompt", "completion") if key not in record]
    if missing:
        msg = (
            f"{where}: line {line} lacks the field(s) {', '.join(map(repr, missing))} "
            f"(has {', '.join(map(repr, record)) or 'none'}); each record needs {shape}."
        )
        raise ConfigError(msg)
    for key in ("prompt", "completion"):
        if not isinstance(record[key], str):
            msg = (
                f"{where}: line {line} field {key!r} must be a string, got "
                f"{type(record[key]).__name__} ({json.dumps(record[key])[:60]})."
            )
            raise ConfigError(msg)
    if not record["completion"].strip():
        msg = f"{where}: line {line} has an empty 'completion'; give the text to learn."
        raise ConfigError(msg)
    prompt = template.format(prompt=record["prompt"]) if template else record["prompt"]
    messages = [{"role": "user", "content": prompt}]
    if "system" in record:
        if not isinstance(record["system"], str):
            msg = f"{where}: line {line} field 'system' must be a string."
            raise ConfigError(msg)
        messages.insert(0, {"role": "system", "content": record["system"]})
    extra = {k: v for k, v in record.items() if k not in ("prompt", "completion", "system")}
    return Example(messages, record["completion"], line, source, extra)


def _chat_example(record: dict[str, Any], line: int, source: str, where: str) -> Example:
    messages = record["messages"]
    if not isinstance(messages, list) or len(messages) < 2:
        msg = (
            f"{where}: line {line} field 'messages' must be a list of at least two "
            "{'role', 'content'} objects ending with the assistant's reply."
        )
        raise ConfigError(msg)
    checked = []
    for index, message in enumerate(messages):
        if (
            not isinstance(message, dict)
            or message.get("role") not in _ROLES
            or not isinstance(message.get("content"), str)
        ):
            msg = (
                f"{where}: line {line} messages[{index}] must be an object with 'role' (one of "
                f"{', '.join(_ROLES)}) and a string 'content', got {json.dumps(message)[:80]}."
            )
            raise ConfigError(msg)
        checked.append({"role": message["role"], "content": message["content"]})
    if checked[-1]["role"] != "assistant" or not checked[-1]["content"].strip():
        msg = (
            f"{where}: line {line} must end with a non-empty assistant message (the completion "
            f"to learn); it ends with role {checked[-1]['role']!r}."
        )
        raise ConfigError(msg)
    if checked[-2]["role"] == "assistant":
        msg = f"{where}: line {line} has two assistant messages in a row at the end."
        raise ConfigError(msg)
    extra = {k: v for k, v in record.items() if k != "messages"}
    return Example(checked[:-1], checked[-1]["content"], line, source, extra)


def split_examples(
    examples: Sequence[Example], val_split: float, *, seed: int = 42
) -> tuple[list[Example], list[Example]]:
    """Shuffle with ``seed`` and hold out ``val_split`` of the records (at least one).

    Raises:
        ConfigError: There are too few records to hold any out.
    """
    if val_split <= 0:
        return list(examples), []
    if len(examples) < 2:
        msg = (
            f"Cannot hold out a validation split from {len(examples)} record(s); add data, pass "
            "a separate validation file, or set val_split to 0."
        )
        raise ConfigError(msg)
    order = list(examples)
    random.Random(seed).shuffle(order)
    n_val = min(len(order) - 1, max(1, round(len(order) * val_split)))
    return order[n_val:], order[:n_val]


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes (recorded in the adapter's metadata)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


__all__ = ["Example", "file_sha256", "load_examples", "parse_record", "split_examples"]
