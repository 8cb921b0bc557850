"""Document loaders for text, Markdown, HTML and PDF files and for whole directories.

Each loader is a langchain-core ``BaseLoader`` and yields ``Document``s whose metadata holds
``source`` (the file path), ``file_type`` and, for PDF pages, ``page`` (1-based) and
``total_pages``; HTML pages also carry their ``title``. A file that cannot be read, looks binary,
or holds no text raises ``DocumentLoadError`` naming the file; a directory load either raises on
the first bad file (``errors="raise"``) or skips it and records why in ``loader.skipped``
(``errors="skip"``), warning once at the end, so nothing is lost silently.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from langchain_core.document_loaders import BaseLoader
from langchain_core.documents import Document

from localchain.errors import DocumentLoadError

FILE_TYPES: dict[str, str] = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
}
"""File suffix (lower case) to file type; the loaders read these and only these."""

_BINARY_SNIFF_BYTES = 8192
_HTML_DROP_TAGS = ("script", "style", "noscript", "template", "head")


def _fail(path: Path, reason: str, fix: str) -> DocumentLoadError:
    msg = f"Cannot load {str(path)!r}: {reason}. {fix}"
    return DocumentLoadError(msg, path=path, reason=reason)


def _file_type(path: Path, file_type: str | None) -> str:
    if file_type is not None:
        if file_type not in set(FILE_TYPES.values()):
            known = ", ".join(sorted(set(FILE_TYPES.values())))
            msg = f"Unknown file_type {file_type!r} for {str(path)!r}; use one of: {known}."
            raise DocumentLoadError(msg, path=path, reason="unknown file type")
        return file_type
    found = FILE_TYPES.get(path.suffix.lower())
    if found is None:
        raise _fail(
            path,
            f"unsupported file type {path.suffix or '(no suffix)'!r}",
            f"Supported suffixes: {', '.join(FILE_TYPES)}; or pass file_type='text'.",
        )
    return found


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise _fail(path, "no such file", "Check the path.")
    if not path.is_file():
        raise _fail(path, "not a regular file", "Pass a file, or use DirectoryLoader for folders.")
    try:
        return path.read_bytes()
    except OSError as err:
        reason = f"file cannot be read ({err.strerror or err})"
        raise _fail(path, reason, "Check its permissions.") from err


def _decode_text(path: Path, data: bytes, encoding: str) -> str:
    if not data:
        raise _fail(path, "file is empty", "Remove it or give it some text.")
    if b"\x00" in data[:_BINARY_SNIFF_BYTES]:
        raise _fail(path, "file looks binary (it holds NUL bytes)", "Load only text files.")
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as err:
        bad = data[err.start : err.start + 1]
        reason = f"file is not valid {encoding} text (byte {err.start} is {bad!r})"
        raise _fail(path, reason, "Pass the right encoding=..., or load only text.") from err
    except LookupError as err:
        reason = f"unknown encoding {encoding!r}"
        raise _fail(path, reason, "Use e.g. 'utf-8' or 'latin-1'.") from err
    if not text.strip():
        raise _fail(path, "file holds only whitespace", "Remove it or give it some text.")
    return text


def _html_to_text(path: Path, html: str) -> tuple[str, str | None]:
    from bs4 import BeautifulSoup  # imported on first HTML file

    soup = BeautifulSoup(html, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    for tag in soup.find_all(_HTML_DROP_TAGS):
        tag.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    text = "\n".join(line for line in lines if line)
    if not text:
        raise _fail(path, "HTML page has no visible text", "Remove it or check the page.")
    return text, title


def _load_pdf(path: Path, source: str) -> Iterator[Document]:
    from pypdf import PdfReader  # imported on first PDF file
    from pypdf.errors import PyPdfError

    data = _read_bytes(path)
    if not data:
        raise _fail(path, "file is empty", "Remove it or replace it with a real PDF.")
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise _fail(path, "PDF is encrypted", "Decrypt it first (e.g. with qpdf).")
        pages = [page.extract_text() or "" for page in reader.pages]
    except DocumentLoadError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as err:
        raise _fail(path, f"not a readable PDF ({err})", "Check the file is a valid PDF.") from err
    if not any(text.strip() for text in pages):
        raise _fail(
            path,
            f"PDF has no extractable text on any of its {len(pages)} pages",
            "A scanned PDF needs OCR first.",
        )
    for number, text in enumerate(pages, start=1):
        if text.strip():  # an empty page has nothing to lose; page numbers stay true
            metadata = {"source": source, "file_type": "pdf", "page": number}
            yield Document(page_content=text, metadata={**metadata, "total_pages": len(pages)})


class FileLoader(BaseLoader):
    """Load one text, Markdown, HTML or PDF file, choosing the reader from its suffix.

    Example:
        ```python
        docs = FileLoader("notes/paris.md").load()
        docs[0].metadata  # {"source": "notes/paris.md", "file_type": "markdown"}
        ```
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        encoding: str = "utf-8",
        file_type: str | None = None,
    ) -> None:
        """Set up the loader (nothing is read until ``load``).

        Args:
            path: The file.
            encoding: Text encoding of text, Markdown and HTML files.
            file_type: Force "text", "markdown", "html" or "pdf" instead of using the suffix.
        """
        self.path = Path(path)
        self.encoding = encoding
        self.file_type = file_type

    def lazy_load(self) -> Iterator[Document]:
        """Yield the file's documents: one for a text file, one per non-empty PDF page.

        Raises:
            DocumentLoadError: The file is missing, unreadable, binary, empty, of an unsupported
                type, or (for PDF) damaged, encrypted or without text.
        """
        path, source = self.path, str(self.path)
        file_type = _file_type(path, self.file_type)
        if file_type == "pdf":
            yield from _load_pdf(path, source)
            return
        text = _decode_text(path, _read_bytes(path), self.encoding)
        metadata: dict[str, object] = {"source": source, "file_type": file_type}
        if file_type == "html":
            text, title = _html_to_text(path, text)
            if title:
                metadata["title"] = title
        yield Document(page_content=text, metadata=metadata)


