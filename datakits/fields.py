"""Field helpers shared by the contract datakits (pagila_silver, pagila_gold)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text
from sqlmodel import Field


def text(description: str | None = None) -> Any:
    """A NOT NULL ``text`` column."""
    return Field(sa_type=Text, description=description)


def optional_text(description: str | None = None) -> Any:
    """A nullable ``text`` column."""
    return Field(default=None, sa_type=Text, description=description)
