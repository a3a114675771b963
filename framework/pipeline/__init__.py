"""The medallion pipeline as plain steps: source -> bronze -> silver -> gold.

steps.py     the steps (deploy, tables, load one table, dbt, validate, summary) and ``run_pipeline``
results.py   their small JSON-able results
flow.py      the original framework's flow API (``create_engine_for_target``, ``validate_pipeline_flow``)
"""


def __getattr__(name: str) -> object:
    """0.1's ``framework.pipeline`` module is steps.py now: its names still resolve here, with a DeprecationWarning."""
    from ..moved import moved_name

    return moved_name(__name__, name)
