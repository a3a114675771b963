"""dbt on a ``Database``: running it (runner.py, its state folders), the YAML generated from datakits
(generate.py) and merged into a project's own (merge.py), and a project's tests listed (listing.py)."""


def __getattr__(name: str) -> object:
    """0.1's ``framework.dbt`` module is runner.py now: its names still resolve here, with a DeprecationWarning."""
    from ..moved import moved_name

    return moved_name(__name__, name)
