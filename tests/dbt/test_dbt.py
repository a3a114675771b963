"""dbt on disposable targets, for real: the real Pagila through bronze, silver and gold.

Per target (``postgres_embedded``, ``postgres_local``), once per module: the real Pagila loaded into
bronze with ``load_datakit_tables`` (``BulkDataLoader``), then ``run_dbt(..., ("build",))``. Then:
every node passes, the counts, ``validate_deployment`` of the silver and gold datakits, drift made
by hand, a second batch of the same rows (dedup) and a third that moves one customer (SCD2). A
small project of its own checks the errors: a missing project, a broken model, a failing test,
dbt on SQLite, and the same run in a child process.
"""

from __future__ import annotations

import hashlib
import shutil
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from framework import Database, DbtError, DbtResult, deploy_data_objects, load_datakit, run_dbt, validate_deployment
from framework.cli.main import main
from framework.loading.loader import BulkDataLoader, load_datakit_tables

PROJECT = Path(__file__).resolve().parents[2] / "dbt" / "pagila_warehouse"
TARGETS = ["postgres_embedded", "postgres_local"]
SILVER_TABLES = [t.name for t in load_datakit("pagila_silver").tables]


@dataclass
class Warehouse:
    database: Database
    build: DbtResult
    state: Path

    def dbt(self, *args: str, **kwargs: Any) -> DbtResult:
        return run_dbt(PROJECT, self.database, args or ("build",), state_dir=self.state, **kwargs)

    def scalar(self, sql: str) -> Any:
        engine = self.database.engine()
        try:
            with engine.connect() as conn:
                return conn.execute(text(sql)).scalar()
        finally:
            engine.dispose()

    def rows(self, sql: str) -> list[Any]:
        engine = self.database.engine()
        try:
            with engine.connect() as conn:
                return list(conn.execute(text(sql)))
        finally:
            engine.dispose()


def _url(database: Database) -> str:
    return database.url.render_as_string(hide_password=False)


def _load(pagila: Database, bronze: Database, batch_id: str, **kwargs: Any) -> None:
    results = load_datakit_tables(
        "pagila_source", "pagila_bronze", source=pagila, target=bronze, batch_id=batch_id, **kwargs
    )
    assert all(r.success for r in results), [r.error for r in results if not r.success]


@pytest.fixture(scope="module", params=TARGETS)
def warehouse(
    request: pytest.FixtureRequest, servers, pagila_database: Database, tmp_path_factory
) -> Iterator[Warehouse]:
    """The real Pagila in bronze (batch b1) and silver and gold built by dbt, once per target."""
    _, run = servers.get(request.param)
    database = run.create_database("dbt_wh")
    try:
        deploy_data_objects(load_datakit("pagila_bronze"), database)
        _load(pagila_database, database, "b1", workers=2)
        state = tmp_path_factory.mktemp(f"dbt_{request.param}")
        build = run_dbt(PROJECT, database, ("build",), state_dir=state)
        yield Warehouse(database, build, state)
    finally:
        run.drop(database)


def test_the_real_pagila_builds_with_every_node_passing(warehouse: Warehouse) -> None:
    result = warehouse.build
    assert result.success and not result.failed
    counts = result.counts()
    assert counts["model"] == {"success": 22}  # 15 silver + 5 dimensions + 2 facts (customer_profile is ephemeral)
    assert counts["snapshot"] == {"success": 1}
    assert counts["unit_test"] == {"pass": 3}
    assert set(counts["test"]) == {"pass"} and sum(counts["test"].values()) >= 60
    assert result.node("fact_rental").rows_affected == 16_044


