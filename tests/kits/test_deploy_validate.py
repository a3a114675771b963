"""Deploy and validate the Pagila datakits on every target, for real; drift, idempotence, cleanup."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, inspect, text

from framework import (
    Database,
    DatakitDefinitionError,
    DeployError,
    cleanup_deployment,
    deploy_data_objects,
    load_datakit,
    validate_deployment,
)
from framework.engines.connect import physical_schema
from framework.engines.mysql import schema_database as mysql_schema_database

BRONZE = "br__pagila__public"


@pytest.fixture(scope="module")
def bronze():
    return load_datakit("pagila_bronze")


@pytest.fixture(scope="module")
def source():
    return load_datakit("pagila_source")


def test_bronze_deploys_and_validates(bronze, database: Database) -> None:
    result = deploy_data_objects(bronze, database)
    assert result.success
    assert len(result.created) == 15 and result.existing == []
    assert all(name.startswith(f"{BRONZE}.") for name in result.created)
    report = validate_deployment(bronze, database)
    assert report.success, report.summary()
    assert len(report.checked) == 16  # the 15 tables and the schema's dk_batches (framework.kits.current)
    assert sorted(result.current) == sorted([f"{BRONZE}.dk_batches", *(f"{t}__current" for t in result.created)])


def test_deploy_is_idempotent(bronze, database: Database) -> None:
    deploy_data_objects(bronze, database)
    again = deploy_data_objects(bronze, database)
    assert again.success and again.created == [] and len(again.existing) == 15
    assert validate_deployment(bronze, database).success


def test_source_deploys_and_validates_on_every_engine(source, database: Database) -> None:
    result = deploy_data_objects(source, database)
    assert result.success
    report = validate_deployment(source, database)
    assert report.success, report.summary()


def test_cleanup_drops_only_the_datakits_tables(bronze, database: Database) -> None:
    deploy_data_objects(bronze, database)
    engine = database.engine([BRONZE])
    with engine.begin() as conn:  # a table that is not the datakit's must survive the cleanup
        conn.execute(text(f"CREATE TABLE {_qualified(engine, 'bystander')} (id INTEGER PRIMARY KEY)"))
    dropped = cleanup_deployment(bronze, database)
    assert len(dropped.dropped) == 15
    names = inspect(engine).get_table_names(schema=physical_schema(engine, BRONZE))
    engine.dispose()
    assert names == ["bystander"]
    report = validate_deployment(bronze, database, report_extra_tables=False)
    assert {d.kind for d in report.drift} == {"missing_table"} and len(report.drift) == 16  # and dk_batches


def _qualified(engine, table: str) -> str:
    schema = physical_schema(engine, BRONZE)
    quote = "`" if engine.dialect.name == "mysql" else '"'
    return f"{quote}{schema}{quote}.{quote}{table}{quote}"


def _alter_first_name(engine, conn) -> None:
    """Widen actor.first_name to VARCHAR(100), in each engine's own DDL."""
    table = _qualified(engine, "actor")
    kind = engine.dialect.name
    if kind == "postgresql":
        conn.execute(text(f"ALTER TABLE {table} ALTER COLUMN first_name TYPE VARCHAR(100)"))
    elif kind == "mysql":
        conn.execute(text(f"ALTER TABLE {table} MODIFY first_name VARCHAR(100) NOT NULL"))
    else:  # SQLite cannot alter a column: rebuild the table from its own DDL
        ddl = conn.execute(text(f"SELECT sql FROM \"{BRONZE}\".sqlite_master WHERE name = 'actor'")).scalar()
        conn.execute(text(f"DROP TABLE {table}"))
        ddl = re.sub(r"first_name \w+(\(\d+\))?", "first_name VARCHAR(100)", ddl, count=1)
        conn.execute(text(ddl.replace("CREATE TABLE ", f'CREATE TABLE "{BRONZE}".', 1)))
        conn.execute(text(f'CREATE INDEX "{BRONZE}".ix_br_actor_dk_batch_id ON actor (dk_batch_id)'))


def test_drift_is_reported_precisely(bronze, database: Database) -> None:
    deploy_data_objects(bronze, database)
    engine = database.engine([BRONZE])
    kind = engine.dialect.name
    with engine.begin() as conn:
        # a view holds its columns' types on PostgreSQL: a migration drops the current-state view first
        conn.execute(text(f"DROP VIEW {_qualified(engine, 'actor__current')}"))
        _alter_first_name(engine, conn)
        on = f" ON {_qualified(engine, 'film')}" if kind == "mysql" else ""
        index = (
            "ix_br_film_dk_batch_id"
            if kind == "mysql"
            else f'"{physical_schema(engine, BRONZE)}".ix_br_film_dk_batch_id'
        )
        conn.execute(text(f"DROP INDEX {index}{on}"))
        conn.execute(text(f"ALTER TABLE {_qualified(engine, 'category')} ADD COLUMN note VARCHAR(10)"))
    engine.dispose()
    report = validate_deployment(bronze, database)
    assert not report.success
    found = {(d.table, d.kind, d.column) for d in report.drift}
    assert (f"{BRONZE}.actor", "type", "first_name") in found, report.summary()
    assert (f"{BRONZE}.film", "missing_index", None) in found, report.summary()
    assert (f"{BRONZE}.category", "extra_column", "note") in found, report.summary()
    type_drift = next(d for d in report.drift if d.kind == "type")
    assert type_drift.actual == "VARCHAR(100)" and type_drift.expected in ("TEXT", "VARCHAR(45)")
    assert (f"{BRONZE}.actor__current", "missing_view", None) in found, report.summary()
    assert len(report.drift) == 4, report.summary()
    deploy_data_objects(bronze, database)  # the view comes back, with the table's columns
    again = {(d.table, d.kind) for d in validate_deployment(bronze, database).drift}
    assert (f"{BRONZE}.actor__current", "missing_view") not in again and len(again) == 3


