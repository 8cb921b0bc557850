"""Load a named or local model once per process, offline, on the device and precision asked.

``load_model`` is the one entry point: it resolves the name (``registry``), converts an
embedded GGUF once to a cached safetensors copy, picks device and dtype, applies quantization,
and returns a :class:`LoadedModel` that every ChatLocal / LocalLLM sharing those settings reuses.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from localchain._cache import cache_dir
from localchain.errors import (
    ConfigError,
    LocalchainError,
    ModelNotFoundError,
    UnsupportedOnDeviceError,
)
from localchain.models.registry import ModelKind, ResolvedModel, model_class, resolve_model
from localchain.models.settings import DTYPES, QuantizationName, check_device_name

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

Quantization = QuantizationName | None


class AdapterSet(Protocol):
    """What ``LoadedModel.adapters`` returns (``localchain.models.adapters.AdapterManager``)."""

    def names(self) -> list[str]:
        """Names of the attached adapters."""
        ...

    def add(self, name: str, path: str | os.PathLike[str] | None = None) -> None:
        """Attach an adapter directory under ``name``."""
        ...

    def remove(self, name: str) -> None:
        """Detach an adapter."""
        ...

    def resolve(self, name: str | None) -> str:
        """The forward-pass adapter name for a request (attaching a registered one)."""
        ...

    def merged(self, name: str) -> LoadedModel:
        """A copy of the model with one adapter merged into its weights."""
        ...


@dataclass(eq=False)
class LoadedModel:
    """A model and tokenizer in memory, with what was asked of them."""

    name: str
    model_path: Path
    """Directory of the checkpoint the weights were read from (a converted copy for GGUF)."""
    kind: ModelKind
    model: Any
    """The torch module used for forward passes (a ``PeftModel`` once adapters are attached)."""
    tokenizer: Any
    device: torch.device
    dtype: torch.dtype
    quantization: str | None
    context_length: int
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    adapter_manager_factory: ClassVar[Callable[[LoadedModel], AdapterSet] | None] = None
    """Builds ``adapters`` for a model; set to ``AdapterManager`` by ``localchain.models``, so
    this module, at the bottom of the layer, need not import the adapters module above it."""
    _manager: AdapterSet | None = field(default=None, init=False, repr=False)
    services: dict[str, Any] = field(default_factory=dict, repr=False)
    """Per-model services built by higher layers (the scheduler), kept for the model's life."""

    @property
    def adapters(self) -> AdapterSet:
        """The LoRA adapters attached to this model (add, remove, list, merge)."""
        with self.lock:
            if self._manager is None:
                factory = type(self).adapter_manager_factory
                if factory is None:  # pragma: no cover - localchain.models always sets it
                    msg = "No adapter manager is installed; import localchain.models first."
                    raise ConfigError(msg)
                self._manager = factory(self)
            return self._manager

    def with_model(self, model: Any, *, name: str) -> LoadedModel:
        """A new LoadedModel sharing this one's tokenizer and settings, serving ``model``.

        The copy gets its own lock and no adapters (used for merged copies).
        """
        return replace(self, name=name, model=model, lock=threading.RLock(), services={})

    @property
    def memory_footprint(self) -> int:
        """Bytes taken by parameters and buffers (what quantization saves shows here)."""
        from localchain.models.quantization import memory_footprint

        return memory_footprint(self.model)

    @property
    def vocab_size(self) -> int:
        """Width of the model's logits (may exceed ``len(tokenizer)``)."""
        return int(self.model.get_output_embeddings().weight.shape[0])

    @property
    def eos_token_ids(self) -> list[int]:
        """Token ids that end a generation."""
        ids: set[int] = set()
        config = getattr(self.model, "generation_config", None)
        for source in (getattr(config, "eos_token_id", None), self.tokenizer.eos_token_id):
            if isinstance(source, int):
                ids.add(source)
            elif isinstance(source, list | tuple):
                ids.update(int(i) for i in source)
        return sorted(ids)


