"""The one decode loop: a batch of rows that decode together, one forward pass per step.

A :class:`DecodeBatch` holds the rows being generated on one :class:`LoadedModel` and their
shared state (KV cache, attention mask, positions, next-token scores). Rows **join** between
steps (their prompts are prefilled as a group and their cache is merged into the running one,
left-padded, for decoders) and **leave** as soon as they finish or are cancelled (their cache rows
are dropped). Every row carries its own settings: adapter name (the base's too), sampling
(temperature, top-p, top-k, its own seeded generator), stop strings, token budget and an optional
logits processor (a grammar). :func:`localchain.models.generation.stream_batch` runs one batch to
the end; :class:`localchain.models.scheduler.Scheduler` keeps one running and admits requests into
it as they arrive (continuous batching).

Forward passes hold ``lm.lock``: peft routes per-row adapters with hooks on the shared model, and
adapters attach and detach under the same lock, so neither can change a pass in flight. The state
is plain tensors and a ``DynamicCache`` whose rows can be padded, merged and selected, which a
later static (fixed-slot) cache can replace without changing this interface.

Encoder-decoder (seq2seq) rows join the same way: encoder states, their mask and the
cross-attention cache are right-padded to the longer input, and the decoder's self-attention
cache is left-padded with a decoder attention mask (relative position biases see the same
distances as without padding).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from localchain.errors import AdapterError, ConfigError, ContextLengthError
from localchain.models.adapters import BASE_ADAPTER
from localchain.models.kv_cache import (
    base_model,
    cache_kwarg,
    cache_of,
    first_inputs,
    merge_caches,
    mergeable,
    pad_cache_right,
    pad_id,
    pad_left,
    pad_right,
)
from localchain.models.settings import GenerationConfig

if TYPE_CHECKING:
    import torch

    from localchain.models.loading import LoadedModel

LogitsProcessor = Callable[["torch.Tensor", "torch.Tensor"], "torch.Tensor"]
"""``processor(ids, scores) -> scores``: masks or reweights next-token scores (grammars)."""


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


@dataclass(eq=False)
class Row:
    """One generation in a batch: its prompt, its settings and its progress.

    Build rows with :func:`make_row`, which checks the prompt against the window and resolves
    the adapter name.
    """

    key: int
    """The caller's index for this row; events carry it."""
    prompt_ids: list[int]
    config: GenerationConfig
    adapter: str = BASE_ADAPTER
    """Forward-pass adapter name (``"__base__"`` for the base model)."""
    processor: LogitsProcessor | None = None
    """This row's own logits processor (e.g. a one-row grammar)."""
    prefix: torch.Tensor | None = None
    """Learned prompt embeddings put before the prompt (prompt tuning), or None."""
    generator: torch.Generator | None = None
    max_new: int = 0
    ids: list[int] = field(default_factory=list)
    text: str = ""
    emitted: int = 0
    done: bool = False
    finish_reason: Literal["stop", "length"] = "length"
    error: Exception | None = None
    """Why this row failed (its own processor raised); its last event has no completion."""

    @property
    def prompt_tokens(self) -> int:
        """Tokens the prompt takes (virtual tokens not counted)."""
        return len(self.prompt_ids)

    def completion(self) -> Completion:
        """The finished (or so far) result of this row."""
        return Completion(
            text=self.text,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=len(self.ids),
            finish_reason=self.finish_reason,
            token_ids=list(self.ids),
        )


def encode_prompt(lm: LoadedModel, prompt: str, add_special_tokens: bool) -> list[int]:
    """Tokenize a prompt; an empty one starts from the BOS (or end) token, as in a batch."""
    if not isinstance(prompt, str):
        msg = f"Prompts must be strings, got {type(prompt).__name__}."
        raise ConfigError(msg)
    ids = list(lm.tokenizer(prompt, add_special_tokens=add_special_tokens)["input_ids"])
    if not ids:
        bos = lm.tokenizer.bos_token_id
        ids = [int(bos) if bos is not None else pad_id(lm)]
    return ids


