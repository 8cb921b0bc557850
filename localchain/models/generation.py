"""Text generation on a :class:`LoadedModel`: single, batched and streamed, one decode loop.

The loop is written out (rather than calling ``model.generate``) so that a batch runs as one
forward pass per step with per-row adapters, stop sequences of any length end each row as soon as
they appear, streaming needs no thread, and each request owns its own state (sampling generator,
cache, constraint) so the same model can serve several requests.

Rows may start with learned prompt embeddings (prompt tuning's virtual tokens): the first step
then feeds ``inputs_embeds`` (the row's prefix, then its prompt's token embeddings), with the
mask and positions covering the prefix; for seq2seq models the prefix goes on the encoder side.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from localchain.errors import ConfigError, ContextLengthError

if TYPE_CHECKING:
    import torch

    from localchain.models.loading import LoadedModel

LogitsProcessor = Callable[["torch.Tensor", "torch.Tensor"], "torch.Tensor"]
BASE_ADAPTER = "__base__"
"""The adapter name peft uses for "no adapter" rows in a mixed batch."""


class GenerationConfig(BaseModel):
    """How to generate: length, sampling and stopping."""

    model_config = ConfigDict(extra="forbid")

    max_new_tokens: int = Field(256, ge=1, description="Tokens to generate after the prompt.")
    temperature: float = Field(0.0, ge=0.0, description="0 means greedy decoding.")
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="Nucleus sampling mass.")
    top_k: int = Field(0, ge=0, description="Sample from the k most likely tokens; 0 = all.")
    seed: int | None = Field(None, description="Same seed, same prompt: same output.")
    stop: list[str] = Field(default_factory=list, description="Strings that end the output.")
    truncation: Literal["error", "left"] = Field(
        "error",
        description="A prompt longer than the window: raise ContextLengthError, or drop its "
        "oldest tokens ('left').",
    )


@dataclass
class Completion:
    """One finished generation."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: Literal["stop", "length"]
    token_ids: list[int] = field(default_factory=list)


@dataclass
class StreamEvent:
    """A piece of text for one row of a streamed generation; the last has ``done=True``."""

    index: int
    text: str
    done: bool = False
    completion: Completion | None = None


