"""``--datakit-reuse``'s key covers everything that goes into the template (issue 26 item 1).

A project with a fill hook that reads a landing CSV and imports a helper module of the project, and a
dbt project with a vendored dbt_utils-like package, a model under ``models/logs/``, an ``env_var``
and a macro in ``macro-paths: ../shared_macros``. Run in child processes on ``postgres_local`` (the
kept templates stay on the server; the test drops those of its own project):
a run with nothing changed clones the kept template (a project with packages keeps the fast path,
issue 31); after a change to any one input the next run builds anew, says why, and its tests see
the new data.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
from plugin_helpers import server_engine
from sqlalchemy import text

from framework.targets.runs import TEMPLATE_PREFIX, kept_template_name

_spec = importlib.util.spec_from_file_location("vendored_dbt_utils", Path(__file__).parents[1] / "dbt" / "vendored.py")
assert _spec is not None and _spec.loader is not None
vendored = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vendored)

KIT = """
from sqlmodel import Field, SQLModel


class RawItems(SQLModel, table=True):
    __tablename__ = "raw_items"
    id: int = Field(primary_key=True)
    name: str
"""

CONFTEST = """
import csv
from pathlib import Path

from sqlalchemy import text


def pytest_datakit_fill_template(target, database):
    from helpers import spelled  # imported when the hook runs: found by the key all the same

    with (Path(__file__).parent / "landing" / "items.csv").open() as landing:
        rows = [{"id": int(r["id"]), "name": spelled(r["name"])} for r in csv.DictReader(landing)]
    engine = database.engine()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO raw_items (id, name) VALUES (:id, :name)"), rows)
    engine.dispose()
"""

HELPERS = """
def spelled(name):
    return name
"""

TESTS = """
import json
from pathlib import Path

from sqlalchemy import text


def test_record_what_the_template_holds(datakit_connection):
    seen = {
        table: [list(row) for row in datakit_connection.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]
        for table in ("items", "logged", "numbers")
    }
    Path(__file__).with_name("seen.json").write_text(json.dumps(seen))
"""

PROJECT = {
    "landing/items.csv": "id,name\n1,ann\n2,bo\n",
    "shop/dbt_project.yml": """name: shop
version: "1.0.0"
config-version: 2
profile: shop
macro-paths: ["macros", "../shared_macros"]
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
    "shop/models/items.sql": (
        "select id, {{ shout('name') }} as name, '{{ env_var('DK_REUSE_TAG', 'none') }}' as tag\n"
        "from {{ source('shop', 'raw_items') }}\n"
    ),
    "shop/models/logs/logged.sql": "select 1 as n\n",
    "shop/models/numbers.sql": vendored.NUMBERS_SQL,
    "shop/models/numbers.yml": vendored.NUMBERS_YML,
    "shared_macros/shout.sql": "{% macro shout(column) %}upper({{ column }}){% endmacro %}\n",
}

INI = "datakit_paths = kits/shop\ndatakit_dbt_projects = shop\ndatakit_reuse_inputs = landing"
BUILT = re.compile(r"postgres_local +template: built \(deploy, fill, dbt build\) and kept as (dktpl_\w+)(.*)")
CLONED = re.compile(r"postgres_local +template: cloned the kept template (dktpl_\w+)")


def _edit(path: Path, old: str, new: str) -> None:
    body = path.read_text()
    assert old in body, (path, old)
    path.write_text(body.replace(old, new))


#: each input kind: how it changes, what the summary names, what the template then holds
CHANGES = [
    (
        "a landing CSV the fill hook reads",
        lambda root: _edit(root / "landing" / "items.csv", "2,bo", "2,cy"),
        "landing/items.csv changed",
        lambda seen: seen["items"][1][1] == "CY",
    ),
    (
        "a helper module the fill hook imports",
        lambda root: _edit(root / "helpers.py", "return name", "return name + 'x'"),
        "helpers.py changed",
        lambda seen: seen["items"][0][1] == "ANNX",
    ),
    (
        "a macro under dbt_packages/",
        lambda root: _edit(
            root / "shop" / "dbt_packages" / "dbt_utils" / "macros" / "sql" / "generate_series.sql",
            "generate_series(1,",
            "generate_series(0,",
        ),
        "shop/dbt_packages/dbt_utils/macros/sql/generate_series.sql changed",
        lambda seen: len(seen["numbers"]) == 4,
    ),
    (
        "an env var a model reads",
        None,  # DK_REUSE_TAG set in the environment of the next run
        "env DK_REUSE_TAG changed",
        lambda seen: seen["items"][0][2] == "blue",
    ),
    (
        "a model under models/logs/",
        lambda root: _edit(root / "shop" / "models" / "logs" / "logged.sql", "1 as n", "2 as n"),
        "shop/models/logs/logged.sql changed",
        lambda seen: seen["logged"] == [[2]],
    ),
    (
        "a macro in macro-paths: ../shared_macros",
        lambda root: _edit(root / "shared_macros" / "shout.sql", "upper(", "lower("),
        "shared_macros/shout.sql changed",
        lambda seen: seen["items"][0][1] == "annx",
    ),
]


