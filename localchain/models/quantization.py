"""Quantization: checking a setting, bitsandbytes configs for CUDA, and int8 weights on CPU.

Three settings besides ``None`` exist. On a CUDA GPU all three go through bitsandbytes, built
by :func:`bitsandbytes_config` and applied by ``from_pretrained``. On CPU only ``"int8"`` is
possible, and it means something else: :func:`quantize_int8_cpu` swaps every ``nn.Linear`` for
an :class:`Int8WeightOnlyLinear` that keeps int8 weights with one scale per output channel and
runs the matmul in the activations' float dtype (weight-only quantization, no int8 activations).

Per-channel symmetric int8 loses at most half a step, ``absmax / 254``, per weight, so logits
stay very close to the float model's; the weights take a quarter of their fp32 bytes.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

from localchain.errors import ConfigError, MissingDependencyError, UnsupportedOnDeviceError

if TYPE_CHECKING:
    from transformers import BitsAndBytesConfig

QUANTIZATIONS: tuple[str | None, ...] = (None, "int8", "nf4", "fp4")
"""Every accepted ``quantization`` setting; ``None`` keeps the checkpoint's float weights."""

_FOUR_BIT = ("nf4", "fp4")

# torch's CPU weight-only int8 kernel: out = x @ (w_int8 * scales[:, None]).T, with x 2-D in
# fp32/bf16/fp16, w an int8 (N, K) matrix and scales a 1-D (N,) tensor of x's dtype. It is a
# private op, so it may be missing; the dequantizing fallback then gives the same numbers.
_HAS_INT8PACK_MM = hasattr(torch, "_weight_int8pack_mm")

# Its bf16 path crashes the process (SIGSEGV, not an exception) in torch 2.13 when K is not a
# multiple of 16, so such shapes take the fallback instead. Speed in torch 2.13 on x86: the
# bf16 path is vectorized (about 2x faster than a bf16 dense matmul at batch 1); the fp32 path
# is scalar, several times slower than fp32 dense, hence ``compute_dtype=torch.bfloat16``.
_BF16_K_MULTIPLE = 16

_KERNEL_DTYPES = (torch.float32, torch.bfloat16, torch.float16)


def _has_bitsandbytes() -> bool:
    """Whether ``bitsandbytes`` can be imported (without importing it)."""
    return importlib.util.find_spec("bitsandbytes") is not None


def check_quantization(quantization: str | None, device: torch.device | str) -> None:
    """Check that a quantization setting is known and possible on a device.

    Args:
        quantization: One of :data:`QUANTIZATIONS`.
        device: Where the model will run, e.g. ``torch.device("cpu")`` or ``"cuda:0"``.

    Raises:
        ConfigError: The setting is not one of :data:`QUANTIZATIONS`.
        UnsupportedOnDeviceError: 4-bit (``"nf4"``/``"fp4"``) was asked for off CUDA.
        MissingDependencyError: A CUDA quantization was asked for and bitsandbytes is missing.
    """
    if quantization not in QUANTIZATIONS:
        valid = ", ".join(repr(q) for q in QUANTIZATIONS)
        msg = f"Unknown quantization {quantization!r}. Use one of: {valid}."
        raise ConfigError(msg)
    if quantization is None:
        return
    device_type = torch.device(device).type
    if device_type != "cuda":
        if quantization in _FOUR_BIT:
            msg = (
                f"4-bit {quantization} needs a CUDA GPU and bitsandbytes; on {device_type} "
                "use quantization='int8' or None."
            )
            raise UnsupportedOnDeviceError(msg)
        return  # "int8" off CUDA is the weight-only path of quantize_int8_cpu.
    if not _has_bitsandbytes():
        msg = (
            f"quantization={quantization!r} on CUDA needs bitsandbytes, which is not "
            "installed. Run: pip install 'localchain[gpu]'"
        )
        raise MissingDependencyError(msg)


def bitsandbytes_config(
    quantization: str, compute_dtype: torch.dtype = torch.bfloat16
) -> BitsAndBytesConfig:
    """Build the ``transformers`` bitsandbytes config for a CUDA quantization setting.

    Constructing it does not need bitsandbytes (transformers checks only when loading), so it
    can be built and inspected on CPU.

    Args:
        quantization: ``"int8"`` (LLM.int8), ``"nf4"`` or ``"fp4"`` (4-bit, double-quantized).
        compute_dtype: Dtype of the 4-bit matmuls; ignored for ``"int8"``.

    Returns:
        A config to pass as ``quantization_config`` to ``from_pretrained``.

    Raises:
        ConfigError: ``quantization`` is ``None`` or unknown.
    """
    from transformers import BitsAndBytesConfig  # Lazy: transformers is slow to import.

    if quantization == "int8":
        return BitsAndBytesConfig(load_in_8bit=True)  # type: ignore[no-untyped-call]
    if quantization in _FOUR_BIT:
        return BitsAndBytesConfig(  # type: ignore[no-untyped-call]
            load_in_4bit=True,
            bnb_4bit_quant_type=quantization,
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=compute_dtype,
        )
    valid = ", ".join(repr(q) for q in QUANTIZATIONS if q is not None)
    msg = f"No bitsandbytes config for quantization {quantization!r}. Use one of: {valid}."
    raise ConfigError(msg)