def test_counts_follow_the_source(warehouse: Warehouse, pagila_database: Database) -> None:
    assert warehouse.scalar("SELECT count(*) FROM gold.fact_rental") == 16_044
    assert warehouse.scalar("SELECT count(*) FROM gold.dim_customer WHERE is_current") == 599
    assert warehouse.scalar("SELECT count(DISTINCT customer_id) FROM gold.dim_customer") == 599
    assert warehouse.scalar("SELECT count(*) FROM gold.fact_payment") == 16_049
    engine = pagila_database.engine()
    try:
        with engine.connect() as conn:
            source = {t: conn.execute(text(f"SELECT count(*) FROM public.{t}")).scalar() for t in SILVER_TABLES}
    finally:
        engine.dispose()
    silver = {t: warehouse.scalar(f"SELECT count(*) FROM silver.{t}") for t in SILVER_TABLES}
    assert silver == source
    paid = warehouse.scalar("SELECT sum(amount) FROM gold.fact_payment")
    assert warehouse.scalar("SELECT sum(amount) FROM gold.fact_rental") == paid


def test_the_warehouse_matches_its_datakits(warehouse: Warehouse) -> None:
    for name in ("pagila_silver", "pagila_gold"):
        report = validate_deployment(load_datakit(name), warehouse.database)
        assert report.success, report.summary()
        assert len(report.checked) == {"pagila_silver": 15, "pagila_gold": 7}[name]


def test_a_type_changed_by_hand_is_reported_by_validate(warehouse: Warehouse) -> None:
    engine = warehouse.database.engine()
    try:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE gold.fact_payment ALTER COLUMN amount TYPE numeric(12, 4)"))
        report = validate_deployment(load_datakit("pagila_gold"), warehouse.database)
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE gold.fact_payment ALTER COLUMN amount TYPE numeric(5, 2)"))
    finally:
        engine.dispose()
    assert not report.success
    assert [str(d) for d in report.drift] == ["gold.fact_payment.amount: type is NUMERIC(12,4), expected NUMERIC(5,2)"]


def test_a_model_whose_type_changed_fails_its_contract(warehouse: Warehouse, tmp_path: Path) -> None:
    project = tmp_path / "pagila_warehouse"
    shutil.copytree(PROJECT, project)
    model = project / "models" / "gold_facts" / "fact_payment.sql"
    model.write_text(model.read_text().replace("    amount\n", "    amount::text as amount\n"))
    with pytest.raises(DbtError) as caught:
        run_dbt(project, warehouse.database, ("run",), select="fact_payment", state_dir=tmp_path / "state")
    message = str(caught.value)
    assert "\n" not in message
    assert "model fact_payment error" in message and "contract" in message.lower()
    assert (
        "amount: TEXT in the model, NUMERIC in the contract (data type mismatch)" in message
    )  # issue 18: the database's names
    # the contract stopped it before it touched the table
    assert (
        warehouse.scalar(
            "SELECT data_type FROM information_schema.columns WHERE table_schema = 'gold' "
            "AND table_name = 'fact_payment' AND column_name = 'amount'"
        )
        == "numeric"
    )


def _silver_digest(warehouse: Warehouse) -> dict[str, str]:
    digests = {}
    for table in SILVER_TABLES:
        rows = warehouse.rows(f"SELECT t::text FROM silver.{table} AS t ORDER BY 1")
        digests[table] = hashlib.sha256("\n".join(r[0] for r in rows).encode()).hexdigest()
    return digests


def _moved(address_id: int):
    def move(row: dict[str, Any]) -> dict[str, Any]:
        if row["customer_id"] == 1:
            row["address_id"] = address_id
        return row

    return move


