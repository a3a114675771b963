"""A MySQL name with a backtick validates clean (SQLAlchemy kept the backtick doubled: false drift)."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Index, Integer, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from framework import Database, deploy_data_objects, validate_deployment


class Base(SQLModel, registry=registry()):
    """A MetaData of its own."""


class Ticked(Base, table=True):
    __tablename__ = "tick`ed"
    __table_args__ = (UniqueConstraint("a`b", "c", name="uq_a`b"), Index("ix_c`", "c"))
    id: int = Field(primary_key=True)
    ab: int | None = Field(default=None, sa_column=Column("a`b", Integer))
    double: int | None = Field(default=None, sa_column=Column("x``y", Integer))
    c: int | None = Field(default=None, sa_column=Column("c", Integer))


@pytest.mark.parametrize("target_name", ["mysql_local"])
def test_backticks_in_mysql_names_validate_clean(database: Database) -> None:
    assert deploy_data_objects([Ticked], database).success
    report = validate_deployment([Ticked], database)
    assert report.success, report.summary()