class Int8WeightOnlyLinear(nn.Module):
    """A linear layer with int8 weights and one float scale per output channel.

    ``weight`` is an int8 ``(out_features, in_features)`` buffer and ``scales`` a
    ``(out_features,)`` buffer with ``weight * scales[:, None] ~= original weight``. The name and
    int8 dtype of ``weight`` match bitsandbytes' layers, so model code that checks
    ``layer.weight.dtype != torch.int8`` (T5) leaves the activations alone.

    On CPU the forward pass calls ``torch._weight_int8pack_mm``, which dequantizes inside the
    kernel. Elsewhere, or where that kernel is missing or unsafe (bf16 with ``in_features`` not a
    multiple of 16 crashes torch 2.13), it computes ``x @ (weight * scales[:, None]).T`` in the
    activations' dtype, the same numbers with a temporary float copy of the weight.

    ``compute_dtype``, when set, casts the activations to it for the matmul and the result back
    to their dtype: ``torch.bfloat16`` takes torch's fast bf16 kernel inside an fp32 model, at
    the cost of bf16 rounding of the activations.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        bias: bool = True,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
        compute_dtype: torch.dtype | None = None,
    ) -> None:
        """Create an empty layer; use :meth:`from_linear` to quantize an existing one.

        Args:
            in_features: Size of each input sample.
            out_features: Size of each output sample.
            bias: Whether to keep an additive bias (in ``dtype``).
            dtype: Float dtype of the scales and bias.
            device: Where to allocate the buffers.
            compute_dtype: Dtype of the matmul; ``None`` uses the activations' dtype.
        """
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.use_kernel = _HAS_INT8PACK_MM
        """Whether to try torch's int8 kernel; False forces the dequantizing path."""
        self.compute_dtype = compute_dtype
        """Dtype of the matmul; ``None`` uses the activations' dtype."""
        self.weight: torch.Tensor
        self.scales: torch.Tensor
        self.register_buffer(
            "weight", torch.empty(out_features, in_features, dtype=torch.int8, device=device)
        )
        self.register_buffer("scales", torch.empty(out_features, dtype=dtype, device=device))
        if bias:
            self.bias: nn.Parameter | None = nn.Parameter(
                torch.empty(out_features, dtype=dtype, device=device), requires_grad=False
            )
        else:
            self.register_parameter("bias", None)

    @classmethod
    def from_linear(
        cls, linear: nn.Linear, *, compute_dtype: torch.dtype | None = None
    ) -> Int8WeightOnlyLinear:
        """Quantize a float linear layer: symmetric, per output channel, ``scale = absmax / 127``.

        Args:
            linear: The layer to copy; it is left unchanged.
            compute_dtype: Dtype of the matmul; ``None`` uses the activations' dtype.

        Returns:
            A new layer on the same device, with scales and bias in the weight's dtype.

        Raises:
            ConfigError: The weight is not a floating-point tensor.
        """
        weight = linear.weight.detach()
        if not weight.is_floating_point():
            msg = (
                f"Cannot int8-quantize a linear layer whose weight is {weight.dtype}; "
                "load the model in a float dtype first."
            )
            raise ConfigError(msg)
        layer = cls(
            linear.in_features,
            linear.out_features,
            bias=linear.bias is not None,
            dtype=weight.dtype,
            device=weight.device,
            compute_dtype=compute_dtype,
        )
        w = weight.float()
        scales = w.abs().amax(dim=1) / 127.0
        scales = torch.where(scales > 0, scales, torch.ones_like(scales))  # all-zero rows
        q = torch.round(w / scales[:, None]).clamp_(-127, 127).to(torch.int8)
        with torch.no_grad():
            layer.weight.copy_(q)
            layer.scales.copy_(scales.to(weight.dtype))
            if linear.bias is not None and layer.bias is not None:
                layer.bias.copy_(linear.bias.detach())
        return layer

    def dequantized_weight(self, dtype: torch.dtype | None = None) -> torch.Tensor:
        """Return ``weight * scales[:, None]`` as a float tensor (``dtype`` or the scales')."""
        dtype = dtype or self.scales.dtype
        return self.weight.to(dtype) * self.scales.to(dtype)[:, None]

    def _kernel_ok(self, x2d: torch.Tensor) -> bool:
        if not self.use_kernel or x2d.device.type != "cpu" or x2d.dtype not in _KERNEL_DTYPES:
            return False
        if x2d.shape[0] == 0 or torch.is_grad_enabled() and x2d.requires_grad:
            return False  # The kernel has no backward.
        return x2d.dtype != torch.bfloat16 or self.in_features % _BF16_K_MULTIPLE == 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Compute ``x @ W.T + b`` with ``W`` the dequantized weight; return ``x``'s dtype."""
        x2d = x.reshape(-1, self.in_features)
        if self.compute_dtype is not None:
            x2d = x2d.to(self.compute_dtype)
        if self._kernel_ok(x2d):
            out = torch._weight_int8pack_mm(
                x2d.contiguous(), self.weight, self.scales.to(x2d.dtype)
            )
            if self.bias is not None:
                out = out + self.bias.to(out.dtype)
        else:
            bias = None if self.bias is None else self.bias.to(x2d.dtype)
            out = F.linear(x2d, self.dequantized_weight(x2d.dtype), bias)
        return out.reshape(*x.shape[:-1], self.out_features).to(x.dtype)

    def extra_repr(self) -> str:
        """Describe the layer's shape in ``print(model)``."""
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}, weight=int8, scales={self.scales.dtype}, "
            f"compute_dtype={self.compute_dtype}"
        )


