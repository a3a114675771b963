"""Pagila, declared as a pipeline (the ``datakits.pipelines`` entry point ``pagila``).

The same keys as a ``[tool.datakits.pipelines.NAME]`` table of a ``pyproject.toml``, paths relative to
this file. In the repository the dbt project and the DAG folder are ``dbt/pagila_warehouse`` and
``dags/``; an installed wheel carries them as package data under ``datakits/_platform/`` (see
``[tool.setuptools]`` in ``pyproject.toml``), so ``datakits pipeline pagila`` runs from any folder.
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent
#: the repository's top folder when this runs from a checkout, else the copy packaged in the wheel
PLATFORM = "../" if (_HERE.parent / "dbt" / "pagila_warehouse" / "dbt_project.yml").is_file() else "_platform/"

PAGILA = {
    "source": "pagila_source",
    "bronze": "pagila_bronze",
    "dbt_project": f"{PLATFORM}dbt/pagila_warehouse",
    "dbt_steps": [
        {"name": "silver", "select": "silver_core customer_snapshot"},
        {"name": "gold", "select": "gold_dimensions gold_facts"},
    ],
    "layers": ["pagila_silver", "pagila_gold"],
    "generator": "pagila",
    "dags": f"{PLATFORM}dags",
}
