"""Pagila silver datakit: the contract of the silver layer that dbt builds, in schema ``silver``.

The 15 Pagila tables, one row per business key, typed and cleaned. dbt's model contracts in
``dbt/pagila_warehouse/models/silver_core`` are generated from these classes
(``datakits dbt contracts pagila_silver``), and ``validate_deployment`` checks a built warehouse
against them. See :mod:`datakits.pagila_silver.models`.
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
