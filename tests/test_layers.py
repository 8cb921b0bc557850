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
    "datasets": 2,
    "tools": 2,
    "chains": 3,
    "agents": 3,
    "tuning": 3,
    "eval": 3,
    "server": 4,
    "cli": 5,
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


# Inside models/, imports run one way: a module imports only modules of a lower rank (the
# engines package counts as one). loading <- adapters <- generation <- engines <- chat/llm.
MODELS_RANKS = {
    "registry": 0,
    "settings": 0,
    "quantization": 0,
    "constrained": 0,
    "tool_calling": 0,
    "chat_format": 1,
    "fake": 0,
    "loading": 1,
    "adapters": 2,
    "kv_cache": 2,
    "embeddings": 2,
    "tool_relevance": 3,
    "decoding": 3,
    "generation": 4,
    "scheduler": 4,
    "engines": 5,
    "local_model": 6,
    "chat": 7,
    "llm": 7,
}


def _imports(path: Path) -> list[str]:
    """Every localchain module a file imports, at any depth (TYPE_CHECKING blocks too)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return [n for n in names if n.startswith("localchain")]


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def test_models_modules_import_one_way():
    violations = []
    for path in (ROOT / "models").rglob("*.py"):
        if path.name == "__init__.py":
            continue  # the package wires its modules together
        own_key = path.relative_to(ROOT / "models").with_suffix("").parts[0]
        assert own_key in MODELS_RANKS, f"give models/{own_key} a rank in MODELS_RANKS"
        for name in _imports(path):
            parts = name.split(".")
            if parts[:2] != ["localchain", "models"] or len(parts) < 3:
                continue
            if parts[2] == own_key:
                continue
            if MODELS_RANKS[parts[2]] >= MODELS_RANKS[own_key]:
                violations.append(f"models/{own_key} imports {name}")
    assert violations == []


def test_evaluation_does_not_import_tuning():
    violations = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in (ROOT / "eval").rglob("*.py")
        for name in _imports(path)
        if name.startswith("localchain.tuning")
    ]
    assert violations == []


def test_no_import_cycles():
    graph: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        if path.name == "__init__.py":
            continue  # packages re-export lazily; their submodules are the nodes
        graph[_module_name(path)] = set(_imports(path))
    for deps in graph.values():
        deps.intersection_update(graph)
    cycles = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycles.append(" -> ".join([*trail[trail.index(dep) :], dep]))
            elif dep not in state:
                visit(dep, [*trail, dep])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_no_private_name_crosses_a_module_boundary():
    violations = []
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if not node.module.startswith("localchain"):
                    continue
                package = _module_name(path).rsplit(".", 1)[0]
                for alias in node.names:
                    if not alias.name.startswith("_") or alias.name.startswith("__"):
                        continue
                    target = ROOT.parent / Path(*f"{node.module}.{alias.name}".split("."))
                    is_module = target.with_suffix(".py").is_file() or target.is_dir()
                    if is_module and node.module.startswith(package):
                        continue  # a package's private module, used inside that package
                    violations.append(f"{path.relative_to(ROOT)}: {alias.name} from {node.module}")
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
