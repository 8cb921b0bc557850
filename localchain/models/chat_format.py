"""Chat formatting: turn chat messages into the prompt string a transformers model sees.

Decoders with a chat template get it (with the generation prompt); seq2seq models and decoders
without a template get a FLAN-style instruction. ``ChatLocal`` (through the transformers engine),
tuning and evaluation all format through :func:`format_chat`, so an adapter is trained, scored
and served on the same text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from localchain.models.registry import ModelKind


def format_chat(tokenizer: Any, kind: ModelKind, messages: Sequence[dict[str, Any]]) -> str:
    """Render ``messages`` as a prompt for a model of this kind and tokenizer.

    Args:
        tokenizer: The model's tokenizer (its ``chat_template`` is used when it has one).
        kind: "causal" or "seq2seq".
        messages: ``{"role", "content"}`` dicts, ending with the turn to answer.

    Returns:
        The prompt text; for templated decoders it already holds the special tokens.
    """
    if kind == "causal" and getattr(tokenizer, "chat_template", None):
        return str(
            tokenizer.apply_chat_template(
                list(messages), add_generation_prompt=True, tokenize=False
            )
        )
    return flan_prompt(messages)


def flan_prompt(messages: Sequence[dict[str, Any]]) -> str:
    """Render a chat as a FLAN-style instruction prompt for seq2seq models.

    A single user turn (with an optional system instruction) becomes the instruction itself;
    a longer history becomes a short transcript ending with the latest question.
    """
    system = [m["content"] for m in messages if m["role"] == "system"]
    turns = [m for m in messages if m["role"] != "system"]
    head = ("\n".join(system) + "\n\n") if system else ""
    if len(turns) == 1 and turns[0]["role"] == "user":
        return head + str(turns[0]["content"])
    lines = []
    for message in turns:
        who = {"user": "User", "assistant": "Assistant"}.get(message["role"], message["role"])
        lines.append(f"{who}: {message['content']}")
    return head + "\n".join(lines) + "\nAssistant:"


__all__ = ["flan_prompt", "format_chat"]
