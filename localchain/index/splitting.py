"""Token-aware text splitting for the embedding model, built on langchain-text-splitters.

Chunks are measured in the embedding model's own tokens (the packaged all-MiniLM-L6-v2
WordPiece tokenizer by default), so no chunk is silently truncated when it is embedded. Each
chunk keeps its document's metadata and adds ``chunk`` (0-based index within its document) and
``start_index`` (character offset in the document).
"""

from __future__ import annotations

import copy
import functools
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.documents import Document
from langchain_text_splitters import Language, RecursiveCharacterTextSplitter

from localchain.errors import ConfigError
from localchain.models.embeddings import DEFAULT_EMBEDDING_MODEL, resolve_embedding_model

if TYPE_CHECKING:
    from tokenizers import Tokenizer

DEFAULT_CHUNK_SIZE = 200
"""Tokens per chunk; all-MiniLM-L6-v2 reads 256 tokens, two of them [CLS] and [SEP]."""
DEFAULT_CHUNK_OVERLAP = 30

_SPECIAL_TOKENS = 2  # [CLS] and [SEP], added by the model around every chunk


@functools.lru_cache(maxsize=8)
def _load_tokenizer(model_dir: str) -> tuple[Tokenizer, int]:
    """Read a model directory's fast tokenizer (tokenizer.json) and its max sequence length."""
    from tokenizers import Tokenizer  # the Rust tokenizer: light, no transformers import

    path = Path(model_dir)
    if not (path / "tokenizer.json").is_file():
        msg = (
            f"{model_dir!r} holds no tokenizer.json, so chunks cannot be measured in its tokens; "
            "pass a model directory with a fast tokenizer, or length_function=... instead."
        )
        raise ConfigError(msg)
    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    tokenizer.no_padding()  # tokenizer.json ships padding and truncation to 128 switched on
    tokenizer.no_truncation()
    max_length = 512
    config = path / "sentence_bert_config.json"
    if config.is_file():
        max_length = int(json.loads(config.read_text()).get("max_seq_length", max_length))
    return tokenizer, max_length


def token_counter(
    model: str | os.PathLike[str] = DEFAULT_EMBEDDING_MODEL,
) -> tuple[Callable[[str], int], int]:
    """Return a function counting an embedding model's tokens in a text, and its token budget.

    Args:
        model: An embedding model name such as "all-minilm-l6-v2", or its local directory.

    Returns:
        ``(count, budget)``: ``count(text)`` is the number of tokens without special tokens;
        ``budget`` is the most a chunk may hold without being truncated by the model.

    Raises:
        ModelNotFoundError: The model is unknown or not installed.
        ConfigError: The model directory has no tokenizer.json.
    """
    tokenizer, max_length = _load_tokenizer(str(resolve_embedding_model(model)))

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False).ids)

    return count, max_length - _SPECIAL_TOKENS


def make_splitter(
    *,
    model: str | os.PathLike[str] = DEFAULT_EMBEDDING_MODEL,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    chunk_overlap: int = DEFAULT_CHUNK_OVERLAP,
    file_type: str | None = None,
    length_function: Callable[[str], int] | None = None,
) -> RecursiveCharacterTextSplitter:
    """Build a recursive splitter whose chunk size is counted in the model's tokens.

    This is ``RecursiveCharacterTextSplitter.from_huggingface_tokenizer`` without importing
    transformers: the length function is the same WordPiece count, from ``tokenizer.json``.

    Args:
        model: Embedding model whose tokenizer measures chunks.
        chunk_size: Most tokens per chunk; at most the model's budget (254 for MiniLM).
        chunk_overlap: Tokens shared by neighbouring chunks; less than ``chunk_size``.
        file_type: "markdown" or "html" split on headings first; anything else on paragraphs.
        length_function: Measure chunks with this instead of the model's tokenizer (``len``
            counts characters); ``model`` is then not read and the budget not checked.

    Raises:
        ConfigError: The sizes are out of range or exceed the model's budget.
    """
    if chunk_size < 1 or not 0 <= chunk_overlap < chunk_size:
        msg = (
            f"Need chunk_size >= 1 and 0 <= chunk_overlap < chunk_size, got chunk_size="
            f"{chunk_size}, chunk_overlap={chunk_overlap}."
        )
        raise ConfigError(msg)
    if length_function is None:
        length_function, budget = token_counter(model)
        if chunk_size > budget:
            msg = (
                f"chunk_size={chunk_size} tokens exceeds what {str(model)!r} reads ({budget} "
                f"tokens plus 2 special ones): longer chunks are truncated when embedded. "
                f"Use chunk_size <= {budget}."
            )
            raise ConfigError(msg)
    language = {"markdown": Language.MARKDOWN, "html": Language.MARKDOWN}.get(file_type or "")
    separators = None
    if language is not None:  # extracted HTML text is plain lines; Markdown rules still fit
        separators = RecursiveCharacterTextSplitter.get_separators_for_language(language)
    return RecursiveCharacterTextSplitter(
        separators=separators,
        is_separator_regex=separators is not None,  # the language separators are patterns
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        length_function=length_function,
        keep_separator=True,
    )


def split_documents(
    documents: Iterable[Document],
    *,
    model: str | os.PathLike[str] = DEFAULT_EMBEDDING_MODEL,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    chunk_overlap: int = DEFAULT_CHUNK_OVERLAP,
    length_function: Callable[[str], int] | None = None,
) -> list[Document]:
    """Split documents into chunks that fit the embedding model, keeping their metadata.

    Markdown documents (``metadata["file_type"] == "markdown"``) split on headings first.

    Args:
        documents: The documents, e.g. from ``load_documents``.
        model: Embedding model whose tokenizer measures chunks.
        chunk_size: Most tokens per chunk.
        chunk_overlap: Tokens shared by neighbouring chunks.
        length_function: Measure with this instead of the model's tokenizer.

    Returns:
        The chunks, in document order; each has its document's metadata plus ``chunk`` (0-based
        within the document) and ``start_index``. A document's ``id`` is not copied.

    Raises:
        ConfigError: The sizes are out of range or exceed the model's budget.
    """
    splitters: dict[str | None, RecursiveCharacterTextSplitter] = {}
    chunks: list[Document] = []
    for doc in documents:
        file_type = doc.metadata.get("file_type")
        key = file_type if file_type in ("markdown", "html") else None
        if key not in splitters:
            splitters[key] = make_splitter(
                model=model,
                chunk_size=chunk_size,
                chunk_overlap=chunk_overlap,
                file_type=key,
                length_function=length_function,
            )
        text = doc.page_content
        start = -1
        for index, piece in enumerate(splitters[key].split_text(text)):
            # langchain's add_start_index steps back chunk_overlap *characters*, wrong when
            # sizes are tokens; chunks come in order, so search on from the previous start.
            found = text.find(piece, start + 1)
            start = found if found != -1 else text.find(piece)
            metadata = {**copy.deepcopy(doc.metadata), "chunk": index, "start_index": start}
            chunks.append(Document(page_content=piece, metadata=metadata))
    return chunks


__all__ = [
    "DEFAULT_CHUNK_OVERLAP",
    "DEFAULT_CHUNK_SIZE",
    "make_splitter",
    "split_documents",
    "token_counter",
]
