"""pytest-datakits: the pytest plugin (options, markers, fixtures, report) over ``framework``.

The types its fixtures return, for annotations::

    def test_x(datakit_target: ProvisionedTarget, datakit_factories: DatakitFactories) -> None: ...
"""

from framework.workspace import ProvisionedTarget

from .factories import DatakitFactories, current_session, use_session

__all__ = ["DatakitFactories", "ProvisionedTarget", "current_session", "use_session"]