@dataclass
class _Row:
    prompt_tokens: int
    ids: list[int] = field(default_factory=list)
    text: str = ""
    emitted: int = 0
    done: bool = False
    finish_reason: Literal["stop", "length"] = "length"
    max_new: int = 0


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
    import torch

    config = config or GenerationConfig()
    if not prompts:
        return
    if adapters is not None and len(adapters) != len(prompts):
        msg = f"Got {len(adapters)} adapter names for {len(prompts)} prompts; give one per prompt."
        raise ConfigError(msg)
    prefixes = _check_prefixes(lm, prefix_embeddings, len(prompts))
    reserved = [0 if p is None else int(p.shape[0]) for p in prefixes or [None] * len(prompts)]
    encoded = [_encode(lm, p, add_special_tokens) for p in prompts]
    encoded = [_fit_window(lm, ids, config, i, reserved[i]) for i, ids in enumerate(encoded)]
    rows = [
        _Row(
            prompt_tokens=len(ids),
            max_new=min(config.max_new_tokens, lm.context_length - len(ids) - extra),
        )
        if lm.kind == "causal"
        else _Row(prompt_tokens=len(ids), max_new=config.max_new_tokens)
        for ids, extra in zip(encoded, reserved, strict=True)
    ]
    forward_kwargs = _adapter_kwargs(lm, adapters, len(prompts))
    generator = None
    if config.temperature > 0:
        generator = torch.Generator(device=lm.device)
        generator.manual_seed(config.seed if config.seed is not None else torch.seed())
    eos = set(lm.eos_token_ids)
    stops = [s for s in config.stop if s]
    hold = max((len(s) for s in stops), default=1) - 1
    step_fn = _causal_steps if lm.kind == "causal" else _seq2seq_steps
    # Finished rows leave the batch (their cache rows are dropped), so a long row does not
    # pay for short ones; a custom logits processor without ``select_rows`` keeps them in.
    can_prune = logits_processor is None or hasattr(logits_processor, "select_rows")
    active = list(range(len(rows)))  # original row index of each batch position
    # Inference mode is per thread, and a caller (LangChain's async streaming) may resume this
    # generator on another thread between events: so every tensor step enters it afresh and
    # no ``yield`` happens inside it.
    steps = step_fn(lm, encoded, forward_kwargs, prefixes)
    with torch.inference_mode():
        scores, history = next(steps)
    while True:
        events: list[StreamEvent] = []
        with torch.inference_mode():
            if logits_processor is not None:
                scores = logits_processor(history, scores)
            next_ids = _choose(scores, config, generator)
        tokens = next_ids.tolist()
        for position, token in enumerate(tokens):
            index = active[position]
            row = rows[index]
            if row.done:
                continue
            if token in eos:
                row.done, row.finish_reason = True, "stop"
            else:
                row.ids.append(token)
                row.text = lm.tokenizer.decode(row.ids, skip_special_tokens=True)
                cut = _find_stop(row.text, stops, row.emitted)
                if cut is not None:
                    row.text, row.done, row.finish_reason = row.text[:cut], True, "stop"
                elif len(row.ids) >= row.max_new:
                    row.done, row.finish_reason = True, "length"
            if row.done:
                piece = row.text[row.emitted :]
                row.emitted = len(row.text)
                events.append(StreamEvent(index, piece, done=True, completion=_completion(row)))
                continue
            safe = _safe_length(row.text, stops, hold)
            if safe > row.emitted:
                piece = row.text[row.emitted : safe]
                row.emitted = safe
                events.append(StreamEvent(index, piece))
        keep = [pos for pos, index in enumerate(active) if not rows[index].done]
        if not keep:
            steps.close()
            yield from events
            return
        with torch.inference_mode():
            if can_prune and len(keep) < len(active):
                active = [active[pos] for pos in keep]
                if logits_processor is not None:
                    logits_processor.select_rows(keep)  # type: ignore[attr-defined]
                scores, history = steps.send((next_ids, keep))
            else:
                done = torch.tensor([rows[i].done for i in active], device=next_ids.device)
                next_ids.masked_fill_(done, _pad_id(lm))
                scores, history = steps.send((next_ids, None))
        yield from events


def _completion(row: _Row) -> Completion:
    return Completion(
        text=row.text,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=len(row.ids),
        finish_reason=row.finish_reason,
        token_ids=list(row.ids),
    )


def _encode(lm: LoadedModel, prompt: str, add_special_tokens: bool) -> list[int]:
    if not isinstance(prompt, str):
        msg = f"Prompts must be strings, got {type(prompt).__name__}."
        raise ConfigError(msg)
    return list(lm.tokenizer(prompt, add_special_tokens=add_special_tokens)["input_ids"])


