"""A name longer than the engine keeps is refused at deploy, in one line, before any DDL."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Index, Integer, MetaData, Table, inspect

from framework import Database, deploy_data_objects
from framework.engines.identifiers import NAME_LIMITS
from framework.errors import DatakitDefinitionError


def _tables(engine: str, where: str) -> list[Table]:
    long = "n" * (NAME_LIMITS[engine] + 1)
    metadata = MetaData()
    if where == "column":
        return [Table("t", metadata, Column("id", Integer, primary_key=True), Column(long, Integer))]
    if where == "table":
        return [Table(long, metadata, Column("id", Integer, primary_key=True))]
    if where == "schema":
        return [Table("t", metadata, Column("id", Integer, primary_key=True), schema=long)]
    table = Table("t", metadata, Column("id", Integer, primary_key=True), Column("v", Integer))
    Index(long, table.c.v)
    return [table]


# MySQL keeps a schema as a database whose name is shortened to fit (framework.engines.connect): no limit there
CASES = [("postgres_local", w) for w in ("column", "table", "index", "schema")]
CASES += [("mysql_local", w) for w in ("column", "table", "index")]


@pytest.mark.parametrize(("target_name", "where"), CASES)
def test_a_name_over_the_engines_limit_is_refused(database: Database, where: str) -> None:
    tables = _tables(database.engine_name, where)
    with pytest.raises(DatakitDefinitionError, match=f"{where} name 'nnn+' is .*shorten it"):
        deploy_data_objects(tables, database)
    engine = database.engine()
    try:
        assert inspect(engine).get_table_names() == []  # nothing was created
    finally:
        engine.dispose()
