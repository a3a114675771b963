"""Identifiers quoted by the dialect's own rules in hand-built SQL.

SQLAlchemy quotes what it compiles (tables, columns, ``CreateSchema``). The few statements it
has no construct for (``CREATE DATABASE``, ``DROP DATABASE``, ``ATTACH``) are built here, with
the quote characters and escape rule of the dialect's ``IdentifierPreparer``, and run through
``exec_driver_sql`` with ``no_parameters``, so the driver leaves ``%`` and ``:`` in a name alone.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection, Dialect, Engine


def quote_identifier(dialect: Dialect, name: str) -> str:
    """``name`` quoted as the dialect quotes identifiers, its quote characters escaped."""
    preparer = dialect.identifier_preparer
    escaped = name.replace(preparer.escape_quote, preparer.escape_to_quote)
    return f"{preparer.initial_quote}{escaped}{preparer.final_quote}"


def execute_ddl(bind: Engine | Connection, statement: str) -> None:
    """Run one statement built with ``quote_identifier`` (no parameters: nothing is substituted)."""
    if isinstance(bind, Connection):
        bind.execution_options(no_parameters=True).exec_driver_sql(statement)
        return
    with bind.connect() as conn:
        conn.execution_options(no_parameters=True).exec_driver_sql(statement)