_LOADED: dict[tuple[Any, ...], LoadedModel] = {}
_LOAD_LOCK = threading.Lock()


def resolve_device(device: str) -> torch.device:
    """Turn "auto", "cpu" or "cuda[:N]" into a torch device, checking it exists."""
    import torch

    check_device_name(device)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu":
        return torch.device("cpu")
    # "cuda" or "cuda:N" (check_device_name allows nothing else)
    if not torch.cuda.is_available():
        msg = (
            f"device={device!r} needs a CUDA GPU and a CUDA build of torch, and none is "
            "available here; use device='cpu' or 'auto'."
        )
        raise UnsupportedOnDeviceError(msg)
    dev = torch.device(device)
    if dev.index is not None and dev.index >= torch.cuda.device_count():
        msg = f"device={device!r}: only {torch.cuda.device_count()} CUDA device(s) exist."
        raise UnsupportedOnDeviceError(msg)
    return dev


def resolve_dtype(dtype: str, device: torch.device) -> torch.dtype:
    """Pick the compute dtype: "auto" means bf16 (or fp16) on GPU and float32 on CPU."""
    import torch

    if dtype not in DTYPES:
        msg = f"Unknown dtype {dtype!r}; use one of {', '.join(DTYPES)}."
        raise ConfigError(msg)
    if dtype == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    chosen: torch.dtype = getattr(torch, dtype)
    return chosen


def load_model(
    name: str | os.PathLike[str] = "smollm2-135m-instruct",
    *,
    device: str = "auto",
    dtype: str = "auto",
    quantization: Quantization = None,
) -> LoadedModel:
    """Load a named or local model, offline, once per process.

    Args:
        name: A registry name such as "smollm2-135m-instruct" or "flan-t5-base", a local
            checkpoint directory, a ``.gguf`` file, or a repo id present in the HF cache.
        device: "auto", "cpu" or "cuda[:N]".
        dtype: "auto", "float32", "bfloat16" or "float16".
        quantization: None, "int8" (bitsandbytes LLM.int8 on CUDA, weight-only int8 on CPU),
            "nf4" or "fp4" (bitsandbytes 4-bit, CUDA only).

    Returns:
        The shared :class:`LoadedModel` for these settings.

    Raises:
        ModelNotFoundError: The name is unknown or its files are not available offline.
        UnsupportedOnDeviceError: The device cannot do what was asked.
        ConfigError: A setting is invalid.
    """
    from localchain.models.quantization import check_quantization

    resolved = resolve_model(name)
    if resolved.spec is not None and os.environ.get("LOCALCHAIN_BLOCK_NAMED_MODELS") == "1":
        msg = (
            f"Loading the named model {resolved.name!r} is blocked in this test run "
            "(LOCALCHAIN_BLOCK_NAMED_MODELS=1): mark the test `@pytest.mark.slow`."
        )
        raise ConfigError(msg)
    dev = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, dev)
    check_quantization(quantization, dev)
    key = (str(resolved.path), resolved.gguf_file, str(dev), str(torch_dtype), quantization)
    with _LOAD_LOCK:
        loaded = _LOADED.get(key)
        if loaded is None:
            loaded = _load(resolved, dev, torch_dtype, quantization)
            _LOADED[key] = loaded
        return loaded


def clear_model_cache() -> None:
    """Forget every loaded model (they are freed once nothing else refers to them)."""
    with _LOAD_LOCK:
        _LOADED.clear()


def loaded_models() -> list[LoadedModel]:
    """The models loaded in this process."""
    with _LOAD_LOCK:
        return list(_LOADED.values())


