"""Pagila gold datakit: the contract of the gold layer that dbt builds, in schema ``gold``.

Dimensions (``dim_customer`` as SCD type 2, ``dim_film``, ``dim_store``, ``dim_staff``,
``dim_date``) and facts (``fact_rental``, ``fact_payment``). dbt's model contracts in
``dbt/pagila_warehouse/models/gold_*`` are generated from these classes
(``datakits dbt contracts pagila_gold``). See :mod:`datakits.pagila_gold.models`.
"""

from .models import DimCustomer, DimDate, DimFilm, DimStaff, DimStore, FactPayment, FactRental

__datakit_modules__ = ["models"]

__all__ = ["DimCustomer", "DimDate", "DimFilm", "DimStaff", "DimStore", "FactPayment", "FactRental"]