def make_row(
    lm: LoadedModel,
    key: int,
    prompt: str,
    config: GenerationConfig,
    *,
    adapter: str | None = None,
    processor: LogitsProcessor | None = None,
    prefix: torch.Tensor | None = None,
    add_special_tokens: bool = True,
) -> Row:
    """Encode and check one request: its prompt fits, its adapter exists (attaching it).

    Raises:
        ContextLengthError: The prompt does not fit (and ``config.truncation == "error"``).
        AdapterError: The adapter is unknown.
        ConfigError: The prompt is not a string or the prefix has the wrong shape.
    """
    import torch

    reserved = 0 if prefix is None else int(prefix.shape[0])
    ids = fit_window(lm, encode_prompt(lm, prompt, add_special_tokens), config, key, reserved)
    if lm.kind == "causal":
        max_new = min(config.max_new_tokens, lm.context_length - len(ids) - reserved)
    else:
        max_new = config.max_new_tokens
    generator = None
    if config.temperature > 0:
        generator = torch.Generator(device=lm.device)
        generator.manual_seed(config.seed if config.seed is not None else torch.seed())
    return Row(
        key=key,
        prompt_ids=ids,
        config=config,
        adapter=lm.adapters.resolve(adapter),
        processor=processor,
        prefix=prefix,
        generator=generator,
        max_new=max(1, max_new),
    )