def test_batches_dedup_and_a_moved_customer_gets_a_second_version(
    warehouse: Warehouse, pagila_database: Database
) -> None:
    """Runs last on its warehouse: it adds batches b2 (the same rows) and b3 (customer 1 moved).

    The move is made as batch b3 is loaded (a transform), not in the source database, which the
    session's other tests share.
    """
    before = _silver_digest(warehouse)
    _load(pagila_database, warehouse.database, "b2", workers=2)
    assert warehouse.scalar("SELECT count(DISTINCT dk_batch_id) FROM br__pagila__public.rental") >= 2
    warehouse.dbt("build", select="silver_core")
    assert _silver_digest(warehouse) == before  # two batches of the same rows: the same silver as one

    old = warehouse.rows(
        "SELECT address_id, address FROM silver.customer JOIN silver.address USING (address_id) WHERE customer_id = 1"
    )[0]
    new_address = warehouse.scalar(
        f"SELECT min(address_id) FROM silver.address WHERE address_id <> {old[0]} "
        "AND address_id NOT IN (SELECT address_id FROM silver.customer)"
    )
    from datakits.pagila_bronze.models import Customer as BronzeCustomer
    from datakits.pagila_source.models import Customer as SourceCustomer

    with BulkDataLoader(pagila_database, warehouse.database) as loader:
        assert loader.load(SourceCustomer, BronzeCustomer, transform=_moved(new_address), batch_id="b3").success
    versions_before = warehouse.scalar("SELECT count(*) FROM gold.dim_customer")
    warehouse.dbt("build", select="+dim_customer")

    rows = warehouse.rows(
        "SELECT address, valid_to IS NOT NULL, is_current, valid_from, valid_to "
        "FROM gold.dim_customer WHERE customer_id = 1 ORDER BY valid_from"
    )
    assert len(rows) == 2
    (old_address, old_closed, old_current, _, old_to), (new_addr, new_closed, new_current, new_from, _) = rows
    assert (old_address, old_closed, old_current) == (old[1], True, False)
    assert (new_closed, new_current) == (False, True) and new_addr != old_address
    assert old_to == new_from
    assert warehouse.scalar("SELECT count(*) FROM gold.dim_customer") == versions_before + 1
    assert warehouse.scalar("SELECT count(*) FROM gold.dim_customer WHERE is_current") == 599
    assert (
        warehouse.scalar(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM gold.dim_customer "
            "WHERE customer_id <> 1 GROUP BY customer_id) AS c"
        )
        == 1
    )


# --- a small project of its own: errors, and the same run in a child process ---------------------

SMALL = {
    "dbt_project.yml": """
        name: small
        version: "1.0.0"
        config-version: 2
        profile: small
        models:
          small:
            +materialized: table
        flags:
          send_anonymous_usage_stats: false
    """,
    "models/numbers.sql": "select n from generate_series(1, 3) as n",
    "models/numbers.yml": """
        models:
          - name: numbers
            columns:
              - name: n
                data_tests: [unique, not_null]
    """,
}


def small_project(folder: Path, **files: str) -> Path:
    for name, body in {**SMALL, **files}.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body).lstrip())
    return folder


@pytest.fixture(scope="module")
def small_db(servers) -> Iterator[Database]:
    _, run = servers.get("postgres_local")
    database = run.create_database("dbt_small")
    yield database
    run.drop(database)


def test_a_small_project_builds_in_process_and_in_a_child_process(small_db: Database, tmp_path: Path) -> None:
    project = small_project(tmp_path / "small")
    here = run_dbt(project, small_db, state_dir=tmp_path / "state")
    child = run_dbt(project, _url(small_db), state_dir=tmp_path / "state", subprocess=True)  # a URL will do
    for result in (here, child):
        assert result.counts() == {"model": {"success": 1}, "test": {"pass": 2}}
        assert result.node("numbers").rows_affected == 3
    assert "postgres@" in here.database and "***" not in here.database  # no password on this server


def test_a_missing_project_is_one_line(small_db: Database, tmp_path: Path) -> None:
    with pytest.raises(DbtError, match=r"^dbt project .*nowhere does not exist \(no dbt_project.yml there\)"):
        run_dbt(tmp_path / "nowhere", small_db)


def test_a_broken_model_is_one_line_naming_it(small_db: Database, tmp_path: Path) -> None:
    project = small_project(tmp_path / "small", **{"models/broken.sql": "select n frm {{ ref('numbers') }}"})
    with pytest.raises(DbtError) as caught:
        run_dbt(project, small_db, state_dir=tmp_path / "state")
    message = str(caught.value)
    assert "\n" not in message
    assert "model broken error" in message and "syntax error" in message
    assert caught.value.result is not None and caught.value.result.node("numbers").status == "success"


