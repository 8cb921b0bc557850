"""Evaluation never imports tuning (tuning may import evaluation); datasets sits below both."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[3] / "localchain"


def _imports(package: str) -> set[tuple[str, str]]:
    found = set()
    for path in (PACKAGE / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update((path.name, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add((path.name, node.module))
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("eval", ("localchain.tuning",)),
        ("datasets", ("localchain.tuning", "localchain.eval", "localchain.models")),
    ],
)
def test_imports_point_one_way(package, forbidden):
    bad = sorted(
        f"{package}/{f} imports {m}" for f, m in _imports(package) if m.startswith(forbidden)
    )
    assert bad == []
