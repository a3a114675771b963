"""The documentation's Python examples are code that runs."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def examples() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        for number, block in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), re.S)):
            found.append((f"{page.name}#{number}", block))
    return found


@pytest.mark.parametrize(("where", "code"), examples(), ids=[w for w, _ in examples()])
def test_example_runs(where: str, code: str) -> None:
    exec(compile(code, where, "exec"), {"__name__": "__docs__"})


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_no_merge_conflict_is_left_in_the_page(page: Path) -> None:
    markers = [n for n, line in enumerate(page.read_text().splitlines(), 1) if re.match(r"(<{7}|={7}|>{7})( |$)", line)]
    assert not markers, f"{page.name}: merge conflict markers on lines {markers}"


def documented_imports() -> list[tuple[str, str, str | None]]:
    """Every ``from framework... import NAME`` and ``import framework...`` in the docs' code: (where, module, name).

    Read from the ```python blocks of README.md and docs/*.md and from every file under docs/examples/.
    """
    sources = [(f"{where}", code) for where, code in examples()]
    sources += [(str(p.relative_to(ROOT)), p.read_text()) for p in sorted((ROOT / "docs" / "examples").rglob("*.py"))]
    found: list[tuple[str, str, str | None]] = []
    for where, code in sources:
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "framework":
                found += [(where, node.module or "", alias.name) for alias in node.names]
            elif isinstance(node, ast.Import):
                found += [(where, a.name, None) for a in node.names if a.name.split(".")[0] == "framework"]
    return found


def documented_paths() -> list[tuple[str, str]]:
    """Every dotted ``framework.x.y`` the pages' prose names in backquotes: (page, path)."""
    return sorted(
        {(page.name, path) for page in PAGES for path in re.findall(r"`(framework(?:\.\w+)+)", page.read_text())}
    )


def test_the_docs_import_something_from_framework() -> None:
    assert len(documented_imports()) > 10 and len(documented_paths()) > 10


@pytest.mark.parametrize(
    ("where", "module", "name"), documented_imports(), ids=[f"{w}:{m}:{n}" for w, m, n in documented_imports()]
)
def test_every_documented_import_imports(where: str, module: str, name: str | None) -> None:
    """A documented import path cannot vanish (issue 28); under filterwarnings=error, nor be a deprecated one."""
    imported = importlib.import_module(module)
    if name is not None and not hasattr(imported, name):
        importlib.import_module(f"{module}.{name}")  # a submodule: ``from framework import kits``


@pytest.mark.parametrize(("page", "path"), documented_paths(), ids=[f"{p}:{d}" for p, d in documented_paths()])
def test_every_module_path_the_prose_names_is_there(page: str, path: str) -> None:
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):  # the longest importable prefix, then attributes
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            assert hasattr(found, attribute), f"{page} names {path}: {'.'.join(parts[:cut])} has no {attribute}"
            found = getattr(found, attribute)
        return
    raise AssertionError(f"{page} names {path}, which does not import")
