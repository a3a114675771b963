"""dbt on a ``Database``: running it (runner.py) and the YAML generated from datakits (generate.py)."""
