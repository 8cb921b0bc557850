"""Training records rendered exactly as the chains send them, and the files they are written to.

A task adapter learns what its chain asks: the prompt of each record is the chain's own message
list (``PALChain``'s few-shot prompt, ``TripleExtractionChain``'s two steps) turned into
``{"role", "content"}`` dicts the way ``ChatLocal`` renders them, and the completion is the reply
the chain expects. ``localchain tune`` reads the records as chat records
(:mod:`localchain.datasets.records`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage

from localchain.models.tool_calling import render_tool_messages

STRUCTURED_OUTPUT_NOTE = "Reply with only a JSON object that matches this JSON schema: "
"""What ``ChatLocal`` adds to the system message when a call carries a ``response_format``
(``with_structured_output``); a unit test pins it against ``ChatLocal`` itself."""


def render_messages(
    messages: Sequence[BaseMessage], *, response_format: Mapping[str, Any] | None = None
) -> list[dict[str, str]]:
    """The ``{"role", "content"}`` prompt ``ChatLocal`` renders for these messages.

    Args:
        messages: The messages a chain sends.
        response_format: The JSON schema of a structured-output call, which ``ChatLocal``
            states in the system message; None for a plain call.
    """
    rendered = render_tool_messages(messages)
    if response_format is None:
        return rendered
    note = STRUCTURED_OUTPUT_NOTE + json.dumps(response_format, separators=(",", ":"))
    if rendered and rendered[0]["role"] == "system":
        first = {"role": "system", "content": rendered[0]["content"] + "\n\n" + note}
        return [first, *rendered[1:]]
    return [{"role": "system", "content": note}, *rendered]


def chat_record(prompt: list[dict[str, str]], completion: str, **extra: Any) -> dict[str, Any]:
    """One chat record for ``localchain tune``: the prompt turns, then the assistant's reply.

    Args:
        prompt: Rendered prompt turns (:func:`render_messages`).
        completion: The reply to learn.
        **extra: Bookkeeping fields (template id, gold answer...) kept beside ``messages``.
    """
    return {"messages": [*prompt, {"role": "assistant", "content": completion}], **extra}


def write_jsonl(path: str | os.PathLike[str], records: Iterable[Mapping[str, Any]]) -> Path:
    """Write one JSON object per line (parents created) and return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(record, ensure_ascii=False) for record in records]
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def write_json(path: str | os.PathLike[str], data: Any) -> Path:
    """Write JSON (e.g. an evaluation set for ``localchain eval``) and return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", "utf-8")
    return target


__all__ = [
    "STRUCTURED_OUTPUT_NOTE",
    "chat_record",
    "render_messages",
    "write_json",
    "write_jsonl",
]