def _is_skipped(name: str, skip: Sequence[str]) -> bool:
    """Whether one of the ``skip`` names is a run of whole components of ``name``."""
    dotted = f".{name}."
    return any(f".{s}." in dotted for s in skip if s)


def quantize_int8_cpu(
    model: nn.Module,
    *,
    skip: Sequence[str] = ("lm_head",),
    compute_dtype: torch.dtype | None = None,
) -> int:
    """Replace the model's ``nn.Linear`` layers by :class:`Int8WeightOnlyLinear`, in place.

    Only plain ``nn.Linear`` layers are replaced, not subclasses (``nn.MultiheadAttention``
    reads its ``out_proj.weight`` directly). ``model.generate`` keeps working. Run this last,
    after loading adapters: the float weights are gone afterwards.

    The default skips ``lm_head``: most small chat models tie it to the input embedding, so
    quantizing it stores a second, int8 copy of the largest matrix (the embedding keeps its
    float weight) and breaks the tie, which makes ``tie_weights()`` or ``save_pretrained``
    afterwards wrong. Pass ``skip=()`` to quantize it anyway; the output projection is the
    biggest matmul per decoded token, so that is the faster setting when speed matters more
    than memory (see the measurements in the module's tests and report).

    Args:
        model: Any module, e.g. a ``transformers`` causal or seq2seq model in a float dtype.
        skip: Module names to leave in float. An entry matches whole dotted components of a
            module's qualified name: ``"lm_head"`` skips ``lm_head``, ``"decoder"`` everything
            under ``decoder.``, ``"SelfAttention"`` every ``...SelfAttention.q`` and ``"q"``
            every ``...SelfAttention.q`` but not ``...qkv``.
        compute_dtype: Dtype of the matmuls; ``None`` keeps the activations' dtype (exact
            dequantized results, but torch 2.13's fp32 int8 kernel is slow). For an fp32 model
            on CPU, ``torch.bfloat16`` is the fast setting.

    Returns:
        How many linear layers were replaced.

    Raises:
        ConfigError: A linear layer's weight is not floating point (already quantized).
    """
    targets = [
        (name, module)
        for name, module in model.named_modules()
        if type(module) is nn.Linear and not _is_skipped(name, skip)
    ]
    for name, linear in targets:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(
            parent, child, Int8WeightOnlyLinear.from_linear(linear, compute_dtype=compute_dtype)
        )
    return len(targets)


def memory_footprint(model: nn.Module) -> int:
    """Count the bytes held by a module's parameters and buffers, each storage once.

    Int8 buffers count one byte per element. Tied or shared tensors (an ``lm_head`` tied to the
    embedding) are counted once, deduplicated by their data pointer.

    Args:
        model: Any module.

    Returns:
        The total in bytes.
    """
    seen: dict[tuple[str, int], int] = {}
    named = [
        *model.named_parameters(remove_duplicate=False),
        *model.named_buffers(remove_duplicate=False),
    ]
    for _, tensor in named:
        if tensor.device.type == "meta" or tensor.data_ptr() == 0:
            key = ("meta", id(tensor))  # No real storage; count each tensor as if allocated.
        else:
            key = (str(tensor.device), tensor.data_ptr())
        seen[key] = max(seen.get(key, 0), tensor.numel() * tensor.element_size())
    return sum(seen.values())


def format_bytes(n: int | float) -> str:
    """Format a byte count with binary units, e.g. ``format_bytes(12_900_000) == "12.3 MiB"``.

    Args:
        n: A number of bytes.

    Returns:
        ``"512 B"`` below 1 KiB, otherwise one decimal and the largest unit that fits.
    """
    if abs(n) < 1024:
        return f"{int(n)} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if abs(value) < 1024 or unit == "TiB":
            break
    return f"{value:.1f} {unit}"


__all__ = [
    "QUANTIZATIONS",
    "Int8WeightOnlyLinear",
    "bitsandbytes_config",
    "check_quantization",
    "format_bytes",
    "memory_footprint",
    "quantize_int8_cpu",
]