def test_a_model_that_does_not_compile_is_one_line(small_db: Database, tmp_path: Path) -> None:
    project = small_project(tmp_path / "small", **{"models/broken.sql": "select * from {{ ref('nothing_here') }}"})
    with pytest.raises(DbtError) as caught:
        run_dbt(project, small_db, state_dir=tmp_path / "state")
    message = str(caught.value)
    assert "\n" not in message and "nothing_here" in message and "broken" in message


def test_a_failing_test_is_one_line_naming_it(small_db: Database, tmp_path: Path) -> None:
    project = small_project(
        tmp_path / "small", **{"tests/no_three.sql": "select n from {{ ref('numbers') }} where n = 3"}
    )
    with pytest.raises(DbtError) as caught:
        run_dbt(project, small_db, state_dir=tmp_path / "state")
    message = str(caught.value)
    assert "\n" not in message
    assert "test no_three fail: Got 1 result, configured to fail if != 0" in message
    assert list(caught.value.failures) == ["test.small.no_three"]
    unchecked = run_dbt(project, small_db, state_dir=tmp_path / "state", check=False)
    assert not unchecked.success and [n.name for n in unchecked.failed] == ["no_three"]


def test_dbt_on_sqlite_names_the_postgresql_targets(tmp_path: Path) -> None:
    sqlite = Database(make_url(f"sqlite:///{tmp_path / 'x.db'}"))
    with pytest.raises(DbtError) as caught:
        run_dbt(PROJECT, sqlite)
    assert str(caught.value).startswith("dbt here runs on PostgreSQL targets (postgres_embedded, postgres_local, ")
    assert str(caught.value).endswith("is sqlite")


def test_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    nowhere = Database(make_url("postgresql+psycopg2://someone:secret@127.0.0.1:1/nothing"))
    with pytest.raises(DbtError) as caught:
        run_dbt(small_project(tmp_path / "small"), nowhere, state_dir=tmp_path / "state")
    message = str(caught.value)
    assert "\n" not in message and "secret" not in message
    assert "someone:***@127.0.0.1:1/nothing" in message


# --- datakits dbt ---------------------------------------------------------------------------------


