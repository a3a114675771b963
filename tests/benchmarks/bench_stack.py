"""The compose stack's figures, measured side by side in one run (needs a Docker engine and the images).

    python tests/benchmarks/bench_stack.py          # DATAKITS_PAGILA_DIR: the real Pagila as the source

Prints: seconds from `up` to healthy; pagila_pipeline under the scheduler (triggered through /api/v2,
the run's own start to end); the same DAG by `airflow dags test` (dag.test(), in the scheduler's
container, against the same databases, a fresh batch id each); their ratio. Image build times are
what `.ci/docker-images` prints (first build, and again with nothing changed).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from framework.stack import AirflowApi, Stack

DAG = "pagila_pipeline"
PORTS = {
    "DATAKITS_STACK_POSTGRES_PORT": 26432,
    "DATAKITS_STACK_MARIADB_PORT": 24306,
    "DATAKITS_STACK_AIRFLOW_PORT": 29080,
}


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        stack = Stack(project="datakits-bench", env_file=Path(folder) / ".env", ports=PORTS)
        stack.remove_leftovers()
        try:
            healthy = stack.up()
            api = AirflowApi(
                f"http://127.0.0.1:{stack.port('airflow')}", "admin", stack.env()["AIRFLOW_ADMIN_PASSWORD"]
            )
            api.wait_dag(DAG)
            run = api.wait_run(DAG, api.trigger(DAG, {"batch_id": "bench-scheduler"}).run_id)
            assert run.state == "success", run
            started = time.monotonic()
            stack.compose(
                "exec",
                "-T",
                "airflow-scheduler",
                "airflow",
                "dags",
                "test",
                DAG,
                "-c",
                json.dumps({"batch_id": "bench-test"}),
            )
            dag_test = time.monotonic() - started
        finally:
            stack.down(volumes=True)
    scheduled = run.seconds or 0.0
    print(f"up to healthy                      {healthy:8.1f} s")
    print(f"{DAG} under the scheduler  {scheduled:8.1f} s   (LocalExecutor, mapped loads in parallel)")
    print(f"{DAG} by dag.test()        {dag_test:8.1f} s   (airflow dags test, one process)")
    print(f"scheduler / dag.test()             {scheduled / dag_test:8.2f}")


if __name__ == "__main__":
    main()
