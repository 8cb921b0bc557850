"""Imports point downward only: a lower layer never imports a higher one (checked with ast)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "localchain"
LAYERS = {
    "errors": 0,
    "_cache": 0,
    "sandbox": 0,
    "models": 1,
    "prompts": 2,
    "index": 2,
    "memory": 2,
    "tools": 2,
    "chains": 3,
    "agents": 3,
    "tuning": 3,
    "eval": 3,
    "cli": 4,
}


def _layer_of(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "localchain" or len(parts) < 2:
        return None
    return LAYERS.get(parts[1])


def test_no_module_imports_a_higher_layer():
    violations = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        own = _layer_of(".".join(rel.parts))
        if own is None:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                layer = _layer_of(name)
                if layer is not None and layer > own:
                    violations.append(f"{rel} imports {name}")
    assert violations == []


def test_apps_use_only_the_public_api():
    apps = ROOT.parent / "apps"
    for path in apps.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("localchain"):
                assert not any(part.startswith("_") for part in node.module.split(".")), path


def test_import_localchain_stays_light():
    code = (
        "import sys, localchain, localchain.models; "
        "heavy = [m for m in ('torch', 'transformers', 'faiss', 'sentence_transformers') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
