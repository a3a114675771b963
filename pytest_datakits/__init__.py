"""pytest-datakits: the pytest plugin (options, markers, fixtures, report) over ``framework``.

The types its fixtures return, for annotations::

    def test_x(datakit_target: ProvisionedTarget, datakit_factories: DatakitFactories) -> None: ...
    def test_y(datakit_dbt: DatakitDbt) -> None: ...

``DbtTestWarning`` is the warning a warn-severity dbt test that warns gives (``--datakit-dbt-tests``).
"""

from .shadowing import check_shadowing

check_shadowing()  # a user's own `framework` or `datakits` first on sys.path: one line, before the import fails

from framework import ProvisionedTarget  # noqa: E402 (after the check, which must run first)

from .dbt import DatakitDbt  # noqa: E402
from .dbt_tests import DbtTestWarning  # noqa: E402
from .factories import DatakitFactories, current_session, use_session  # noqa: E402

__all__ = ["DatakitDbt", "DatakitFactories", "DbtTestWarning", "ProvisionedTarget", "current_session", "use_session"]
