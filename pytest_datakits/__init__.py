"""pytest-datakits: the pytest plugin (options, markers, fixtures, report) over ``framework``.

The types its fixtures return, for annotations::

    def test_x(datakit_target: ProvisionedTarget, datakit_factories: DatakitFactories) -> None: ...
    def test_y(datakit_dbt: DatakitDbt) -> None: ...

``DbtTestWarning`` is the warning a warn-severity dbt test that warns gives (``--datakit-dbt-tests``).
"""

from .shadowing import check_shadowing

check_shadowing()  # a user's own `framework` or `datakits` first on sys.path: one line, before the import fails

from typing import TYPE_CHECKING  # noqa: E402 (after the check, which must run first)

if TYPE_CHECKING:  # for annotations; at run time each is imported on first use (__getattr__)
    from framework import ProvisionedTarget

    from .dbt import DatakitDbt
    from .dbt_tests import DbtTestWarning
    from .factories import DatakitFactories, current_session, use_session

__all__ = ["DatakitDbt", "DatakitFactories", "DbtTestWarning", "ProvisionedTarget", "current_session", "use_session"]

_WHERE = {
    "DatakitDbt": ".dbt",
    "DbtTestWarning": ".dbt_tests",
    "DatakitFactories": ".factories",
    "current_session": ".factories",
    "use_session": ".factories",
}


def __getattr__(name: str) -> object:
    """The exported names, imported on first use (pytest loads the plugin at every start: it stays light)."""
    import importlib

    if name == "ProvisionedTarget":
        from framework import ProvisionedTarget

        return ProvisionedTarget
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
