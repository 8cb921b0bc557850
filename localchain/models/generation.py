"""Text generation on a :class:`LoadedModel`: single, batched and streamed.

These are the one-call entry points over the one decode loop (:mod:`localchain.models.decoding`):
a batch runs as one forward pass per step with per-row adapters, stop sequences of any length end
each row as soon as they appear, streaming needs no thread, and each request owns its own state
(sampling generator, cache, constraint), so several threads can generate on the same model at
once (forward passes take turns on the model's lock). For many concurrent requests, the
:class:`~localchain.models.scheduler.Scheduler` batches them together instead.

Rows may start with learned prompt embeddings (prompt tuning's virtual tokens): the first step
then feeds ``inputs_embeds`` (the row's prefix, then its prompt's token embeddings), with the
mask and positions covering the prefix; for seq2seq models the prefix goes on the encoder side.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from localchain.errors import ConfigError
from localchain.models.decoding import (
    Completion,
    DecodeBatch,
    LogitsProcessor,
    StreamEvent,
    make_row,
)
from localchain.models.settings import GenerationConfig

if TYPE_CHECKING:
    import torch

    from localchain.models.loading import LoadedModel


def generate(
    lm: LoadedModel,
    prompts: Sequence[str],
    config: GenerationConfig | None = None,
    *,
    adapters: Sequence[str | None] | None = None,
    logits_processor: LogitsProcessor | None = None,
    add_special_tokens: bool = True,
    prefix_embeddings: Sequence[torch.Tensor | None] | None = None,
) -> list[Completion]:
    """Generate a completion for each prompt, the whole batch in one pass per step.

    Args:
        lm: The loaded model.
        prompts: Prompt strings, already formatted (chat template applied for chat use).
        config: Generation settings; defaults to greedy, 256 new tokens.
        adapters: One adapter name (or None for the base) per prompt.
        logits_processor: Called as ``processor(ids, scores)`` before each token is chosen.
        add_special_tokens: Let the tokenizer add BOS/EOS markers (off for chat-templated text).
        prefix_embeddings: One ``(virtual_tokens, hidden_size)`` tensor (or None) per prompt:
            learned prompt embeddings put before that row's prompt (prompt tuning). They take
            room in the context window like prompt tokens.

    Raises:
        ContextLengthError: A prompt does not fit the context window (and truncation="error").
        ConfigError: The adapter or prefix lists do not match the prompts.
    """
    completions: list[Completion | None] = [None] * len(prompts)
    for event in stream_batch(
        lm,
        prompts,
        config,
        adapters=adapters,
        logits_processor=logits_processor,
        add_special_tokens=add_special_tokens,
        prefix_embeddings=prefix_embeddings,
    ):
        if event.done:
            completions[event.index] = event.completion
    return [c for c in completions if c is not None]


def stream(
    lm: LoadedModel,
    prompt: str,
    config: GenerationConfig | None = None,
    *,
    adapter: str | None = None,
    logits_processor: LogitsProcessor | None = None,
    add_special_tokens: bool = True,
) -> Iterator[StreamEvent]:
    """Stream one prompt's completion as text pieces; the last event carries the Completion."""
    yield from stream_batch(
        lm,
        [prompt],
        config,
        adapters=[adapter],
        logits_processor=logits_processor,
        add_special_tokens=add_special_tokens,
    )


def stream_batch(
    lm: LoadedModel,
    prompts: Sequence[str],
    config: GenerationConfig | None = None,
    *,
    adapters: Sequence[str | None] | None = None,
    logits_processor: LogitsProcessor | None = None,
    add_special_tokens: bool = True,
    prefix_embeddings: Sequence[torch.Tensor | None] | None = None,
) -> Iterator[StreamEvent]:
    """Generate for several prompts in one batch, yielding text pieces as they are decoded.

    Takes the arguments of :func:`generate`.
    """
    config = config or GenerationConfig()
    if not prompts:
        return
    if adapters is not None and len(adapters) != len(prompts):
        msg = f"Got {len(adapters)} adapter names for {len(prompts)} prompts; give one per prompt."
        raise ConfigError(msg)
    prefixes = _check_prefixes(lm, prefix_embeddings, len(prompts))
    rows = [
        make_row(
            lm,
            i,
            prompt,
            config,
            adapter=None if adapters is None else adapters[i],
            prefix=None if prefixes is None else prefixes[i],
            add_special_tokens=add_special_tokens,
        )
        for i, prompt in enumerate(prompts)
    ]
    batch = DecodeBatch(lm, logits_processor=logits_processor)
    # A caller (LangChain's async streaming) may resume this generator on another thread
    # between events, so no ``yield`` happens inside a tensor step (inference mode is per thread).
    batch.add(rows)
    while batch.rows:
        for event in batch.step():
            row = rows[event.index]
            if row.error is not None:
                raise row.error
            yield event


def _check_prefixes(
    lm: LoadedModel, prefixes: Sequence[torch.Tensor | None] | None, batch: int
) -> list[torch.Tensor | None] | None:
    """Check one ``(n, hidden_size)`` prefix (or None) per prompt; None when no row has one."""
    if prefixes is None:
        return None
    if len(prefixes) != batch:
        msg = (
            f"Got {len(prefixes)} prefix embeddings for {batch} prompts; give one tensor (or "
            "None) per prompt."
        )
        raise ConfigError(msg)
    if all(p is None for p in prefixes):
        return None
    hidden = lm.model.get_input_embeddings().embedding_dim
    for index, prefix in enumerate(prefixes):
        if prefix is not None and (prefix.dim() != 2 or prefix.shape[-1] != hidden):
            msg = (
                f"Prefix embeddings {index} have shape {tuple(prefix.shape)}; {lm.name!r} needs "
                f"(virtual_tokens, {hidden}): was the prompt-tuning adapter trained on this base?"
            )
            raise ConfigError(msg)
    return list(prefixes)


__all__ = [
    "Completion",
    "GenerationConfig",
    "LogitsProcessor",
    "StreamEvent",
    "generate",
    "stream",
    "stream_batch",
]