def converted_gguf_dir(resolved: ResolvedModel) -> Path:
    """Return the cached safetensors copy of a GGUF model, converting it the first time.

    The conversion dequantizes the GGUF through transformers (about a minute on a small CPU);
    the copy lives under the localchain cache, keyed by the GGUF file's size and mtime.
    """
    assert resolved.gguf_file is not None  # noqa: S101 - internal invariant
    gguf = resolved.path / resolved.gguf_file
    _check_gguf_magic(gguf)
    stat = gguf.stat()
    digest = hashlib.sha256(f"{gguf}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    target = cache_dir("models") / f"{Path(resolved.gguf_file).stem}-{digest}"
    if (target / ".complete").is_file():
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    print(  # noqa: T201 - a one-time notice the user should see
        f"localchain: converting {gguf.name} to safetensors once (cached in {target})...",
        file=sys.stderr,
    )
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    try:
        tokenizer = AutoTokenizer.from_pretrained(resolved.path, gguf_file=resolved.gguf_file)
        model: Any = AutoModelForCausalLM.from_pretrained(
            resolved.path, gguf_file=resolved.gguf_file
        )
    except Exception as err:  # struct.error, ValueError, KeyError... from the GGUF reader
        msg = (
            f"Could not read the GGUF file {gguf} ({type(err).__name__}: {err}); it is "
            "truncated, corrupt or of an architecture transformers cannot convert. Download "
            "it again, or pass a checkpoint directory."
        )
        raise ModelNotFoundError(msg) from err
    # The dequantized weights are plain float32 tensors; drop the GGUF marker so they save.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.is_quantized = False
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    (tmp / ".complete").write_text(str(gguf))
    if (target / ".complete").is_file():
        # Another process converted it meanwhile and may be reading it: keep theirs.
        shutil.rmtree(tmp, ignore_errors=True)
        return target
    shutil.rmtree(target, ignore_errors=True)  # a stale, incomplete copy
    try:
        tmp.rename(target)
    except OSError:
        if not (target / ".complete").is_file():
            raise
        shutil.rmtree(tmp, ignore_errors=True)  # lost the race to another process's rename
    return target


def _load(
    resolved: ResolvedModel, device: torch.device, dtype: torch.dtype, quantization: str | None
) -> LoadedModel:
    from transformers import AutoTokenizer

    path = converted_gguf_dir(resolved) if resolved.gguf_file else resolved.path
    auto_cls = model_class(resolved.kind)
    kwargs: dict[str, Any] = {"dtype": dtype, "local_files_only": True}
    if quantization is not None and device.type == "cuda":
        from localchain.models.quantization import bitsandbytes_config

        kwargs["quantization_config"] = bitsandbytes_config(quantization, dtype)
        kwargs["device_map"] = {"": device.index or 0}
    tokenizer = _read_checkpoint_part(
        "tokenizer",
        Path(path),
        _tokenizer_files(Path(path)),
        lambda: AutoTokenizer.from_pretrained(path, local_files_only=True),
    )
    model: Any = _read_checkpoint_part(
        "weights",
        Path(path),
        _weight_files(Path(path)),
        lambda: auto_cls.from_pretrained(path, **kwargs),
    )
    _check_finite(model, Path(path))
    if "device_map" not in kwargs:
        model.to(device)
    if quantization == "int8" and device.type == "cpu":
        import torch

        from localchain.models.quantization import quantize_int8_cpu

        # bf16 activations hit torch's fast int8 kernel (fp32 ones take a slow path), and the
        # tied lm_head, the largest matmul per token, gets its own int8 copy: measured on
        # SmolLM2-135M, 513 -> 237 MiB and faster than float32 decoding.
        quantize_int8_cpu(model, skip=(), compute_dtype=torch.bfloat16)
    model.eval()
    model.requires_grad_(False)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return LoadedModel(
        name=resolved.name,
        model_path=Path(path),
        kind=resolved.kind,
        model=model,
        tokenizer=tokenizer,
        device=device,
        dtype=dtype,
        quantization=quantization,
        context_length=_context_length(model.config, tokenizer),
    )


_TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer.model",
    "spiece.model",
    "sentencepiece.bpe.model",
    "vocab.json",
    "vocab.txt",
    "merges.txt",
    "tokenizer_config.json",
)
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