def fit_window(
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


class DecodeBatch:
    """Rows decoding together on one model; rows join and leave between steps.

    Every row in the batch has its next-token scores ready: :meth:`add` prefills newcomers,
    :meth:`step` picks one token per row, emits text, drops finished rows and runs one forward
    pass for the rest.
    """

    def __init__(self, lm: LoadedModel, *, logits_processor: LogitsProcessor | None = None) -> None:
        """An empty batch on ``lm``.

        Args:
            lm: The loaded model.
            logits_processor: A processor for the whole batch, called as
                ``processor(history, scores)``; with one, no rows can join after the first
                :meth:`add`, and finished rows leave only if it has ``select_rows(keep)``.
        """
        self.lm = lm
        self.rows: list[Row] = []
        self._batch_processor = logits_processor
        self._prunable = logits_processor is None or hasattr(logits_processor, "select_rows")
        self._scores: torch.Tensor | None = None
        self._cache: Any = None
        self._mask: torch.Tensor | None = None  # causal: [B, L]; seq2seq: encoder mask [B, S]
        self._last_pos: torch.Tensor | None = None  # causal: [B, 1] position of the last token
        self._history: torch.Tensor | None = None  # [B, L]: prompt (causal) or decoder ids
        self._encoder: torch.Tensor | None = None  # seq2seq: encoder states [B, S, H]
        self._dec_mask: torch.Tensor | None = None  # seq2seq: decoder mask [B, T]
        self._started = False
        self._cache_name = cache_kwarg(lm.model)
        self._keep_logits = (
            "logits_to_keep" in inspect.signature(base_model(lm.model).forward).parameters
        )

    def __len__(self) -> int:
        """Rows in the batch (finished rows kept for a processor without ``select_rows`` count)."""
        return len(self.rows)

    def can_join(self) -> bool:
        """Whether :meth:`add` may be called now (seq2seq and batch processors: only when empty)."""
        if not self.rows:
            return True
        if self._batch_processor is not None:
            return False
        if self.lm.kind == "causal":
            return mergeable(self._cache)
        return mergeable(getattr(self._cache, "self_attention_cache", None)) and mergeable(
            getattr(self._cache, "cross_attention_cache", None)
        )

    # -- joining -------------------------------------------------------------------------

    def add(self, rows: list[Row]) -> None:
        """Prefill ``rows`` as a group and merge them into the batch.

        Raises:
            ConfigError: Rows cannot join now (see :meth:`can_join`).
        """
        import torch

        if not rows:
            return
        if not self.can_join():
            msg = "Rows cannot join this batch now (seq2seq or whole-batch processor); wait."
            raise ConfigError(msg)
        if self._started and self._batch_processor is not None:
            msg = "A batch with a whole-batch logits processor takes rows only once."
            raise ConfigError(msg)
        self._started = True
        with torch.inference_mode():
            if self.lm.kind == "causal":
                self._add_causal(rows)
            else:
                self._add_seq2seq(rows)
        self.rows.extend(rows)

    def _add_causal(self, rows: list[Row]) -> None:
        import torch

        prefixes = _prefixes(rows)
        history, mask, inputs = first_inputs(self.lm, [r.prompt_ids for r in rows], prefixes)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        padded = bool((mask == 0).any())
        extra = {"logits_to_keep": 1} if self._keep_logits else {}
        out = self._forward(
            rows,
            **inputs,
            attention_mask=mask if padded else None,
            position_ids=positions,
            use_cache=True,
            **{self._cache_name: None},
            **extra,
        )
        scores = out.logits[:, -1, :].float()
        cache, last = cache_of(out), positions[:, -1:]
        if not self.rows:
            self._cache, self._mask, self._last_pos = cache, mask, last
            self._history, self._scores = history, scores
            return
        assert self._mask is not None and self._history is not None  # noqa: S101
        assert self._last_pos is not None and self._scores is not None  # noqa: S101
        width = max(self._mask.shape[1], mask.shape[1])
        merge_caches(self._cache, cache, width)
        self._mask = torch.cat([pad_left(self._mask, width, 0), pad_left(mask, width, 0)])
        hwidth = max(self._history.shape[1], history.shape[1])
        pad = pad_id(self.lm)
        self._history = torch.cat(
            [pad_left(self._history, hwidth, pad), pad_left(history, hwidth, pad)]
        )
        self._last_pos = torch.cat([self._last_pos, last])
        self._scores = torch.cat([self._scores, scores])

    def _add_seq2seq(self, rows: list[Row]) -> None:
        import torch

        lm = self.lm
        _, mask, inputs = first_inputs(
            lm, [r.prompt_ids for r in rows], _prefixes(rows), left=False
        )
        start = lm.model.config.decoder_start_token_id
        start = pad_id(lm) if start is None else int(start)
        decoder_ids = torch.full((len(rows), 1), start, dtype=torch.long, device=lm.device)
        # The first step runs the encoder through the full forward (so per-row adapters apply to
        # the encoder too); later steps reuse its output.
        out = self._forward(
            rows, **inputs, attention_mask=mask, decoder_input_ids=decoder_ids, use_cache=True
        )
        encoder, cache, scores = out.encoder_last_hidden_state, cache_of(out), out.logits[:, -1, :]
        dec_mask = torch.ones_like(decoder_ids)
        if not self.rows:
            self._encoder, self._mask, self._history = encoder, mask, decoder_ids
            self._cache, self._scores, self._dec_mask = cache, scores.float(), dec_mask
            return
        assert self._encoder is not None and self._mask is not None  # noqa: S101
        assert self._history is not None and self._dec_mask is not None  # noqa: S101
        assert self._scores is not None  # noqa: S101
        # Encoder side: pad on the right to the longer input (masked), cross-attention likewise.
        width = max(self._mask.shape[1], mask.shape[1])
        self._encoder = torch.cat([pad_right(self._encoder, width), pad_right(encoder, width)])
        self._mask = torch.cat([pad_right(self._mask, width), pad_right(mask, width)])
        _merge_right(self._cache.cross_attention_cache, cache.cross_attention_cache, width)
        # Decoder side: the newcomers have fewer decoder tokens; pad them on the left (masked).
        steps = max(self._history.shape[1], decoder_ids.shape[1])
        merge_caches(self._cache.self_attention_cache, cache.self_attention_cache, steps)
        pad = pad_id(lm)
        self._history = torch.cat(
            [pad_left(self._history, steps, pad), pad_left(decoder_ids, steps, pad)]
        )
        self._dec_mask = torch.cat(
            [pad_left(self._dec_mask, steps, 0), pad_left(dec_mask, steps, 0)]
        )
        self._scores = torch.cat([self._scores, scores.float()])

    # -- leaving -------------------------------------------------------------------------

    def remove(self, keys: set[int]) -> list[Row]:
        """Take the rows whose keys are in ``keys`` out of the batch (cancelled requests)."""
        gone = [r for r in self.rows if r.key in keys]
        if gone:
            for row in gone:
                row.done = True
            if self._prunable:
                self._select([i for i, r in enumerate(self.rows) if not r.done])
        return gone

    def _select(self, keep: list[int]) -> None:
        import torch

        if len(keep) == len(self.rows):
            return
        self.rows = [self.rows[i] for i in keep]
        if not keep:
            self._clear()
            return
        index = torch.tensor(keep, device=self.lm.device)
        with torch.inference_mode():
            self._cache.batch_select_indices(index)
            for name in ("_scores", "_mask", "_last_pos", "_history", "_encoder", "_dec_mask"):
                tensor = getattr(self, name)
                if tensor is not None:
                    setattr(self, name, tensor.index_select(0, index))
            if self.lm.kind == "causal":
                self._trim_padding()
        if self._batch_processor is not None:
            self._batch_processor.select_rows(keep)  # type: ignore[attr-defined]

    def _trim_padding(self) -> None:
        """Drop leading cache columns that are padding for every row left."""
        assert self._mask is not None  # noqa: S101
        used = self._mask.any(dim=0).nonzero()
        first = int(used[0]) if used.numel() else 0
        if first > 0 and mergeable(self._cache):
            for layer in self._cache.layers:
                layer.keys = layer.keys[:, :, first:]
                layer.values = layer.values[:, :, first:]
            self._mask = self._mask[:, first:]

    def _clear(self) -> None:
        self._cache = self._mask = self._last_pos = self._history = None
        self._encoder = self._scores = self._dec_mask = None

    # -- stepping ------------------------------------------------------------------------

    def step(self, deliver: Callable[[list[StreamEvent]], None] | None = None) -> list[StreamEvent]:
        """Choose one token per row, emit text, drop finished rows, run one forward pass.

        Args:
            deliver: Called with this step's events as soon as the tokens are chosen, before
                the forward pass that prepares the next step: a streaming client sees each
                token (a newcomer its first one) one forward pass sooner. The events are then
                not returned again.

        Returns:
            The text pieces decoded this step (keyed by ``Row.key``) not handed to
            ``deliver``; a finished row's last event has ``done=True`` and its
            :class:`Completion`.
        """
        import torch

        if not self.rows:
            return []
        assert self._scores is not None and self._history is not None  # noqa: S101
        with torch.inference_mode():
            scores = self._scores
            if self._batch_processor is not None:
                scores = self._batch_processor(self._history, scores)
            events: list[StreamEvent] = []
            for i, row in enumerate(self.rows):
                if row.processor is not None and not row.done:
                    own = torch.tensor([[*row.prompt_ids, *row.ids]], device=scores.device)
                    try:
                        scores[i : i + 1] = row.processor(own, scores[i : i + 1])
                    except Exception as err:  # this row fails; the others go on
                        row.error, row.done = err, True
                        events.append(StreamEvent(row.key, "", done=True))
            tokens = _choose_rows(scores, self.rows)
        eos = set(self.lm.eos_token_ids)
        for row, token in zip(self.rows, tokens, strict=True):
            if not row.done:
                _advance(self.lm, row, token, eos, events)
        keep = [i for i, row in enumerate(self.rows) if not row.done]
        if not keep:
            self.rows = []
            self._clear()
            return events
        if deliver is not None:
            deliver(events)
            events = []
        chosen = torch.tensor(tokens, dtype=torch.long, device=self.lm.device).view(-1, 1)
        with torch.inference_mode():
            if self._prunable and len(keep) < len(self.rows):
                chosen = chosen.index_select(0, torch.tensor(keep, device=chosen.device))
                self._select(keep)
            else:
                done = torch.tensor([r.done for r in self.rows], device=chosen.device)
                chosen.masked_fill_(done.view(-1, 1), pad_id(self.lm))
            self._decode(chosen)
        return events

    def _decode(self, chosen: torch.Tensor) -> None:
        """One forward pass over the batch with each row's chosen token."""
        import torch

        assert self._history is not None and self._mask is not None  # noqa: S101
        self._history = torch.cat([self._history, chosen], dim=-1)
        if self.lm.kind == "causal":
            assert self._last_pos is not None  # noqa: S101
            self._last_pos = self._last_pos + 1
            self._mask = torch.cat([self._mask, torch.ones_like(chosen)], dim=-1)
            padded = bool((self._mask == 0).any())
            extra = {"logits_to_keep": 1} if self._keep_logits else {}
            out = self._forward(
                self.rows,
                input_ids=chosen,
                attention_mask=self._mask if padded else None,
                position_ids=self._last_pos,
                use_cache=True,
                **{self._cache_name: self._cache},
                **extra,
            )
        else:
            assert self._dec_mask is not None  # noqa: S101
            self._dec_mask = torch.cat([self._dec_mask, torch.ones_like(chosen)], dim=-1)
            padded = bool((self._dec_mask == 0).any())
            out = self._forward(
                self.rows,
                attention_mask=self._mask,
                encoder_outputs=(self._encoder,),
                decoder_input_ids=chosen,
                decoder_attention_mask=self._dec_mask if padded else None,
                use_cache=True,
                **{self._cache_name: self._cache},
            )
        self._cache, self._scores = cache_of(out), out.logits[:, -1, :].float()

    def _forward(self, rows: list[Row], **inputs: Any) -> Any:
        """Run the model under its lock, routing each row to its adapter."""
        names = [row.adapter for row in rows]
        with self.lm.lock:
            model = self.lm.model
            if hasattr(model, "peft_config"):
                inputs["adapter_names"] = names
            elif any(name != BASE_ADAPTER for name in names):
                wanted = sorted({n for n in names if n != BASE_ADAPTER})
                msg = (
                    f"Adapter(s) {wanted} were detached from {self.lm.name!r} while rows using "
                    "them were generating; detach adapters only when no request uses them."
                )
                raise AdapterError(msg)
            return model(**inputs)


def _advance(
    lm: LoadedModel, row: Row, token: int, eos: set[int], events: list[StreamEvent]
) -> None:
    """Add ``token`` to ``row``: end it on EOS, a stop string or its budget; emit safe text."""
    stops = [s for s in row.config.stop if s]
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
        events.append(StreamEvent(row.key, piece, done=True, completion=row.completion()))
        return
    hold = max((len(s) for s in stops), default=1) - 1
    safe = _safe_length(row.text, stops, hold)
    if safe > row.emitted:
        events.append(StreamEvent(row.key, row.text[row.emitted : safe]))
        row.emitted = safe


def _choose_rows(scores: torch.Tensor, rows: list[Row]) -> list[int]:
    """One token per row: greedy rows by argmax together, sampled rows with their own settings."""
    tokens: list[int] = scores.argmax(dim=-1).tolist()
    for i, row in enumerate(rows):
        if row.generator is not None and not row.done:
            tokens[i] = int(_sample(scores[i : i + 1], row.config, row.generator)[0])
    return tokens


def _sample(
    scores: torch.Tensor, config: GenerationConfig, generator: torch.Generator
) -> torch.Tensor:
    import torch

    # Shift each row so its best score is 0 before dividing: a tiny temperature then sends the
    # others to -inf (greedy in the limit) instead of overflowing to inf and a NaN softmax.
    # Softmax, top-k and top-p are unchanged by the shift.
    top = scores.amax(-1, keepdim=True).clamp(min=torch.finfo(scores.dtype).min)
    scores = (scores - top) / config.temperature
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


def _merge_right(into: Any, other: Any, width: int) -> None:
    """Append ``other``'s cross-attention rows to ``into``, right-padding both to ``width``."""
    import torch

    for mine, theirs in zip(into.layers, other.layers, strict=True):
        for name in ("keys", "values"):
            a = pad_cache_right(getattr(mine, name), width)
            b = pad_cache_right(getattr(theirs, name), width)
            setattr(mine, name, torch.cat([a, b], dim=0))


def _prefixes(rows: list[Row]) -> list[torch.Tensor | None] | None:
    prefixes = [row.prefix for row in rows]
    return None if all(p is None for p in prefixes) else prefixes


__all__ = [
    "Completion",
    "DecodeBatch",
    "LogitsProcessor",
    "Row",
    "StreamEvent",
    "encode_prompt",
    "fit_window",
    "make_row",
    "pad_id",
]
