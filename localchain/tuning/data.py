"""Tuning data: turn checked records into token ids, and pad them into batches.

The record format itself (:class:`Example`, :func:`load_examples`, templates) lives in
:mod:`localchain.datasets`, below tuning and evaluation both; it is re-exported here so older
imports keep working.

For decoders the prompt is rendered with the tokenizer's chat template, exactly as
``ChatLocal`` renders it (:func:`localchain.models.chat_format.format_chat`), so a served
adapter sees the format it was trained on, and the labels are -100 on the prompt: the loss
counts only the completion and its end-of-turn token. For seq2seq models the prompt is the
encoder input and the completion the labels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from localchain.datasets.records import (
    Example,
    file_sha256,
    load_examples,
    parse_record,
    split_examples,
)
from localchain.datasets.templates import TEMPLATES, resolve_template
from localchain.errors import ContextLengthError

IGNORE_INDEX = -100
"""Label value the loss skips (prompt tokens and padding)."""


def encode_examples(
    examples: Sequence[Example],
    *,
    tokenizer: Any,
    kind: str,
    format_chat: Callable[[list[dict[str, str]]], str],
    max_length: int,
    reserved: int = 0,
) -> list[dict[str, list[int]]]:
    """Turn records into ``input_ids``/``labels`` (and ``attention_mask``) lists.

    Args:
        examples: Checked records.
        tokenizer: The base model's tokenizer.
        kind: "causal" or "seq2seq".
        format_chat: Renders prompt messages as the served model sees them
            (``chat_format.format_chat`` bound to the model).
        max_length: Longest record allowed, in tokens (decoder: prompt + completion).
        reserved: Positions taken by something else, e.g. prompt tuning's virtual tokens.

    Raises:
        ContextLengthError: A record does not fit; the message names its line.
    """
    eos = tokenizer.eos_token_id
    encoded = []
    for example in examples:
        prompt = format_chat(example.messages)
        if kind == "causal":
            # Same tokenization as chat generation: the template already holds the specials.
            prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
            target = tokenizer(example.completion, add_special_tokens=False)["input_ids"]
            target = [*target, eos] if eos is not None else target
            total = len(prompt_ids) + len(target)
            if total + reserved > max_length:
                _too_long(example, total, max_length - reserved)
            encoded.append(
                {
                    "input_ids": [*prompt_ids, *target],
                    "attention_mask": [1] * total,
                    "labels": [IGNORE_INDEX] * len(prompt_ids) + list(target),
                }
            )
        else:
            prompt_ids = tokenizer(prompt)["input_ids"]
            target = tokenizer(example.completion)["input_ids"]
            longest = max(len(prompt_ids) + reserved, len(target))
            if longest > max_length:
                _too_long(example, longest, max_length)
            encoded.append(
                {
                    "input_ids": list(prompt_ids),
                    "attention_mask": [1] * len(prompt_ids),
                    "labels": list(target),
                }
            )
    return encoded


def _too_long(example: Example, tokens: int, limit: int) -> None:
    msg = (
        f"{example.where}: line {example.line} is {tokens} tokens long, over the limit of "
        f"{limit} (the model's context window or max_length); shorten or drop the record."
    )
    raise ContextLengthError(msg)


class PadCollator:
    """Pad a batch of encoded records: ids with the pad id, labels with -100, mask with 0."""

    def __init__(self, pad_id: int) -> None:
        """Pad with ``pad_id`` (the tokenizer's pad token)."""
        self.pad_id = pad_id

    def __call__(self, rows: Sequence[dict[str, list[int]]]) -> dict[str, Any]:
        """Right-pad each field to the longest row and stack into tensors."""
        import torch

        batch: dict[str, Any] = {}
        for key, fill in (
            ("input_ids", self.pad_id),
            ("attention_mask", 0),
            ("labels", IGNORE_INDEX),
        ):
            width = max(len(row[key]) for row in rows)
            batch[key] = torch.tensor(
                [row[key] + [fill] * (width - len(row[key])) for row in rows], dtype=torch.long
            )
        return batch


__all__ = [
    "IGNORE_INDEX",
    "TEMPLATES",
    "Example",
    "PadCollator",
    "encode_examples",
    "file_sha256",
    "load_examples",
    "parse_record",
    "resolve_template",
    "split_examples",
]