def test_cli_the_repository_yaml_matches_its_datakits(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dbt", "sources", "pagila_bronze", "--project", str(PROJECT), "--check"]) == 0
    for kit in ("pagila_silver", "pagila_gold"):
        assert main(["dbt", "contracts", kit, "--project", str(PROJECT), "--check"]) == 0
    out = capsys.readouterr().out
    assert "match the datakit pagila_silver" in out and "match the datakit pagila_gold" in out


def test_cli_contracts_check_lists_the_differences_and_contracts_writes_them_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "pagila_warehouse"
    shutil.copytree(PROJECT, project)
    facts = project / "models" / "gold_facts" / "_gold_facts__models.yml"
    facts.write_text(facts.read_text().replace("data_type: numeric(8,2)", "data_type: numeric(9,2)", 1))
    (project / "models" / "gold_dimensions" / "_gold_dimensions__models.yml").unlink()
    assert main(["dbt", "contracts", "pagila_gold", "--project", str(project), "--check"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("2 file(s) differ from the datakit pagila_gold:")
    assert "-    data_type: numeric(9,2)\n+    data_type: numeric(8,2)" in out
    assert f"run: datakits dbt contracts pagila_gold --project {project}" in out
    assert main(["dbt", "contracts", "pagila_gold", "--project", str(project)]) == 0
    assert "2 file(s) written from pagila_gold" in capsys.readouterr().out
    assert main(["dbt", "contracts", "pagila_gold", "--project", str(project), "--check"]) == 0


def test_cli_sources_prints_or_writes_the_datakits_sources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dbt", "sources", "pagila_bronze"]) == 0
    printed = capsys.readouterr().out
    assert printed == (PROJECT / "models" / "_pagila_bronze__sources.yml").read_text()
    target = tmp_path / "sources.yml"
    assert main(["dbt", "sources", "pagila_bronze", "--output", str(target), "--check"]) == 1
    assert main(["dbt", "sources", "pagila_bronze", "--output", str(target)]) == 0
    assert target.read_text() == printed


def test_cli_build_prints_a_line_per_node_and_a_summary(small_db: Database, tmp_path: Path, capsys) -> None:
    project = small_project(tmp_path / "small")
    assert main(["dbt", "build", "--project", str(project), "--target", _url(small_db)]) == 0
    captured = capsys.readouterr()
    assert "model     numbers" in captured.err and "3 rows" in captured.err
    lines = captured.out.splitlines()
    assert lines[0].split() == ["resource", "nodes", "ok", "failed", "skipped", "seconds"]
    assert lines[2].split()[:5] == ["model", "1", "1", "0", "0"]
    assert lines[3].split()[:5] == ["test", "2", "2", "0", "0"]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"models/broken.sql": "select n frm {{ ref('numbers') }}"}, "model broken error"),
        ({"tests/no_three.sql": "select n from {{ ref('numbers') }} where n = 3"}, "test no_three fail"),
    ],
    ids=["broken-model", "failing-test"],
)
def test_cli_build_failures_are_one_line_and_exit_2(
    small_db: Database, tmp_path: Path, capsys, files, expected
) -> None:
    project = small_project(tmp_path / "small", **files)
    assert main(["dbt", "build", "--project", str(project), "--target", _url(small_db)]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("datakits: dbt build on ") and expected in error


def test_cli_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dbt", "build", "--project", str(tmp_path / "nowhere"), "--target", "postgres_local"]) == 2
    assert main(["dbt", "build", "--project", str(PROJECT), "--target", "sqlite_memory"]) == 2
    assert main(["dbt", "contracts", "pagila_gold", "--project", str(tmp_path)]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    missing = "does not exist (no dbt_project.yml there); give the project's folder"
    assert errors == [
        f"datakits: dbt project {tmp_path / 'nowhere'} {missing}",
        "datakits: dbt here runs on PostgreSQL targets (postgres_embedded, postgres_local, postgres_process, "
        "postgres_container or a postgresql:// URL); sqlite_memory is sqlite",
        f"datakits: dbt project {tmp_path} {missing}",
    ]


def test_cli_sources_current_reads_each_bronze_tables_current_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dbt", "sources", "pagila_bronze", "--current"]) == 0
    printed = capsys.readouterr().out
    assert "  - name: actor\n    identifier: actor__current\n" in printed and printed.count("identifier:") == 15
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: p\nprofile: p\n")
    own = project / "models" / "sources.yml"
    own.write_text(  # the project's own entry: a comment, an identifier of its own on one table
        "version: 2\nsources:\n  - name: pagila_bronze  # bronze\n    tables:\n"
        "      - name: actor\n        description: the actors\n      - name: film\n        identifier: film_v2\n"
    )
    assert main(["dbt", "sources", "pagila_bronze", "--project", str(project), "--current"]) == 0
    edited = own.read_text()
    assert "      - name: actor\n        identifier: actor__current\n        description: the actors\n" in edited
    assert "identifier: film_v2" not in edited and "identifier: film__current" in edited
    assert "# bronze" in edited
    assert main(["dbt", "sources", "pagila_bronze", "--project", str(project), "--current", "--check"]) == 0
    assert main(["dbt", "sources", "pagila_bronze", "--project", str(project), "--check"]) == 1
    assert main(["dbt", "sources", "pagila_bronze", "--project", str(project)]) == 0  # back to the history
    assert "__current" not in own.read_text() and "description: the actors" in own.read_text()
