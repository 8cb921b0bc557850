"""Tensors and KV caches for the decode loop: padded inputs, and caches rows can join.

A running batch keeps one KV cache; a row joins by left-padding the shorter of the two caches
(and attention masks) to the same length and concatenating along the batch. These helpers do
that on transformers' ``DynamicCache`` (plain, non-sliding layers) and build the first
forward's inputs, ids or ``inputs_embeds`` with prompt-tuning prefixes.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from localchain.models.loading import LoadedModel


def pad_id(lm: LoadedModel) -> int:
    """The token id used for padding (the EOS token when the tokenizer has no pad token)."""
    pad = lm.tokenizer.pad_token_id
    return int(pad if pad is not None else lm.eos_token_ids[0])


def first_inputs(
    lm: LoadedModel,
    encoded: list[list[int]],
    prefixes: list[torch.Tensor | None] | None,
    *,
    left: bool = True,
) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
    """The padded prompt ids, the attention mask, and the first forward's inputs.

    Decoders pad on the left (every row ends at the same column), encoders on the right.
    Without prefixes the inputs are the ids; with them, ``inputs_embeds`` holding each row's
    prefix followed by its token embeddings, and a mask (wider than the ids) covering both.
    """
    import torch

    device, pad = lm.device, pad_id(lm)
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


def pad_left(tensor: torch.Tensor, width: int, value: int) -> torch.Tensor:
    """Left-pad a ``[rows, columns]`` tensor with ``value`` to ``width`` columns."""
    import torch

    missing = width - tensor.shape[1]
    if missing <= 0:
        return tensor
    filler = torch.full((tensor.shape[0], missing), value, dtype=tensor.dtype, device=tensor.device)
    return torch.cat([filler, tensor], dim=1)


def pad_right(tensor: torch.Tensor, width: int) -> torch.Tensor:
    """Right-pad ``[rows, columns, ...]`` with zeros to ``width`` columns (encoder side)."""
    import torch

    missing = width - tensor.shape[1]
    if missing <= 0:
        return tensor
    shape = (tensor.shape[0], missing, *tensor.shape[2:])
    return torch.cat([tensor, tensor.new_zeros(shape)], dim=1)


def pad_cache_right(tensor: torch.Tensor, width: int) -> torch.Tensor:
    """Right-pad a ``[batch, heads, positions, dim]`` cache tensor with zeros to ``width``."""
    import torch

    missing = width - tensor.shape[-2]
    if missing <= 0:
        return tensor
    shape = (*tensor.shape[:-2], missing, tensor.shape[-1])
    return torch.cat([tensor, tensor.new_zeros(shape)], dim=-2)


def mergeable(cache: Any) -> bool:
    """Whether rows can be padded and merged into ``cache`` (plain, non-sliding layers)."""
    layers = getattr(cache, "layers", None)
    if not layers:
        return False
    return all(
        not getattr(layer, "is_sliding", False) and getattr(layer, "keys", None) is not None
        for layer in layers
    )


def merge_caches(into: Any, other: Any, width: int) -> None:
    """Append ``other``'s rows to ``into``, left-padding both to ``width`` positions."""
    import torch

    for mine, theirs in zip(into.layers, other.layers, strict=True):
        for name in ("keys", "values"):
            a, b = getattr(mine, name), getattr(theirs, name)
            a = pad_cache_left(a, width)
            b = pad_cache_left(b, width)
            setattr(mine, name, torch.cat([a, b], dim=0))


def pad_cache_left(tensor: torch.Tensor, width: int) -> torch.Tensor:
    """Left-pad a ``[batch, heads, positions, dim]`` cache tensor with zeros to ``width``."""
    import torch

    missing = width - tensor.shape[-2]
    if missing <= 0:
        return tensor
    shape = (*tensor.shape[:-2], missing, tensor.shape[-1])
    return torch.cat([tensor.new_zeros(shape), tensor], dim=-2)


def cache_kwarg(model: Any) -> str:
    """The name the model's forward takes its KV cache under."""
    params = inspect.signature(base_model(model).forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def cache_of(output: Any) -> Any:
    """The KV cache a forward pass returned."""
    cache = output.get("cache") if hasattr(output, "get") else None
    return cache if cache is not None else output.past_key_values


def base_model(model: Any) -> Any:
    """The transformers model under a peft wrapper (or the model itself)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


__all__ = [
    "base_model",
    "cache_kwarg",
    "cache_of",
    "first_inputs",
    "merge_caches",
    "mergeable",
    "pad_cache_left",
    "pad_cache_right",
    "pad_id",
    "pad_left",
    "pad_right",
]
