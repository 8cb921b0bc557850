"""Loaders: each format, metadata, and clear errors for bad files and directories."""

from __future__ import annotations

import os

import pytest
from langchain_core.documents import Document

from localchain.errors import LocalchainError
from localchain.index import (
    DirectoryLoader,
    DocumentLoadError,
    FileLoader,
    load_documents,
)
from tests.unit.index._pdf import write_pdf

HTML = """<!doctype html><html><head><title>Paris guide</title>
<style>body { color: red }</style><script>var secret = 1;</script></head>
<body><h1>Paris</h1><p>Paris is the capital of France.</p>
<p>The Louvre   is there.</p></body></html>"""


def test_text_file(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Hello world.\nSecond line.", encoding="utf-8")
    assert FileLoader(path).load() == [
        Document(
            page_content="Hello world.\nSecond line.",
            metadata={"source": str(path), "file_type": "text"},
        )
    ]


def test_text_file_strips_utf8_bom_and_honours_encoding(tmp_path):
    bom = tmp_path / "bom.txt"
    bom.write_bytes("\ufeffcafé".encode())
    assert FileLoader(bom).load()[0].page_content == "café"
    latin = tmp_path / "latin.txt"
    latin.write_bytes("café".encode("latin-1"))
    assert FileLoader(latin, encoding="latin-1").load()[0].page_content == "café"


def test_markdown_file_keeps_markup(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("# Title\n\nSome *text*.\n")
    [doc] = FileLoader(path).load()
    assert doc.page_content.startswith("# Title")
    assert doc.metadata == {"source": str(path), "file_type": "markdown"}


def test_html_file_gives_visible_text_and_title(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(HTML)
    [doc] = FileLoader(path).load()
    assert doc.page_content == "Paris\nParis is the capital of France.\nThe Louvre   is there."
    assert "secret" not in doc.page_content and "color" not in doc.page_content
    assert doc.metadata == {"source": str(path), "file_type": "html", "title": "Paris guide"}


def test_pdf_one_document_per_page_with_page_numbers(tmp_path):
    path = write_pdf(tmp_path / "guide.pdf", ["First page text.", "", "Third page (end)."])
    docs = FileLoader(path).load()
    assert [d.page_content for d in docs] == ["First page text.", "Third page (end)."]
    assert [d.metadata["page"] for d in docs] == [1, 3]  # 1-based; the blank page is absent
    assert docs[0].metadata == {
        "source": str(path),
        "file_type": "pdf",
        "page": 1,
        "total_pages": 3,
    }


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "file is empty"),
        ("blank.md", b"  \n\t\n", "file holds only whitespace"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "binary"),
        ("latin.txt", "café".encode("latin-1"), "not valid utf-8"),
        ("nothing.html", b"<html><script>x()</script></html>", "no visible text"),
        ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "not a readable PDF"),
        ("empty.pdf", b"", "file is empty"),
        ("image.png", b"\x89PNG", "unsupported file type"),
    ],
)
def test_bad_files_raise_an_error_naming_the_file(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DocumentLoadError, match=reason) as info:
        FileLoader(path).load()
    assert str(path) in str(info.value)
    assert info.value.path == path
    assert isinstance(info.value, LocalchainError) and isinstance(info.value, ValueError)


def test_pdf_without_text_is_an_error(tmp_path):
    path = write_pdf(tmp_path / "scan.pdf", ["", ""])
    with pytest.raises(DocumentLoadError, match="no extractable text.*OCR"):
        FileLoader(path).load()


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(DocumentLoadError, match="no such file"):
        FileLoader(tmp_path / "missing.txt").load()
    with pytest.raises(DocumentLoadError, match="not a regular file"):
        FileLoader(tmp_path, file_type="text").load()
    if os.geteuid() != 0:  # root reads everything
        locked = tmp_path / "locked.txt"
        locked.write_text("secret")
        locked.chmod(0)
        with pytest.raises(DocumentLoadError, match="cannot be read"):
            FileLoader(locked).load()


def test_file_type_override(tmp_path):
    path = tmp_path / "README"
    path.write_text("plain text without a suffix")
    assert FileLoader(path, file_type="text").load()[0].metadata["file_type"] == "text"
    with pytest.raises(DocumentLoadError, match="Unknown file_type 'docx'"):
        FileLoader(path, file_type="docx").load()


@pytest.fixture
def corpus(tmp_path):
    root = tmp_path / "docs"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("Alpha text.")
    (root / "b.md").write_text("# Beta\n\nBeta text.")
    (root / "sub" / "c.html").write_text(HTML)
    write_pdf(root / "sub" / "d.pdf", ["Delta page one.", "Delta page two."])
    (root / "empty.txt").write_text("")
    (root / "logo.png").write_bytes(b"\x89PNG")
    (root / ".hidden").mkdir()
    (root / ".hidden" / "h.txt").write_text("hidden")
    return root


def test_directory_raise_names_the_bad_file(corpus):
    with pytest.raises(DocumentLoadError, match="empty.txt.*file is empty"):
        DirectoryLoader(corpus).load()


def test_directory_skip_reports_every_skipped_file(corpus):
    loader = DirectoryLoader(corpus, errors="skip")
    with pytest.warns(UserWarning, match=r"Skipped 1 of 5 files.*empty\.txt: file is empty"):
        docs = loader.load()
    assert [(d.metadata["source"], d.metadata.get("page")) for d in docs] == [
        (str(corpus / "a.txt"), None),
        (str(corpus / "b.md"), None),
        (str(corpus / "sub" / "c.html"), None),
        (str(corpus / "sub" / "d.pdf"), 1),
        (str(corpus / "sub" / "d.pdf"), 2),
    ]
    assert [(s.path.name, s.reason) for s in loader.skipped] == [("empty.txt", "file is empty")]
    assert isinstance(loader.skipped[0].error, DocumentLoadError)
    assert [p.name for p in loader.ignored] == ["logo.png"]


def test_directory_suffixes_glob_and_hidden(corpus):
    docs = DirectoryLoader(corpus, suffixes=["md", ".pdf"]).load()
    assert {d.metadata["file_type"] for d in docs} == {"markdown", "pdf"}
    top = DirectoryLoader(corpus, glob="*.txt", errors="skip")
    with pytest.warns(UserWarning, match="Skipped 1 of 2 files"):
        assert [d.page_content for d in top.load()] == ["Alpha text."]
    hidden = DirectoryLoader(corpus, glob="**/h.txt", include_hidden=True).load()
    assert [d.page_content for d in hidden] == ["hidden"]


def test_directory_errors(tmp_path, corpus):
    with pytest.raises(DocumentLoadError, match="does not exist"):
        DirectoryLoader(tmp_path / "nope").load()
    with pytest.raises(DocumentLoadError, match="No file to load"):
        DirectoryLoader(corpus, glob="*.png").load()
    with pytest.raises(DocumentLoadError, match="errors must be"):
        DirectoryLoader(corpus, errors="ignore")  # type: ignore[arg-type]
    with pytest.raises(DocumentLoadError, match="Unsupported suffixes"):
        DirectoryLoader(corpus, suffixes=[".docx"])


def test_load_documents_file_or_directory(corpus):
    assert load_documents(corpus / "a.txt")[0].page_content == "Alpha text."
    with pytest.warns(UserWarning, match="empty.txt"):
        assert len(load_documents(corpus, errors="skip")) == 5
