"""read_file_tool: text under one folder only; '..', absolute paths, symlinks out, races refused."""

from __future__ import annotations

import os

import pytest

from localchain.errors import ConfigError
from localchain.tools import ReadFileTool, read_file_tool
from localchain.tools import files as module


@pytest.fixture
def layout(tmp_path):
    root = tmp_path / "docs"
    (root / "notes").mkdir(parents=True)
    (root / "guide.md").write_text("# Guide\nStep one.\nStep two.\n")
    (root / "notes" / "todo.txt").write_text("buy bread\n")
    (root / "empty.txt").write_text("")
    (root / "data.bin").write_bytes(b"\x89PNG\r\n\x00\x00binary")
    (root / "latin1.txt").write_bytes("café".encode("latin-1"))
    outside = tmp_path / "secret.txt"
    outside.write_text("the password\n")
    return root, outside


def call(tool, path, **extra):
    return tool.invoke(
        {"name": "read_file", "args": {"path": path, **extra}, "id": "f1", "type": "tool_call"}
    )


def test_reads_a_text_file(layout):
    root, _ = layout
    tool = read_file_tool(root)
    assert isinstance(tool, ReadFileTool) and list(tool.args) == ["path", "start_line"]
    message = call(tool, "guide.md")
    assert (message.status, message.content) == ("success", "# Guide\nStep one.\nStep two.\n")
    assert tool.invoke({"path": "notes/todo.txt"}) == "buy bread\n"
    assert tool.invoke({"path": "./notes//todo.txt"}) == "buy bread\n"
    assert tool.invoke({"path": "empty.txt"}) == "(empty.txt is empty)"


def test_lists_folders(layout):
    root, _ = layout
    tool = read_file_tool(root)
    listing = tool.invoke({"path": "."})
    assert listing.splitlines()[:2] == ["Folder .:", "notes/"]
    assert "guide.md (28 B)" in listing
    assert tool.invoke({"path": "notes"}) == "Folder notes:\ntodo.txt (10 B)"


def test_absolute_path_inside_the_root_is_fine(layout):
    root, _ = layout
    assert read_file_tool(root).invoke({"path": str(root / "notes" / "todo.txt")}) == "buy bread\n"


@pytest.mark.parametrize("path", ["../secret.txt", "notes/../../secret.txt", "..", "notes/.."])
def test_dot_dot_is_refused(layout, path):
    root, _ = layout
    message = call(read_file_tool(root), path)
    assert message.status == "error" and "uses '..'" in message.content


def test_absolute_path_outside_is_refused(layout):
    root, outside = layout
    for path in (str(outside), "/etc/passwd", "/"):
        message = call(read_file_tool(root), path)
        assert message.status == "error" and "outside the folder" in message.content
        assert "password" not in message.content


def test_symlink_out_is_refused(layout):
    root, outside = layout
    (root / "link.txt").symlink_to(outside)
    (root / "linkdir").symlink_to(outside.parent)
    tool = read_file_tool(root)
    for path in ("link.txt", "linkdir/secret.txt", "linkdir"):
        message = call(tool, path)
        assert message.status == "error" and "leads outside the folder" in message.content
        assert "password" not in message.content


def test_symlink_inside_is_followed(layout):
    root, _ = layout
    (root / "alias.md").symlink_to(root / "guide.md")
    assert read_file_tool(root).invoke({"path": "alias.md"}).startswith("# Guide")
    assert "alias.md (link)" in read_file_tool(root).invoke({"path": "."})


def test_symlink_swapped_in_after_any_check_is_still_refused(layout, monkeypatch):
    # The race: the path is a harmless file when looked at, and a link out when opened.
    root, outside = layout
    target = root / "notes" / "todo.txt"
    real_open = os.open

    def swapping_open(path, flags, *args, **kwargs):
        if os.fspath(path) == os.fspath(target):
            target.unlink()
            target.symlink_to(outside)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(module.os, "open", swapping_open)
    message = call(read_file_tool(root), "notes/todo.txt")
    assert message.status == "error" and "leads outside the folder" in message.content
    assert "password" not in message.content


