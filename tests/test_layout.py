"""framework/'s shape: the ground floor at its top level, wings below, no import circle, DAGs on the public API.

import-linter (``lint-imports``, contracts in pyproject.toml) checks the wings' arrows in CI; this file
checks what a reader sees first, and counts import circles the way a reader would (lazy imports
inside functions included). Run it as a script on any checkout to print the counts:

    python tests/test_layout.py [FOLDER]
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GROUND = {"__init__.py", "errors.py", "progress.py", "results.py", "signals.py", "moved.py"}
WINGS = {"cli", "airflow", "stack", "pipeline", "dbt", "loading", "kits", "targets", "engines"}


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module -> the modules of ``package`` it imports anywhere in its file (as grimp sees imports)."""
    modules: dict[str, Path] = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                graph[name] |= {a.name for a in node.names if a.name in modules}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = here.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
                subs = {f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules}
                graph[name] |= subs
                if len(subs) < len(node.names) and base in modules:
                    graph[name].add(base)
        graph[name].discard(name)
    return graph


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other in a circle (strongly connected, more than one)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in graph:
        if node not in index:
            visit(node)
    return circles


def test_no_import_circle_in_framework() -> None:
    assert import_circles(import_graph(ROOT / "framework")) == []


def test_the_top_level_is_the_ground_floor_and_the_wings() -> None:
    top = ROOT / "framework"
    assert {p.name for p in top.glob("*.py")} == GROUND
    assert {p.name for p in top.iterdir() if p.is_dir() and (p / "__init__.py").exists()} == WINGS


def test_dags_import_only_the_public_api() -> None:
    for path in (ROOT / "dags").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("framework."):
                raise AssertionError(f"{path.name}: imports {node.module}; import from framework (its public API)")


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "framework"
    found = import_circles(import_graph(folder))
    print(f"{folder}: {len(list(folder.glob('*.py')))} files at the top level; {len(found)} import circle(s)")
    for group in found:
        print(f"  {len(group)} modules: {', '.join(group)}")
