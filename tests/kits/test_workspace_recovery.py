"""A process killed while it deployed the run's template leaves it half made: the next one makes it again."""

from __future__ import annotations

import pytest

from framework import deploy_data_objects, get_target_config, load_datakit, validate_deployment
from framework.errors import ProvisionerUnavailable
from framework.kits.workspace import Workspace
from framework.targets.sharing import RunGuest, RunHost


@pytest.mark.parametrize("target", ["sqlite_file", pytest.param("postgres_process", marks=pytest.mark.slow)])
def test_a_half_made_template_is_removed_and_made_again(target: str) -> None:
    kit = load_datakit("pagila_bronze")
    config = get_target_config(target)
    host = RunHost()
    try:
        try:
            host.server(config)
        except ProvisionerUnavailable as exc:
            pytest.skip(str(exc))
        # what a worker killed 0.5 s into the deploy leaves: the template with some tables, no "done" marker
        half = host.started[config.name].run.create_database("t0_tpl")
        deploy_data_objects(kit.tables[:2], half)
        workspace = Workspace(RunGuest(host.handover([config])), [config], [kit], worker="gw1")
        try:
            database = workspace.target(config.name).database
            assert validate_deployment(kit, database).success
        finally:
            workspace.close()
    finally:
        host.close()
