"""dbt on a ``Database``: running it (runner.py, its state folders), the YAML generated from datakits
(generate.py) and merged into a project's own (merge.py), and a project's tests listed (listing.py)."""
