"""The documentation's Python examples are code that runs."""

from __future__ import annotations

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