def _tokenizer_files(path: Path) -> list[Path]:
    files = [path / name for name in _TOKENIZER_FILES if (path / name).is_file()]
    if not files:
        msg = (
            f"{path} has a config.json but no tokenizer files ({', '.join(_TOKENIZER_FILES[:3])}"
            "...); copy the tokenizer saved with the checkpoint (tokenizer.save_pretrained) "
            "into that directory."
        )
        raise ModelNotFoundError(msg)
    for file in files:
        if file.suffix != ".json":
            continue
        try:
            json.loads(file.read_text(encoding="utf-8"))
        except ValueError as err:  # JSONDecodeError, UnicodeDecodeError
            msg = (
                f"{file} is not valid JSON ({type(err).__name__}: {err}); the tokenizer file is "
                "truncated or corrupt. Copy, download or save the checkpoint again."
            )
            raise ModelNotFoundError(msg) from err
    return files


def _weight_files(path: Path) -> list[Path]:
    files = sorted(f for f in path.iterdir() if f.suffix in _WEIGHT_SUFFIXES and f.is_file())
    for file in files:
        if file.suffix != ".safetensors":
            continue
        from safetensors import safe_open

        try:  # reads the header only: catches truncated and garbled files by name
            with safe_open(str(file), framework="pt") as handle:
                handle.keys()
        except Exception as err:  # SafetensorError, OSError
            msg = (
                f"{file} is not a readable safetensors file ({err}); it is truncated or "
                "corrupt. Copy, download or save the checkpoint again."
            )
            raise ModelNotFoundError(msg) from err
    return files


def _read_checkpoint_part(what: str, path: Path, files: list[Path], read: Callable[[], Any]) -> Any:
    """Run a transformers loader, turning its failures into errors that name the files."""
    try:
        return read()
    except (LocalchainError, ImportError, MemoryError):
        raise  # already clear (a missing extra, bitsandbytes, out of memory)
    except Exception as err:  # tokenizers and transformers raise many types for a bad file
        names = ", ".join(f.name for f in files) or "none found"
        detail = " ".join(str(err).split())[:300]
        msg = (
            f"Could not load the {what} in {path} (files: {names}): {type(err).__name__}: "
            f"{detail}. A file is probably truncated or corrupt; copy, download or save the "
            "checkpoint again."
        )
        raise ModelNotFoundError(msg) from err


def _check_finite(model: Any, path: Path) -> None:
    """Refuse weights holding NaN or infinity: a garbled file that still parsed."""
    import torch

    for name, param in model.named_parameters():
        if not param.is_floating_point() or param.device.type == "meta":
            continue
        if not bool(torch.isfinite(param).all()):
            files = ", ".join(f.name for f in _weight_files(path)) or str(path)
            msg = (
                f"The weights in {path} ({files}) hold NaN or infinite values (first in "
                f"{name}); a file is corrupt. Copy, download or save the checkpoint again."
            )
            raise ModelNotFoundError(msg)


def _check_gguf_magic(gguf: Path) -> None:
    try:
        with gguf.open("rb") as handle:
            magic = handle.read(4)
    except OSError as err:
        msg = f"Cannot read the GGUF file {gguf}: {err}."
        raise ModelNotFoundError(msg) from err
    if magic != b"GGUF":
        got = "it is empty" if not magic else f"it starts with {magic!r}"
        msg = (
            f"{gguf} is not a GGUF file ({got}, not b'GGUF'); it is corrupt or mislabelled. "
            "Download it again, or pass a checkpoint directory."
        )
        raise ModelNotFoundError(msg)


def _context_length(config: Any, tokenizer: Any) -> int:
    for attr in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        value = getattr(config, attr, None)
        if isinstance(value, int) and value > 0:
            return value
    limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(limit, int) and 0 < limit < 1_000_000:
        return limit
    return 2048