def test_the_check_uses_the_opened_descriptor(layout, monkeypatch):
    # If the descriptor's real path cannot be established, nothing is read.
    root, _ = layout
    monkeypatch.setattr(module, "_opened_path", lambda fd, asked: None)
    message = call(read_file_tool(root), "guide.md")
    assert message.status == "error" and "leads outside" in message.content


def test_fallback_without_proc_compares_inodes(layout, monkeypatch):
    root, outside = layout
    fd = os.open(root / "guide.md", os.O_RDONLY)
    try:
        # Hide /proc (as on systems without it): the inode comparison decides.
        real_is_symlink = module.Path.is_symlink
        monkeypatch.setattr(
            module.Path,
            "is_symlink",
            lambda self: False if str(self).startswith("/proc/") else real_is_symlink(self),
        )
        assert module._opened_path(fd, root / "guide.md") == (root / "guide.md").resolve()
        assert module._opened_path(fd, outside) is None  # another file by that name
    finally:
        os.close(fd)


def test_binary_and_non_utf8_files_are_refused(layout):
    root, _ = layout
    tool = read_file_tool(root)
    for path in ("data.bin", "latin1.txt"):
        message = call(tool, path)
        assert message.status == "error" and "binary file" in message.content


def test_large_file_is_refused(layout):
    root, _ = layout
    (root / "big.txt").write_text("x" * 5000)
    message = call(read_file_tool(root, max_file_bytes=1000), "big.txt")
    assert message.status == "error" and "more than the 1000 B" in message.content


def test_long_file_is_paged(layout):
    root, _ = layout
    (root / "long.txt").write_text("".join(f"line {i}\n" for i in range(1, 101)))
    tool = read_file_tool(root, max_chars=100)
    first = tool.invoke({"path": "long.txt"})
    assert first.startswith("line 1\nline 2\n")
    assert first.endswith("[lines 1-13 of 100; call read_file with start_line=14 to read on]")
    second = tool.invoke({"path": "long.txt", "start_line": 14})
    assert second.startswith("line 14\n")
    last = tool.invoke({"path": "long.txt", "start_line": 95})
    assert last.endswith("line 100\n[lines 95-100 of 100]")
    message = call(tool, "long.txt", start_line=101)
    assert message.status == "error" and "has only 100 lines" in message.content


def test_a_fifo_does_not_hang(layout):
    root, _ = layout
    os.mkfifo(root / "pipe")
    message = call(read_file_tool(root), "pipe")
    assert message.status == "error" and "not a regular file" in message.content


def test_missing_and_bad_arguments(layout):
    root, _ = layout
    tool = read_file_tool(root)
    missing = call(tool, "nope.txt")
    assert missing.status == "error" and "No file or folder 'nope.txt'" in missing.content
    assert call(tool, "").status == "error"
    assert call(tool, "a\0b").status == "error"
    bad = tool.invoke({"name": "read_file", "args": {"file": "x"}, "id": "1", "type": "tool_call"})
    assert bad.status == "error" and "path: Field required" in bad.content
    zero = call(tool, "guide.md", start_line=0)
    assert zero.status == "error" and "start_line" in zero.content


def test_root_must_be_a_directory(layout, tmp_path):
    root, outside = layout
    with pytest.raises(ConfigError, match="existing directory"):
        read_file_tool(outside)
    with pytest.raises(ConfigError, match="existing directory"):
        read_file_tool(tmp_path / "absent")


def test_root_given_through_a_symlink_is_resolved(layout, tmp_path):
    root, _ = layout
    (tmp_path / "docs-link").symlink_to(root)
    tool = read_file_tool(tmp_path / "docs-link")
    assert tool.root == root.resolve()
    assert tool.invoke({"path": "guide.md"}).startswith("# Guide")