@dataclass(frozen=True)
class SkippedFile:
    """A file a directory load skipped, and why."""

    path: Path
    reason: str
    error: DocumentLoadError


class DirectoryLoader(BaseLoader):
    """Load every supported file under a directory, in sorted path order.

    Files whose suffix is not in ``FILE_TYPES`` (or ``suffixes``) are not read and are listed in
    ``ignored``; files that fail to load raise, or with ``errors="skip"`` are listed in
    ``skipped`` (refilled on each load) and reported in one warning.

    Example:
        ```python
        loader = DirectoryLoader("docs/", errors="skip")
        docs = loader.load()
        for skipped in loader.skipped:
            print(skipped.path, skipped.reason)
        ```
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        glob: str = "**/*",
        suffixes: list[str] | None = None,
        errors: Literal["raise", "skip"] = "raise",
        encoding: str = "utf-8",
        include_hidden: bool = False,
    ) -> None:
        """Set up the loader (nothing is read until ``load``).

        Args:
            path: The directory.
            glob: Which files to consider, relative to ``path`` ("*" for the top level only).
            suffixes: Suffixes to load, e.g. [".md"]; default every suffix in ``FILE_TYPES``.
            errors: "raise" stops at the first file that fails; "skip" records it and goes on.
            encoding: Text encoding of text, Markdown and HTML files.
            include_hidden: Also load files under dot-directories or named with a leading dot.

        Raises:
            DocumentLoadError: ``errors`` or a suffix is not one the loader knows.
        """
        self.path = Path(path)
        if errors not in ("raise", "skip"):
            msg = f"errors must be 'raise' or 'skip', got {errors!r}."
            raise DocumentLoadError(msg, path=self.path, reason="bad errors option")
        wanted = [
            s.lower() if s.startswith(".") else f".{s.lower()}" for s in suffixes or FILE_TYPES
        ]
        unknown = [s for s in wanted if s not in FILE_TYPES]
        if unknown:
            msg = f"Unsupported suffixes {unknown}; the loaders read: {', '.join(FILE_TYPES)}."
            raise DocumentLoadError(msg, path=self.path, reason="unsupported suffix")
        self.glob = glob
        self.suffixes = wanted
        self.errors = errors
        self.encoding = encoding
        self.include_hidden = include_hidden
        self.skipped: list[SkippedFile] = []
        self.ignored: list[Path] = []

    def _files(self) -> list[Path]:
        if not self.path.is_dir():
            what = "is a file, use FileLoader" if self.path.is_file() else "does not exist"
            msg = f"Cannot load directory {str(self.path)!r}: it {what}."
            raise DocumentLoadError(msg, path=self.path, reason="not a directory")
        files, self.ignored = [], []
        for path in sorted(self.path.glob(self.glob)):
            hidden = any(part.startswith(".") for part in path.relative_to(self.path).parts)
            if not path.is_file() or (hidden and not self.include_hidden):
                continue
            (files if path.suffix.lower() in self.suffixes else self.ignored).append(path)
        return files

    def lazy_load(self) -> Iterator[Document]:
        """Yield the documents of every supported file, in sorted path order.

        Raises:
            DocumentLoadError: The directory does not exist or holds no file with a supported
                suffix, or (with ``errors="raise"``) a file failed to load.
        """
        self.skipped = []
        files = self._files()
        if not files:
            msg = (
                f"No file to load in {str(self.path)!r} matching {self.glob!r} with suffixes "
                f"{', '.join(self.suffixes)} ({len(self.ignored)} other files ignored)."
            )
            raise DocumentLoadError(msg, path=self.path, reason="no supported files")
        for path in files:
            try:
                # Read the whole file first, so a file failing halfway yields nothing of it.
                docs = FileLoader(path, encoding=self.encoding).load()
            except DocumentLoadError as err:
                if self.errors == "raise":
                    raise
                self.skipped.append(SkippedFile(path=path, reason=err.reason, error=err))
                continue
            yield from docs
        if self.skipped:
            listed = "; ".join(f"{s.path}: {s.reason}" for s in self.skipped)
            warnings.warn(
                f"Skipped {len(self.skipped)} of {len(files)} files in {str(self.path)!r}: "
                f"{listed}. See loader.skipped.",
                UserWarning,
                stacklevel=2,
            )


def load_documents(
    path: str | os.PathLike[str],
    *,
    errors: Literal["raise", "skip"] = "raise",
    glob: str = "**/*",
    encoding: str = "utf-8",
) -> list[Document]:
    """Load a file, or every supported file under a directory.

    Args:
        path: A text, Markdown, HTML or PDF file, or a directory of them.
        errors: For directories: "raise" on the first bad file, or "skip" it with a warning.
        glob: For directories: which files to consider.
        encoding: Text encoding of text, Markdown and HTML files.

    Returns:
        The documents, with ``source``, ``file_type`` and (PDF) ``page`` metadata.

    Raises:
        DocumentLoadError: The path is missing, or a file failed (see the loaders).
    """
    target = Path(path)
    if target.is_dir():
        loader = DirectoryLoader(target, glob=glob, errors=errors, encoding=encoding)
        return loader.load()
    return FileLoader(target, encoding=encoding).load()


__all__ = ["FILE_TYPES", "DirectoryLoader", "FileLoader", "SkippedFile", "load_documents"]
