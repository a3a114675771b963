"""Pagila source datakit: the 15 tables of the real Pagila database, in the default schema (``public``).

On PostgreSQL the classes match a database loaded from Pagila's dump (column types, nullability,
keys, foreign keys and indexes, by name); on SQLite and MySQL/MariaDB they deploy with portable
types. See :mod:`datakits.pagila_source.models`.
"""

from .models import (
    Actor,
    Address,
    Category,
    City,
    Country,
    Customer,
    Film,
    FilmActor,
    FilmCategory,
    Inventory,
    Language,
    Payment,
    Rental,
    Staff,
    Store,
)

# the modules that hold tables; factories and the generator load on demand (they need extras)
__datakit_modules__ = ["models"]

__all__ = [
    "Actor",
    "Address",
    "Category",
    "City",
    "Country",
    "Customer",
    "Film",
    "FilmActor",
    "FilmCategory",
    "Inventory",
    "Language",
    "Payment",
    "Rental",
    "Staff",
    "Store",
]
