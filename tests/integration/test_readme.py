"""The README's Python examples run as written on the embedded models."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = [
    block
    for block in re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    if "path/to/" not in block  # examples that need the reader's own adapter files
]


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(code, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples may write files (a history database, an index)
    exec(compile(code, str(README), "exec"), {"__name__": "__readme__"})
    out = capsys.readouterr().out
    if "capital of France" in code:
        assert "Paris" in out
    if "tool_calls" in code:
        assert "get_weather" in out
