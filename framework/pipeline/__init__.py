"""The medallion pipeline as plain steps: source -> bronze -> silver -> gold.

steps.py     the steps (deploy, tables, load one table, dbt, validate, summary) and ``run_pipeline``
results.py   their small JSON-able results
flow.py      the original framework's flow API (``create_engine_for_target``, ``validate_pipeline_flow``)
"""
