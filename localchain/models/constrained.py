"""Grammar-constrained decoding: JSON schemas compiled with xgrammar, applied as a logits processor.

``compile_json_schema`` turns a JSON schema (or a pydantic model) into an xgrammar
``CompiledGrammar`` for one tokenizer, caching both the per-tokenizer compiler and the compiled
grammars. ``GrammarLogitsProcessor`` masks next-token scores so each constrained batch row can
only emit text that matches its grammar, then the stop token. It works as a
``transformers`` logits processor in ``model.generate(logits_processor=[...])`` and in a
hand-written decode loop that calls it with ``(all ids so far, next-token scores)``.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import torch
from pydantic import BaseModel
from transformers import LogitsProcessor

from localchain.errors import ConfigError, LocalchainError, MissingDependencyError

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase
    from xgrammar import CompiledGrammar, GrammarCompiler, GrammarMatcher

# Compiled grammars are small (KBs) but compiling one takes milliseconds to seconds, so keep a
# bounded LRU of them; compilers hold the decoded vocabulary, one per tokenizer.
_MAX_GRAMMARS = 256
_MAX_COMPILERS = 8
_lock = threading.Lock()
_compilers: OrderedDict[tuple[Any, ...], GrammarCompiler] = OrderedDict()
_grammars: OrderedDict[tuple[Any, ...], CompiledGrammar] = OrderedDict()


def _xgr() -> Any:
    """Import xgrammar on first use, with an error that says how to get it."""
    try:
        import xgrammar
    except ImportError as err:
        msg = (
            "Constrained decoding needs the 'xgrammar' package, which is not installed. "
            "Install it with `pip install 'xgrammar>=0.1.20,<0.3'`."
        )
        raise MissingDependencyError(msg) from err
    return xgrammar


def json_schema_of(schema: dict[str, Any] | type[BaseModel]) -> dict[str, Any]:
    """Return the JSON schema for a schema dict or a pydantic model class.

    Args:
        schema: A JSON schema dict (returned as a deep copy) or a pydantic ``BaseModel``
            subclass (its ``model_json_schema()``).

    Raises:
        ConfigError: ``schema`` is neither a dict nor a pydantic model class.
    """
    if isinstance(schema, dict):
        # A JSON round trip both deep-copies and proves the schema is serialisable.
        try:
            copied: dict[str, Any] = json.loads(json.dumps(schema))
            return copied
        except (TypeError, ValueError) as err:
            msg = f"The JSON schema is not JSON-serialisable: {err}. Pass plain dicts/lists/str."
            raise ConfigError(msg) from err
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema.model_json_schema()
    msg = (
        f"Expected a JSON schema dict or a pydantic BaseModel subclass, got {schema!r} "
        f"({type(schema).__name__}). Pass the class (e.g. `MyModel`) or a dict such as "
        "`MyModel.model_json_schema()`."
    )
    raise ConfigError(msg)


def _tokenizer_key(tokenizer: PreTrainedTokenizerBase, vocab_size: int | None) -> tuple[Any, ...]:
    # name_or_path identifies a tokenizer loaded from disk or the hub; an in-memory one has
    # none, so fall back to the object's identity.
    name = getattr(tokenizer, "name_or_path", "") or f"id:{id(tokenizer)}"
    eos = getattr(tokenizer, "eos_token_id", None)
    return (type(tokenizer).__name__, str(name), len(tokenizer), eos, vocab_size)


def control_token_ids(tokenizer: PreTrainedTokenizerBase) -> set[int]:
    """The ids of the tokenizer's special (control) tokens: ``<|im_start|>``, ``<pad>``, ...

    Their vocabulary entry is a marker, not text, and decoding skips them.
    """
    ids = {int(i) for i in getattr(tokenizer, "all_special_ids", []) or []}
    added = getattr(tokenizer, "added_tokens_decoder", None) or {}
    ids.update(int(i) for i, token in added.items() if getattr(token, "special", False))
    return ids


def _tokenizer_info(xgr: Any, tokenizer: PreTrainedTokenizerBase, vocab_size: int | None) -> Any:
    """xgrammar's tokenizer info, with every control token but the stop token marked special.

    xgrammar reads a fast tokenizer's vocabulary as text, so a control token such as SmolLM2's
    ``<|im_start|>`` counts as the 12 characters of its name: valid inside any JSON string.
    A model that wants to end its turn inside a string then writes ``<|im_start|>user...`` there
    until the token limit (decoding drops the markers). xgrammar never allows a token whose
    vocabulary entry is empty (it takes it for a control token), so those entries are blanked;
    the stop token stays, allowed where the grammar may end.
    """
    info = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab_size)
    from transformers import PreTrainedTokenizerFast

    if not isinstance(tokenizer, PreTrainedTokenizerFast):
        return info  # xgrammar decodes other tokenizers' vocabularies itself
    control = control_token_ids(tokenizer) - set(info.stop_token_ids)
    if not control:
        return info
    size = info.vocab_size
    encoded = [""] * size
    for token, index in tokenizer.get_vocab().items():
        if index < size and index not in control:
            encoded[index] = token
    return xgr.TokenizerInfo(
        encoded,
        vocab_type=info.vocab_type,
        vocab_size=size,
        stop_token_ids=info.stop_token_ids,
        add_prefix_space=info.add_prefix_space,
    )


def _compiler_for(
    tokenizer: PreTrainedTokenizerBase, vocab_size: int | None
) -> tuple[tuple[Any, ...], GrammarCompiler]:
    xgr = _xgr()
    key = _tokenizer_key(tokenizer, vocab_size)
    with _lock:
        compiler = _compilers.get(key)
        if compiler is not None:
            _compilers.move_to_end(key)
            return key, compiler
    try:
        info = _tokenizer_info(xgr, tokenizer, vocab_size)
    except ValueError as err:
        msg = (
            f"xgrammar cannot read the tokenizer {type(tokenizer).__name__} "
            f"({getattr(tokenizer, 'name_or_path', '')!r}): {err}. Use a Hugging Face fast "
            "tokenizer with an eos_token set."
        )
        raise ConfigError(msg) from err
    compiler = xgr.GrammarCompiler(info, cache_enabled=False)
    with _lock:
        compiler = _compilers.setdefault(key, compiler)
        while len(_compilers) > _MAX_COMPILERS:
            _compilers.popitem(last=False)
    return key, compiler


def compile_json_schema(
    tokenizer: PreTrainedTokenizerBase,
    schema: dict[str, Any] | type[BaseModel],
    *,
    vocab_size: int | None = None,
    any_whitespace: bool = False,
) -> CompiledGrammar:
    """Compile a JSON schema into a grammar for ``tokenizer``, cached.

    The cache key is the tokenizer (its ``name_or_path``, length and eos id, or its identity
    when it has no path), ``vocab_size``, ``any_whitespace`` and the schema's JSON text. Key
    order in the schema is significant, because the property order shapes the output.

    Args:
        tokenizer: The Hugging Face tokenizer of the model that will be constrained.
        schema: A JSON schema dict or a pydantic ``BaseModel`` subclass.
        vocab_size: The width of the model's logits (``model.config.vocab_size``), which can
            exceed ``len(tokenizer)`` when the embedding matrix is padded. Defaults to the
            tokenizer's own size.
        any_whitespace: Allow free whitespace between JSON tokens. Off by default: small
            models otherwise tend to emit runs of spaces or newlines that never end.

    Returns:
        The compiled grammar, the same object for the same tokenizer and schema.

    Raises:
        ConfigError: The schema is not a dict or pydantic model, or xgrammar rejects it.
        MissingDependencyError: xgrammar is not installed.
    """
    schema_dict = json_schema_of(schema)
    schema_text = json.dumps(schema_dict, ensure_ascii=False, separators=(",", ":"))
    tok_key, compiler = _compiler_for(tokenizer, vocab_size)
    key = (tok_key, any_whitespace, schema_text)
    with _lock:
        grammar = _grammars.get(key)
        if grammar is not None:
            _grammars.move_to_end(key)
            return grammar
    try:
        grammar = compiler.compile_json_schema(
            schema_text, any_whitespace=any_whitespace, strict_mode=True
        )
    except (RuntimeError, ValueError) as err:
        msg = f"xgrammar could not compile the JSON schema {schema_text[:300]}: {err}"
        raise ConfigError(msg) from err
    with _lock:
        grammar = _grammars.setdefault(key, grammar)
        while len(_grammars) > _MAX_GRAMMARS:
            _grammars.popitem(last=False)
    return grammar


class GrammarLogitsProcessor(LogitsProcessor):
    """Mask next-token scores so each constrained batch row follows its grammar.

    One grammar per batch row; ``None`` leaves that row unconstrained. The first call only
    masks. Each later call first feeds every constrained row's matcher the tokens appended
    since the previous call (normally one), then masks. Once a row's grammar is complete only
    its stop token (the tokenizer's eos) is allowed, and after the stop token is accepted the
    row is terminated: everything but the stop token stays masked, so the row ends.

    Use one instance per generation, or call ``reset()`` between generations. Batches that
    ``generate`` expands (``num_return_sequences``) are handled by repeating each grammar;
    beam search, which reorders rows, is not supported.

    Example:
        ```python
        grammar = compile_json_schema(tokenizer, Answer, vocab_size=model.config.vocab_size)
        processor = GrammarLogitsProcessor([grammar])
        out = model.generate(**inputs, logits_processor=[processor], max_new_tokens=64)
        ```
    """

    def __init__(self, grammars: list[CompiledGrammar | None]) -> None:
        """Create matchers for each row.

        Args:
            grammars: One compiled grammar per batch row; ``None`` for an unconstrained row.

        Raises:
            ConfigError: ``grammars`` is empty.
        """
        if not grammars:
            msg = "GrammarLogitsProcessor needs one grammar (or None) per batch row, got []."
            raise ConfigError(msg)
        self._grammars = list(grammars)
        self._matchers: list[GrammarMatcher | None] = []
        self._bitmask: torch.Tensor | None = None
        self._seen_len: int | None = None
        self._init_matchers(self._grammars)

    def _init_matchers(self, grammars: list[CompiledGrammar | None]) -> None:
        xgr = _xgr()
        self._matchers = [None if g is None else xgr.GrammarMatcher(g) for g in grammars]
        sizes = [g.tokenizer_info.vocab_size for g in grammars if g is not None]
        self._vocab_size = max(sizes) if sizes else 0
        self._bitmask = (
            xgr.allocate_token_bitmask(len(grammars), self._vocab_size) if sizes else None
        )
        self._seen_len = None

    def reset(self) -> None:
        """Return every row to the start of its grammar, for a new generation."""
        self._init_matchers(self._grammars)

    def select_rows(self, keep: list[int]) -> None:
        """Keep only the rows at positions ``keep`` (finished rows leave the batch).

        A decode loop that drops finished rows from its batch calls this so each remaining
        row keeps its own matcher state.
        """
        self._matchers = [self._matchers[i] for i in keep]
        self._grammars = [self._grammars[i] for i in keep]
        if self._bitmask is not None:
            self._bitmask = _xgr().allocate_token_bitmask(max(1, len(keep)), self._vocab_size)

    def is_terminated(self, row: int) -> bool:
        """Whether ``row`` has finished its grammar and accepted the stop token.

        Unconstrained rows are never terminated by the processor. ``generate`` stops calling
        processors once every row has sampled a stop token, so after a generation whose last
        step was that stop token this can still be False; check for the stop token instead.
        """
        matcher = self._matchers[row]
        return matcher is not None and matcher.is_terminated()

    def _expand_to(self, batch_size: int) -> None:
        # generate() repeats each prompt row k times (num_return_sequences); follow suit.
        n = len(self._grammars)
        if batch_size == len(self._matchers):
            return
        if self._seen_len is not None or batch_size % n:
            msg = (
                f"GrammarLogitsProcessor was built for {len(self._matchers)} rows but got a batch "
                f"of {batch_size}. Pass one grammar (or None) per row, and a fresh processor "
                "(or reset()) for each generation."
            )
            raise ConfigError(msg)
        k = batch_size // n
        self._grammars = [g for g in self._grammars for _ in range(k)]
        self._init_matchers(self._grammars)

    def _advance(self, input_ids: torch.LongTensor) -> None:
        cur_len = input_ids.shape[-1]
        if self._seen_len is not None:
            # Normally one token per call; more after speculative steps. A caller that passes
            # only the newest token (length 1 every time) still advances by one.
            n_new = cur_len - self._seen_len if cur_len > self._seen_len else 1
            new_tokens = input_ids[:, -n_new:].tolist()
            for row, matcher in enumerate(self._matchers):
                if matcher is None:
                    continue
                for token in new_tokens[row]:
                    if matcher.is_terminated():
                        break  # generate() pads finished rows; nothing more to match.
                    if not matcher.accept_token(int(token)):
                        msg = (
                            f"Row {row}: token {int(token)} does not fit the grammar. A sampler "
                            "or another logits processor picked a masked token; apply "
                            "GrammarLogitsProcessor last and sample from its scores."
                        )
                        raise LocalchainError(msg)
        self._seen_len = cur_len

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        """Advance the matchers with the newest tokens, then mask ``scores`` in place.

        Args:
            input_ids: ``(batch, seq_len)`` ids so far (prompt plus generated tokens).
            scores: ``(batch, vocab)`` next-token logits.

        Returns:
            ``scores``, with tokens outside each constrained row's grammar set to ``-inf``.
        """
        if self._bitmask is None:
            return scores  # every row unconstrained
        self._expand_to(input_ids.shape[0])
        self._advance(input_ids)
        xgr = _xgr()

        active: list[int] = []
        for row, matcher in enumerate(self._matchers):
            if matcher is None:
                continue
            if matcher.is_terminated():
                stop_ids = matcher.stop_token_ids
                keep = scores[row, stop_ids].clone()
                scores[row].fill_(float("-inf"))
                scores[row, stop_ids] = keep
                continue
            matcher.fill_next_token_bitmask(self._bitmask, row)
            active.append(row)
        if not active:
            return scores

        if scores.device.type == "cpu":
            target = scores if scores.dtype in _CPU_DTYPES else scores.float()
            xgr.apply_token_bitmask_inplace(
                target, self._bitmask, vocab_size=self._vocab_size, indices=active, backend="cpu"
            )
            if target is not scores:
                scores.copy_(target)
        else:
            # The pure-torch kernel runs on any device and needs no triton.
            xgr.apply_token_bitmask_inplace(
                scores,
                self._bitmask.to(scores.device, non_blocking=True),
                vocab_size=self._vocab_size,
                indices=active,
                backend="torch_native",
            )
        if scores.shape[-1] > self._vocab_size:
            # Padded logits past the grammar's vocabulary are never valid tokens.
            scores[active, self._vocab_size :] = float("-inf")
        return scores


_CPU_DTYPES = (torch.float32, torch.bfloat16, torch.float16)

__all__ = ["GrammarLogitsProcessor", "compile_json_schema", "json_schema_of"]
