"""Pagila bronze datakit: the 15 Pagila tables as loaded, in schema ``br__pagila__public``.

Source columns plus lineage columns (``dk_loaded_at``, ``dk_batch_id``, ``dk_source_table``,
``dk_record_hash``); key = source key + ``dk_batch_id``; no foreign keys or source indexes. See
:mod:`datakits.pagila_bronze.models`.
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