def _drop_kept_templates(scope: str) -> None:
    """Drop the kept templates of ``scope`` (this test's project) from the shared server, and no other."""
    prefix = kept_template_name(scope, "")[: len(TEMPLATE_PREFIX) + 9]
    engine = server_engine("postgres_local")
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            names = conn.execute(text("SELECT datname FROM pg_database WHERE starts_with(datname, :p)"), {"p": prefix})
            for name in names.scalars().all():
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        engine.dispose()


@pytest.fixture
def kept_here(pytester: pytest.Pytester):  # type: ignore[no-untyped-def]
    yield
    for scope in {str(pytester.path), str(pytester.path.resolve())}:
        _drop_kept_templates(scope)


def test_a_change_to_any_input_rebuilds_the_kept_template_and_says_why(
    pytester: pytest.Pytester, run, monkeypatch: pytest.MonkeyPatch, kept_here: None
) -> None:
    pytester.makepyfile(**{"kits/shop/__init__": KIT, "helpers": HELPERS}, test_items=TESTS)
    pytester.makeconftest(CONFTEST)
    for name, body in PROJECT.items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    vendored.write_dbt_utils(pytester.path / "shop")
    monkeypatch.delenv("DK_REUSE_TAG", raising=False)
    args = ["--datakit-reuse", "--datakit-target", "postgres_local"]

    def seen() -> dict[str, list[list[object]]]:
        return json.loads((pytester.path / "seen.json").read_text())  # type: ignore[no-any-return]

    first = run(*args, ini=INI, timeout=600)
    first.assert_outcomes(passed=1)
    built = BUILT.search(first.stdout.str())
    assert built, first.stdout.str()
    assert seen() == {
        "items": [[1, "ANN", "none"], [2, "BO", "none"]],
        "logged": [[1]],
        "numbers": [[1, 0], [2, 0], [3, 0]],
    }

    unchanged = run(*args, ini=INI, timeout=600)  # nothing changed: cloned, no deploy, no fill, no dbt build
    unchanged.assert_outcomes(passed=1)
    cloned = CLONED.search(unchanged.stdout.str())
    assert cloned and cloned.group(1) == built.group(1), unchanged.stdout.str()

    for what, change, said, holds in CHANGES:
        if change is None:
            monkeypatch.setenv("DK_REUSE_TAG", "blue")
        else:
            change(pytester.path)
        result = run(*args, ini=INI, timeout=600)
        result.assert_outcomes(passed=1)
        rebuilt = BUILT.search(result.stdout.str())
        assert rebuilt, f"{what}: not rebuilt\n{result.stdout.str()}"
        assert rebuilt.group(2) == f" (rebuilt: {said})", what
        assert holds(seen()), (what, seen())

    again = run(*args, ini=INI, timeout=600)
    assert CLONED.search(again.stdout.str()), again.stdout.str()


def test_why_is_said_by_every_worker_of_the_run_that_saw_the_change_and_by_no_later_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    from pytest_datakits.reuse import _why

    config = SimpleNamespace(cache=None, rootpath=tmp_path)
    before, after = {"data/a.csv": "1", "helpers.py": "1"}, {"data/a.csv": "2", "helpers.py": "1", "data/b.csv": "1"}
    monkeypatch.setenv("PYTEST_XDIST_TESTRUNUID", "run1")
    assert _why(config, "A", before, []) == ""  # nothing recorded before: a first build
    monkeypatch.setenv("PYTEST_XDIST_TESTRUNUID", "run2")
    assert _why(config, "B", after, []) == "data/a.csv changed, data/b.csv added"
    assert _why(config, "B", after, []) == "data/a.csv changed, data/b.csv added"  # the run's other worker
    monkeypatch.setenv("PYTEST_XDIST_TESTRUNUID", "run3")
    assert _why(config, "B", after, []) == ""  # the same inputs in a later run: not what changed
    assert _why(config, "C", after, ["x.sql calls env_var with a computed name"]).startswith("not reusable: x.sql")
