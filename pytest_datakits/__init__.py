"""pytest-datakits: the pytest plugin (options, markers, fixtures, report) over ``framework``.

The types its fixtures return, for annotations::

    def test_x(datakit_target: ProvisionedTarget, datakit_factories: DatakitFactories) -> None: ...
    def test_y(datakit_dbt: DatakitDbt) -> None: ...
"""

from framework import ProvisionedTarget

from .dbt import DatakitDbt
from .factories import DatakitFactories, current_session, use_session

__all__ = ["DatakitDbt", "DatakitFactories", "ProvisionedTarget", "current_session", "use_session"]
