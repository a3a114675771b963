"""Temporal tables: history tables with the tracked columns' own types, and PostgreSQL triggers, for real."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, Numeric, Table, Text, inspect, select, text
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, Session, SQLModel

from framework import Database, cleanup_deployment, deploy_data_objects, validate_deployment
from framework.errors import DatakitDefinitionError
from framework.kits.mixins import TIMESTAMPTZ
from framework.kits.temporal import (
    HISTORY_METADATA,
    TemporalMixin,
    history_of,
    history_table,
    temporal_exclude,
    track_history,
    tracked_columns,
)

TEXT_ARRAY = JSON(none_as_null=True).with_variant(postgresql.ARRAY(Text()), "postgresql")


class DktTemporalAccount(TemporalMixin, SQLModel, table=True):
    """A tracked table: ``seen_at`` and ``note`` are excluded from the history."""

    __tablename__ = "dkt_temporal_account"

    account_id: int | None = Field(default=None, primary_key=True)
    owner: str = Field(sa_type=Text)
    balance: Decimal = Field(default=Decimal("0.00"), sa_type=Numeric(10, 2))
    tags: list[str] | None = Field(default=None, sa_type=TEXT_ARRAY)
    profile: dict[str, int] | None = Field(default=None, sa_type=JSON)  # json has no "=" on PostgreSQL
    seen_at: datetime | None = Field(default=None, sa_type=TIMESTAMPTZ, sa_column_kwargs=temporal_exclude())
    note: str | None = Field(default=None, sa_type=Text, sa_column_kwargs=temporal_exclude(comment="free text"))


def _table() -> Table:
    return DktTemporalAccount.__table__  # type: ignore[attr-defined,no-any-return]


def test_history_table_copies_the_tracked_types_without_keys() -> None:
    table, history = _table(), history_of(DktTemporalAccount)
    assert history is history_table(table) is table.info["temporal_history"]
    assert history.name == "dkt_temporal_account_history" and history.metadata is HISTORY_METADATA
    assert history.schema == table.schema
    assert [c.name for c in history.columns] == [
        "history_id",
        "account_id",
        "owner",
        "balance",
        "tags",
        "profile",
        "operation",
        "valid_from",
        "valid_to",
    ]
    assert [c.name for c in history.primary_key.columns] == ["history_id"]
    for column in tracked_columns(table):
        assert history.c[column.name].type is column.type  # the very type, not a placeholder
        assert history.c[column.name].nullable and history.c[column.name].server_default is None
    assert [c.name for c in tracked_columns(table)] == ["account_id", "owner", "balance", "tags", "profile"]
    assert table.c.note.comment == "free text" and table.c.note.info["temporal_exclude"] is True
    assert DktTemporalAccount.__table__.name not in {t.name for t in HISTORY_METADATA.sorted_tables}  # type: ignore[attr-defined]


def test_a_history_column_name_in_the_tracked_table_is_refused() -> None:
    clash = Table("dkt_temporal_clash", MetaData(), Column("id", Integer, primary_key=True), Column("operation", Text))
    with pytest.raises(DatakitDefinitionError, match="operation"):
        track_history(clash)


def _history(conn) -> list[tuple]:
    history = history_table(_table())
    rows = conn.execute(
        select(
            history.c.account_id, history.c.owner, history.c.balance, history.c.operation, history.c.valid_to
        ).order_by(history.c.history_id)
    ).all()
    return [(r.account_id, r.owner, r.balance, r.operation, r.valid_to is None) for r in rows]


@pytest.mark.parametrize("target_name", ["postgres_local"])
def test_postgres_triggers_write_the_history(database: Database) -> None:
    result = deploy_data_objects([DktTemporalAccount], database)
    assert result.success
    engine = database.engine()
    try:
        names = set(inspect(engine).get_table_names())
        assert {"dkt_temporal_account", "dkt_temporal_account_history"} <= names
        with Session(engine) as session:
            account = DktTemporalAccount(owner="ann", balance=Decimal("10.00"), tags=["a"])
            session.add(account)
            session.commit()
            key = account.account_id
            with engine.connect() as conn:
                assert _history(conn) == [(key, "ann", Decimal("10.00"), "I", True)]

            account.balance = Decimal("12.50")
            session.commit()
            account.seen_at = datetime(2024, 1, 1)  # excluded only: no history
            account.note = "called"
            session.commit()
            account.tags = ["a", "b"]  # an array change is a change
            session.commit()
            account.profile = {"k": 1}  # and so is a json change
            session.commit()
            with engine.connect() as conn:
                assert _history(conn) == [
                    (key, "ann", Decimal("10.00"), "I", False),
                    (key, "ann", Decimal("12.50"), "U", False),
                    (key, "ann", Decimal("12.50"), "U", False),
                    (key, "ann", Decimal("12.50"), "U", True),
                ]
                # an UPDATE that sets tracked columns to the values they have is no change either
                conn.execute(text("UPDATE dkt_temporal_account SET owner = owner, profile = profile, note = 'again'"))
                conn.commit()
                assert len(_history(conn)) == 4

            session.delete(account)
            session.commit()
        with engine.connect() as conn:
            rows = _history(conn)
            assert rows[-1] == (key, "ann", Decimal("12.50"), "D", False)
            assert [r[3] for r in rows] == ["I", "U", "U", "U", "D"]
            assert all(not open_ for *_, open_ in rows)  # every version is closed after the delete
            history = history_table(_table())
            tags = conn.execute(select(history.c.tags).order_by(history.c.history_id)).scalars().all()
            assert tags == [["a"], ["a"], ["a", "b"], ["a", "b"], ["a", "b"]]
            periods = conn.execute(
                select(history.c.valid_from, history.c.valid_to).order_by(history.c.history_id)
            ).all()
            assert all(start <= end for start, end in periods)
    finally:
        engine.dispose()

    # the history table matches its definition, and cleanup takes table, history, function and trigger
    report = validate_deployment([_table(), history_table(_table())], database, report_extra_tables=True)
    assert report.success, report.summary()
    cleanup_deployment([DktTemporalAccount], database)
    engine = database.engine()
    try:
        with engine.connect() as conn:
            assert "dkt_temporal_account_history" not in inspect(conn).get_table_names()
            functions = conn.execute(text("SELECT count(*) FROM pg_proc WHERE proname LIKE 'dkt_temporal%'")).scalar()
            assert functions == 0
    finally:
        engine.dispose()


@pytest.mark.parametrize("target_name", ["sqlite_memory", "mysql_local"])
def test_other_engines_get_the_history_table_but_no_triggers(database: Database) -> None:
    assert deploy_data_objects([DktTemporalAccount], database).success
    engine = database.engine()
    try:
        with Session(engine) as session:
            session.add(DktTemporalAccount(owner="bob"))
            session.commit()
        with engine.connect() as conn:
            assert "dkt_temporal_account_history" in inspect(conn).get_table_names()
            assert _history(conn) == []  # documented: nothing writes history off PostgreSQL
    finally:
        engine.dispose()
    report = validate_deployment([_table(), history_table(_table())], database)
    assert report.success, report.summary()
    cleanup_deployment([DktTemporalAccount], database)
    engine = database.engine()
    try:
        assert "dkt_temporal_account_history" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