def _fit_window(
    lm: LoadedModel, ids: list[int], config: GenerationConfig, index: int, reserved: int = 0
) -> list[int]:
    """The prompt's ids, fitted to the window less ``reserved`` positions (virtual tokens)."""
    limit = (lm.context_length - 1 if lm.kind == "causal" else lm.context_length) - reserved
    if len(ids) <= limit:
        return ids
    after = f" after {reserved} virtual tokens" if reserved else ""
    if config.truncation == "left" and limit >= 1:
        keep = (
            max(1, limit - min(config.max_new_tokens, limit // 2)) if lm.kind == "causal" else limit
        )
        return ids[-keep:]
    msg = (
        f"Prompt {index} has {len(ids)} tokens{after} but {lm.name!r} has a context window of "
        f"{lm.context_length} tokens; shorten it, or pass truncation='left' to drop the oldest "
        "tokens."
    )
    raise ContextLengthError(msg)


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


def _adapter_kwargs(
    lm: LoadedModel, adapters: Sequence[str | None] | None, batch: int
) -> dict[str, Any]:
    wanted = list(adapters) if adapters is not None else [None] * batch
    if not any(wanted) and (lm._adapters is None or not lm._adapters.names()):
        return {}
    manager = lm.adapters  # resolves (and attaches registered) names, or explains a miss
    return {"adapter_names": [manager.resolve(a) for a in wanted]}


def _pad_id(lm: LoadedModel) -> int:
    pad = lm.tokenizer.pad_token_id
    return int(pad if pad is not None else lm.eos_token_ids[0])


def _cache_kwarg(model: Any) -> str:
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    params = inspect.signature(base.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def _cache_of(output: Any) -> Any:
    cache = output.get("cache") if hasattr(output, "get") else None
    return cache if cache is not None else output.past_key_values


def _first_inputs(
    lm: LoadedModel,
    encoded: list[list[int]],
    prefixes: list[torch.Tensor | None] | None,
    *,
    left: bool,
) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
    """The padded prompt ids, the attention mask, and the first forward's inputs.

    Decoders pad on the left (every row ends at the same column), encoders on the right.
    Without prefixes the inputs are the ids; with them, ``inputs_embeds`` holding each row's
    prefix followed by its token embeddings, and a mask (wider than the ids) covering both.
    """
    import torch

    device, pad = lm.device, _pad_id(lm)
    width = max(len(ids) for ids in encoded)
    input_ids = torch.full((len(encoded), width), pad, dtype=torch.long)
    mask = torch.zeros((len(encoded), width), dtype=torch.long)
    for i, ids in enumerate(encoded):
        span = slice(width - len(ids), width) if left else slice(0, len(ids))
        input_ids[i, span] = torch.tensor(ids, dtype=torch.long)
        mask[i, span] = 1
    input_ids, mask = input_ids.to(device), mask.to(device)
    if prefixes is None:
        return input_ids, mask, {"input_ids": input_ids}
    embed = lm.model.get_input_embeddings()
    tokens = embed(input_ids)
    lengths = [len(ids) + (0 if p is None else p.shape[0]) for ids, p in zip(encoded, prefixes)]
    full = max(lengths)
    embeds = embed(torch.full((len(encoded), full), pad, dtype=torch.long, device=device))
    full_mask = torch.zeros((len(encoded), full), dtype=torch.long, device=device)
    for i, (ids, prefix) in enumerate(zip(encoded, prefixes, strict=True)):
        own = tokens[i, width - len(ids) :] if left else tokens[i, : len(ids)]
        if prefix is not None:
            own = torch.cat([prefix.to(device=device, dtype=tokens.dtype), own])
        span = slice(full - len(own), full) if left else slice(0, len(own))
        embeds[i, span] = own
        full_mask[i, span] = 1
    return input_ids, full_mask, {"inputs_embeds": embeds}


def _causal_steps(
    lm: LoadedModel,
    encoded: list[list[int]],
    forward_kwargs: dict[str, Any],
    prefixes: list[torch.Tensor | None] | None = None,
) -> Generator[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, list[int] | None], None]:
    import torch

    device = lm.device
    history, mask, inputs = _first_inputs(lm, encoded, prefixes, left=True)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    # Without padding the model's own causal mask is enough, and attention skips the mask
    # tensor entirely (a faster kernel path on the CPU).
    padded = bool((mask == 0).any())
    cache_name = _cache_kwarg(lm.model)
    extra = dict(forward_kwargs)
    if "logits_to_keep" in inspect.signature(_base(lm.model).forward).parameters:
        extra["logits_to_keep"] = 1
    cache = None
    while True:
        out = lm.model(
            **inputs,
            attention_mask=mask if padded else None,
            position_ids=positions,
            use_cache=True,
            **{cache_name: cache},
            **extra,
        )
        cache = _cache_of(out)
        chosen, keep = yield out.logits[:, -1, :].float(), history
        step_ids = chosen.view(-1, 1)
        positions = positions[:, -1:] + 1
        if keep is not None:
            rows_kept = torch.tensor(keep, device=device)
            step_ids, history, mask, positions = (
                t.index_select(0, rows_kept) for t in (step_ids, history, mask, positions)
            )
            cache.batch_select_indices(rows_kept)
            extra = _select_adapters(extra, keep)
        inputs = {"input_ids": step_ids}
        history = torch.cat([history, step_ids], dim=-1)
        mask = torch.cat([mask, torch.ones_like(step_ids)], dim=-1)


def _seq2seq_steps(
    lm: LoadedModel,
    encoded: list[list[int]],
    forward_kwargs: dict[str, Any],
    prefixes: list[torch.Tensor | None] | None = None,
) -> Generator[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, list[int] | None], None]:
    import torch

    device, pad = lm.device, _pad_id(lm)
    _, mask, inputs = _first_inputs(lm, encoded, prefixes, left=False)
    start = lm.model.config.decoder_start_token_id
    start = pad if start is None else int(start)
    decoder_ids = torch.full((len(encoded), 1), start, dtype=torch.long, device=device)
    cache_name = _cache_kwarg(lm.model)
    # The first step runs the encoder through the full forward (so per-row adapters apply to
    # the encoder too); later steps reuse its output.
    out = lm.model(
        **inputs,
        attention_mask=mask,
        decoder_input_ids=decoder_ids,
        use_cache=True,
        **forward_kwargs,
    )
    encoder_hidden = out.encoder_last_hidden_state
    history = decoder_ids
    while True:
        chosen, keep = yield out.logits[:, -1, :].float(), history
        step_ids = chosen.view(-1, 1)
        cache = _cache_of(out)
        if keep is not None:
            rows_kept = torch.tensor(keep, device=device)
            step_ids, history, mask, encoder_hidden = (
                t.index_select(0, rows_kept) for t in (step_ids, history, mask, encoder_hidden)
            )
            cache.batch_select_indices(rows_kept)
            forward_kwargs = _select_adapters(forward_kwargs, keep)
        history = torch.cat([history, step_ids], dim=-1)
        out = lm.model(
            attention_mask=mask,
            encoder_outputs=(encoder_hidden,),
            decoder_input_ids=step_ids,
            use_cache=True,
            **{cache_name: cache},
            **forward_kwargs,
        )


def _select_adapters(kwargs: dict[str, Any], keep: list[int]) -> dict[str, Any]:
    if "adapter_names" not in kwargs:
        return kwargs
    return {**kwargs, "adapter_names": [kwargs["adapter_names"][i] for i in keep]}


def _base(model: Any) -> Any:
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def _choose(
    scores: torch.Tensor, config: GenerationConfig, generator: torch.Generator | None
) -> torch.Tensor:
    import torch

    if config.temperature == 0 or generator is None:
        return scores.argmax(dim=-1)
    scores = scores / config.temperature
    if config.top_k > 0:
        kth = torch.topk(scores, min(config.top_k, scores.shape[-1])).values[..., -1:]
        scores = scores.masked_fill(scores < kth, float("-inf"))
    if config.top_p < 1.0:
        ordered, order = torch.sort(scores, descending=True)
        cumulative = ordered.softmax(-1).cumsum(-1)
        drop = cumulative - ordered.softmax(-1) > config.top_p  # keep the token that crosses p
        ordered = ordered.masked_fill(drop, float("-inf"))
        scores = torch.full_like(scores, float("-inf")).scatter(-1, order, ordered)
    probs = scores.softmax(-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


def _find_stop(text: str, stops: list[str], emitted: int) -> int | None:
    """Index where the earliest stop sequence starts in ``text``, searching only new text."""
    if not stops:
        return None
    hits = []
    for stop in stops:
        at = text.find(stop, max(0, emitted - len(stop)))
        if at >= 0:
            hits.append(at)
    return min(hits) if hits else None


def _safe_length(text: str, stops: list[str], hold: int) -> int:
    """How much of ``text`` can be emitted without splitting a possible stop sequence."""
    end = len(text)
    if text.endswith("\ufffd"):  # an incomplete multi-byte character: wait for the rest
        end -= 1
    if not stops:
        return end
    for k in range(min(hold, end), 0, -1):
        tail = text[end - k : end]
        if any(stop.startswith(tail) for stop in stops):
            return end - k
    return end
