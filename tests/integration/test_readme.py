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


PROSE = {"where the local checkpoint is"}
"""Comments on ``print(...)`` lines that describe the value rather than show it."""


def shown_outputs(code: str) -> list[str]:
    """The outputs a README block shows, in order.

    A ``print(...)`` line shows its output in a comment at its end (``print(x)  # 285``) or on
    the next line (``# name='John' age=31``). ``...`` or ``…`` in a shown output stands for
    text the README leaves out.
    """
    lines = code.splitlines()
    shown = []
    for i, line in enumerate(lines):
        if not line.strip().startswith("print("):
            continue
        _, sep, comment = line.partition("  # ")
        if sep and comment.strip() not in PROSE:
            shown.append(comment.strip())
        elif not sep and i + 1 < len(lines) and lines[i + 1].startswith("# "):
            shown.append(lines[i + 1][2:].strip())
    return shown


def _matches(shown: str, line: str) -> bool:
    parts = re.split(r"\.\.\.|…", shown)
    if len(parts) == 1:
        return line.strip() == shown
    return re.search(".*?".join(re.escape(p) for p in parts), line) is not None


def assert_shows(out: str, shown: list[str]) -> None:
    """Each shown output appears on its own line of ``out``, in the README's order."""
    lines = out.splitlines()
    position = 0
    for expected in shown:
        for j in range(position, len(lines)):
            if _matches(expected, lines[j]):
                position = j + 1
                break
        else:
            msg = f"The README shows {expected!r}, but the example printed:\n{out}"
            raise AssertionError(msg)


def test_the_readme_shows_outputs_that_are_checked():
    """The parser finds the outputs the README shows (or the comparisons below check nothing)."""
    shown = [s for block in BLOCKS for s in shown_outputs(block)]
    for expected in (
        "The capital of France is Paris.",
        "name='John' age=31",
        "285",
        "I don't know.",
    ):
        assert expected in shown
    assert_shows("x\n285\n", ["285"])
    with pytest.raises(AssertionError):
        assert_shows("1285\n", ["285"])
    assert_shows("Hi!{'input_tokens': 3, 'output_tokens': 2}\n", ["{'input_tokens': ..., ...}"])


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(code, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples may write files (a history database, an index)
    exec(compile(code, str(README), "exec"), {"__name__": "__readme__"})
    out = capsys.readouterr().out
    # Greedy decoding is deterministic: what the README shows is what the example prints.
    assert_shows(out, shown_outputs(code))
    if "capital of France" in code:
        assert "Paris" in out
    if "tool_calls" in code:
        assert "get_weather" in out
