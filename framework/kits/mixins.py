"""Column mixins for SQLModel table classes.

A mixin here is a plain (non-table) SQLModel class whose fields become columns of every table
class that inherits it. SQLAlchemy attaches a ``Column`` object to exactly one ``Table``, so a
mixin must never hold a ``Column`` (``Field(sa_column=Column(...))``): the first table takes it
and the second table that uses the mixin fails with "Column object ... already assigned to
Table ...". The fields below use ``Field(sa_type=..., sa_column_kwargs=..., default_factory=...)``
instead, from which SQLModel builds a fresh ``Column`` for each table class.

Inherited fields come before the class's own fields unless the mixin is listed before the class
that declares them: ``class Actor(BronzeLineageMixin, ActorBase, table=True)`` puts the lineage
columns after the business columns.
"""

from datetime import UTC, datetime

from sqlalchemy import CHAR, DateTime, String, func
from sqlalchemy.dialects import mysql
from sqlmodel import Field, SQLModel

from ..engines.generic.writer import LINEAGE_COLUMNS  # the names the writers fill, in column order

__all__ = [
    "LINEAGE_COLUMNS",
    "TIMESTAMPTZ",
    "BronzeLineageMixin",
    "ReferenceMixin",
    "TransactionalMixin",
]


#: A timezone-aware timestamp: ``timestamp with time zone`` on PostgreSQL, ``DATETIME(6)`` on
#: MySQL/MariaDB (no time zone there, but microseconds kept), ``DATETIME`` on SQLite.
TIMESTAMPTZ = DateTime(timezone=True).with_variant(mysql.DATETIME(timezone=True, fsp=6), "mysql", "mariadb")


def _now() -> datetime:
    """Return the current time in UTC (the client's clock, so insert and update agree)."""
    return datetime.now(UTC)


class ReferenceMixin(SQLModel):
    """``last_update``: set on insert and refreshed on every update (Pagila's reference tables)."""

    last_update: datetime = Field(
        default_factory=_now,
        sa_type=TIMESTAMPTZ,
        nullable=False,
        sa_column_kwargs={"server_default": func.now(), "onupdate": _now},
    )


class TransactionalMixin(SQLModel):
    """``created_at`` set on insert; ``updated_at`` set on insert and refreshed on every update."""

    created_at: datetime = Field(
        default_factory=_now,
        sa_type=TIMESTAMPTZ,
        nullable=False,
        sa_column_kwargs={"server_default": func.now()},
    )
    updated_at: datetime = Field(
        default_factory=_now,
        sa_type=TIMESTAMPTZ,
        nullable=False,
        sa_column_kwargs={"server_default": func.now(), "onupdate": _now},
    )


class BronzeLineageMixin(SQLModel):
    """Lineage of a bronze row: when it was loaded, by which batch, from where, and its content hash.

    ``dk_batch_id`` is part of the primary key, so a bronze table keyed on its source key plus
    ``dk_batch_id`` holds one row per source row per batch.
    """

    dk_loaded_at: datetime = Field(
        default_factory=_now,
        sa_type=TIMESTAMPTZ,
        nullable=False,
        sa_column_kwargs={"server_default": func.now()},
    )
    dk_batch_id: str = Field(primary_key=True, sa_type=String(64))
    dk_source_table: str = Field(sa_type=String(128), nullable=False)
    dk_record_hash: str = Field(sa_type=CHAR(64), nullable=False)  # hex SHA-256 of the source row