def test_nullability_and_primary_key_drift(bronze, database: Database) -> None:
    if database.engine_name == "sqlite":
        pytest.skip("SQLite cannot alter a column's nullability in place; covered on the servers")
    deploy_data_objects(bronze, database)
    engine = database.engine([BRONZE])
    table = _qualified(engine, "language")
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"ALTER TABLE {table} ALTER COLUMN name DROP NOT NULL"))
            conn.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT language_pkey"))
        else:
            conn.execute(text(f"ALTER TABLE {table} MODIFY name VARCHAR(20) NULL"))
            conn.execute(text(f"ALTER TABLE {table} DROP PRIMARY KEY"))
    engine.dispose()
    kinds = {(d.kind, d.column) for d in validate_deployment(bronze, database).drift if d.table.endswith("language")}
    assert ("nullable", "name") in kinds and ("primary_key", None) in kinds


def test_missing_and_extra_tables(bronze, database: Database) -> None:
    deploy_data_objects(bronze, database)
    engine = database.engine([BRONZE])
    with engine.begin() as conn:
        conn.execute(text(f"DROP VIEW {_qualified(engine, 'store__current')}"))  # it holds the table on PostgreSQL
        conn.execute(text(f"DROP TABLE {_qualified(engine, 'store')}"))
        conn.execute(text(f"CREATE TABLE {_qualified(engine, 'stray')} (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    drift = {(d.table, d.kind) for d in validate_deployment(bronze, database).drift}
    assert drift == {(f"{BRONZE}.store", "missing_table"), (f"{BRONZE}.stray", "extra_table")}


def test_a_type_the_engine_cannot_hold_is_one_clear_error(tmp_path, database: Database) -> None:
    kit = tmp_path / "arraykit_mod.py"
    kit.write_text(
        "import sqlalchemy as sa\nfrom sqlmodel import Field, SQLModel\n"
        "class ArrayThing(SQLModel, table=True):\n"
        "    id: int = Field(primary_key=True)\n"
        "    tags: list[str] = Field(sa_type=sa.ARRAY(sa.Text))\n"
    )
    tables = load_datakit(kit)
    if database.engine_name == "postgresql":
        assert deploy_data_objects(tables, database).success
        return
    with pytest.raises(DatakitDefinitionError, match=r"array_thing\.tags|arraything\.tags"):
        deploy_data_objects(tables, database)


def test_mysql_schema_names_fit_64_characters() -> None:
    name = mysql_schema_database("dk_0123abcd_gw12", "s" * 80)
    assert len(name) == 64 and name.startswith("dk_0123abcd_gw12__sss")
    assert mysql_schema_database("dk_0123abcd_gw12", "s" * 80) == name  # stable
    assert mysql_schema_database("db", "br__pagila__public") == "db__br__pagila__public"


def test_pagila_source_validates_clean_against_the_real_pagila(source, pagila_database: Database) -> None:
    report = validate_deployment(source, pagila_database)
    assert report.success, report.summary()
    assert len(report.checked) == 15
    engine = pagila_database.engine()
    with engine.connect() as conn:  # it really is the loaded dump, partitions and all
        assert conn.execute(text("SELECT count(*) FROM rental")).scalar() == 16044
        assert conn.execute(text("SELECT count(*) FROM payment")).scalar() == 16049
    engine.dispose()


def test_real_pagila_drift_is_seen(source, pagila_database: Database, servers) -> None:
    _, run = servers.get("postgres_local")
    copy = run.create_database("pagila_drift", template=pagila_database)
    engine = copy.engine()
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX idx_title"))
        conn.execute(text("ALTER TABLE staff ALTER COLUMN username TYPE varchar(40)"))
    engine.dispose()
    try:
        drift = {(d.table, d.kind, d.column) for d in validate_deployment(source, copy).drift}
        assert drift == {("film", "missing_index", None), ("staff", "type", "username")}
    finally:
        run.drop(copy)


@pytest.mark.parametrize("target_name", ["sqlite_memory", "postgres_local", "mysql_local"])
def test_refused_ddl_raises_with_the_target_and_tables(database: Database) -> None:
    """A deploy that returns is a success; DDL the database refuses is a DeployError with context."""
    bad = Table(
        "dk_refused",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("n", Integer, server_default=text("no_such_function(")),
    )
    with pytest.raises(DeployError) as caught:
        deploy_data_objects([bad], database)
    error = caught.value
    assert error.target == database.safe_url and error.tables == ["dk_refused"]
    message = str(error)
    assert message.startswith(f"{database.safe_url}: the database refused the DDL: ") and "\n" not in message
