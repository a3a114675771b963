"""The stack test a new project gets (``tests/test_stack.py``): its pipeline on the compose stack, end to end.

Meant for ``datakits init`` to write beside the project's other tests (:func:`stack_test`); marker
``stack``, run when asked (``pytest -m stack``), skipped, saying why, where no Docker engine answers.
It builds the images (the project's own among them), brings a stack of its own up (a compose project
and ports of its own, state in a temp folder), stages the landing files in the stack's source
database, runs the DAG through Airflow's API, checks the marts against the files, and brings the
stack down with its volumes: nothing of it is left.
"""

from __future__ import annotations

__all__ = ["STACK_TEST", "stack_test"]

STACK_TEST = '''"""The {name} pipeline on the compose stack: images, stack up, its DAG run through Airflow's API, down.

    pytest -m stack          # minutes: it builds the images the first time (datakits stack build)
"""

import contextlib
import socket
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from framework import load_datakit, stage_folder
from framework.stack import AirflowApi, Stack, engine_reason
from framework.stack.images import build_images
from framework.stack.project import stack_project

ROOT = Path(__file__).resolve().parents[1]
PORTS = ("POSTGRES", "MARIADB", "AIRFLOW", "REDIS")
WHY_NOT = engine_reason()


def free_ports() -> dict[str, int]:
    with contextlib.ExitStack() as held:
        sockets = [held.enter_context(socket.socket()) for _ in PORTS]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return {{f"DATAKITS_STACK_{{name}}_PORT": s.getsockname()[1] for name, s in zip(PORTS, sockets)}}


@pytest.mark.stack
@pytest.mark.skipif(WHY_NOT is not None, reason=f"no Docker engine answers: {{WHY_NOT}}")
def test_the_stack_runs_the_pipeline_to_the_marts(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    if "stack" not in str(request.config.getoption("markexpr") or ""):
        pytest.skip("the stack test takes minutes: it runs when asked, pytest -m stack")
    project = stack_project(ROOT)
    build_images(project)
    stack = Stack(project=f"{{project.name}}-test", env_file=tmp_path / ".env", ports=free_ports(), home=ROOT)
    stack.remove_leftovers()
    try:
        stack.up(timeout=1200)
        password = stack.env()["POSTGRES_PASSWORD"]
        server = f"postgresql+psycopg2://datakits:{{password}}@127.0.0.1:{{stack.port('postgres')}}"
        source = load_datakit(ROOT / "kits" / "{name}_source")
        staged = stage_folder(ROOT / "data", source, f"{{server}}/{name}_source")
        api = AirflowApi(f"http://127.0.0.1:{{stack.port('airflow')}}", "admin", stack.env()["AIRFLOW_ADMIN_PASSWORD"])
        api.wait_dag("{name}_pipeline")
        run = api.trigger("{name}_pipeline", {{"batch_id": "stack-1"}})
        done = api.wait_run("{name}_pipeline", run.run_id, timeout=1800)
        assert done.state == "success", [(t.task_id, t.state) for t in api.task_runs("{name}_pipeline", run.run_id)]
        engine = create_engine(f"{{server}}/{name}_warehouse")
        try:
            with engine.connect() as conn:
                marts = conn.execute(text("SELECT count(*) FROM marts.customer_orders")).scalar_one()
        finally:
            engine.dispose()
        assert marts == staged["customers"] > 0  # a row per customer of the landing files
    finally:
        stack.down(volumes=True)
    assert stack.resources() == {{"containers": [], "networks": [], "volumes": []}}
'''


def stack_test(name: str) -> str:
    """The text of ``tests/test_stack.py`` for the project ``name``."""
    return STACK_TEST.format(name=name)
