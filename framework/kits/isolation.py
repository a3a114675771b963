"""Keep tests apart inside one database: roll a test back, or empty the tables after it.

``rolled_back`` is SQLAlchemy's recipe for joining a session into an external transaction: the
test's work happens in one outer transaction that is rolled back at the end, and a session bound
to the connection with ``join_transaction_mode="create_savepoint"`` turns the code under test's
``commit()`` and ``rollback()`` into savepoints inside it. ``empty_tables`` is for tests that
really commit. ``deploy_in_transaction`` creates tables inside the test's own transaction, where
the engine's DDL is transactional (PostgreSQL, SQLite), so they go away with the rollback.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import Table
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from ..engines import engine_kind
from ..engines.urls import safe_url
from ..errors import DeployError
from .current import DEFAULT_BATCHES, batches_table, bronze_tables, deploy_current
from .deploy import DeployResult, Tables, as_tables, check_types, refused


@contextmanager
def rolled_back(engine: Engine, tables: Iterable[Table] = ()) -> Iterator[Connection]:
    """A connection in a transaction that is rolled back at the end.

    Should the test commit the connection itself (``connection.commit()``), ``tables`` are
    emptied afterwards instead, so the next test still starts from empty tables.
    """
    connection = engine.connect()
    try:
        transaction = connection.begin()
    except BaseException:
        connection.close()
        raise
    try:
        yield connection
    finally:
        outer_ended = not transaction.is_active
        try:
            if transaction.is_active:
                transaction.rollback()
        finally:
            connection.close()
        if outer_ended:
            empty_tables(engine, tables)


@contextmanager
def committed(engine: Engine, tables: Iterable[Table] = ()) -> Iterator[Connection]:
    """A plain connection (the test commits as it likes); ``tables`` are emptied at the end."""
    connection = engine.connect()
    try:
        yield connection
    finally:
        try:
            connection.rollback()
        finally:
            connection.close()
            empty_tables(engine, tables)


def empty_tables(engine: Engine, tables: Iterable[Table]) -> None:
    """Delete every row of ``tables`` in one transaction, whatever their foreign keys (and their batch records)."""
    found = list(dict.fromkeys(tables))
    found += [batches_table(s) for s in dict.fromkeys(t.schema for t in bronze_tables(found))]
    if not found:
        return
    with engine.begin() as conn:
        engine_kind(engine.dialect.name).empty_tables(conn, found)


def deploy_in_transaction(tables: Tables, connection: Connection) -> DeployResult:
    """Create the tables (and PostgreSQL schemas) through ``connection``, inside its transaction.

    Only for engines whose DDL is transactional; on SQLite the tables' schemas must already be
    attached to the connection (an attach cannot happen inside a transaction).
    """
    table_list = as_tables(tables)
    kind = engine_kind(connection.dialect.name)
    label = safe_url(connection.engine.url)
    if not kind.transactional_ddl:
        raise DeployError(f"{label}: {kind.name} commits DDL at once; it cannot be deployed inside a transaction")
    check_types(table_list, connection.engine)
    schemas = sorted({t.schema for t in table_list if t.schema})
    attached = kind.connected_schemas(connection)
    if attached is not None:
        missing = [s for s in schemas if s not in attached]
        if missing:
            raise DeployError(
                f"{label}: schema {missing[0]!r} is not on this connection; {kind.label} takes "
                "its schemas when the engine is made (SQLite attaches them), so deploy this datakit before the test"
            )
    before = {t.fullname for t in table_list if connection.dialect.has_table(connection, t.name, schema=t.schema)}
    try:
        with connection.begin_nested():
            kind.create_schemas(connection, connection.engine.url.database or "", schemas)
            table_list[0].metadata.create_all(connection, tables=table_list, checkfirst=True)
            current = deploy_current(connection, connection.engine, table_list, DEFAULT_BATCHES)
    except DBAPIError as exc:
        raise refused(exc, label, table_list) from None
    created = [t.fullname for t in table_list if t.fullname not in before]
    return DeployResult(label, created, sorted(before), current=current)
