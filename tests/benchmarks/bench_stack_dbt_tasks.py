"""The compose stack's pagila_pipeline with dbt per step and per node, on 2 Celery workers, side by side.

    DATAKITS_PAGILA_DIR=../shared/pagila python tests/benchmarks/bench_stack_dbt_tasks.py [--rounds 1]

One stack (project ``datakits-bench-dbt``, ports 45532/43406/48180/46479, its env file in a temp folder). Each
round, per rendering in turn: ``up`` with ``DATAKITS_DBT_TASKS`` set to it (compose creates the Airflow
containers again, their environment changed: up to healthy is timed), then a DAG run with a new batch id
(every load writes), timed as Airflow records it (start to end) with its dbt phase (the first dbt task's
start to the last one's end).
Printed per rendering: up, the DAG run, the dbt phase, the dbt tasks, and the ratios node / step. The stack
is removed at the end (``down -v``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from framework.stack import AirflowApi, Stack  # noqa: E402

PORTS = {
    "DATAKITS_STACK_POSTGRES_PORT": 45532,
    "DATAKITS_STACK_MARIADB_PORT": 43406,
    "DATAKITS_STACK_AIRFLOW_PORT": 48180,
    "DATAKITS_STACK_REDIS_PORT": 46479,
}
RENDERINGS = ("step", "node")
DAG = "pagila_pipeline"
DBT = ("silver", "gold")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="Runs per rendering (default 1)")
    args = parser.parse_args()
    env_file = Path(tempfile.mkdtemp(prefix="bench-dbt-tasks-")) / ".env"
    base = Stack(project="datakits-bench-dbt", env_file=env_file, ports=PORTS)
    base.remove_leftovers()
    figures: dict[str, list[tuple[float, float, float, int]]] = {name: [] for name in RENDERINGS}
    try:
        for round_ in range(args.rounds):
            for rendering in RENDERINGS:
                os.environ["DATAKITS_DBT_TASKS"] = rendering  # compose passes it to every Airflow container
                stack = Stack(project=base.project, env_file=env_file, ports=PORTS, executor="celery", workers=2)
                seconds_up = stack.up(timeout=900)
                api = AirflowApi(
                    f"http://127.0.0.1:{stack.port('airflow')}", "admin", stack.env()["AIRFLOW_ADMIN_PASSWORD"]
                )
                api.wait_dag(DAG)
                time.sleep(35)  # the DAG processor parses the file again with the new rendering (every 30 s)
                run = api.trigger(DAG, {"batch_id": f"bench-{round_}-{rendering}"})
                done = api.wait_run(DAG, run.run_id)
                tasks = api.task_runs(DAG, run.run_id)
                dbt = [t for t in tasks if t.task_id.split(".")[0] in DBT and t.start and t.end]
                if done.state != "success" or not dbt:
                    print(f"{rendering}: run {run.run_id} {done.state}")
                    return 1
                shape = {t.task_id for t in dbt}
                if (rendering == "step") != (shape == set(DBT)):
                    print(f"{rendering}: the DAG was not rendered so: {sorted(shape)}")
                    return 1
                span = (max(t.end for t in dbt) - min(t.start for t in dbt)).total_seconds()  # type: ignore[type-var]
                figures[rendering].append((seconds_up, done.seconds or 0.0, span, len(dbt)))
                print(
                    f"round {round_ + 1} {rendering:<5} up {seconds_up:6.1f} s  DAG {done.seconds:6.1f} s  "
                    f"dbt {span:6.1f} s in {len(dbt)} task(s)",
                    flush=True,
                )
    finally:
        os.environ.pop("DATAKITS_DBT_TASKS", None)
        base.down(volumes=True)
    print(f"\nmedians of {args.rounds} round(s), 2 Celery workers    up        DAG run    dbt phase   tasks")
    medians = {
        name: [statistics.median(f[i] for f in runs) for i in range(4)] for name, runs in figures.items() if runs
    }
    for name, (up, dag, span, count) in medians.items():
        print(f"  {name:<36} {up:7.1f} s  {dag:7.1f} s  {span:7.1f} s  {count:5.0f}")
    step, node = medians["step"], medians["node"]
    print(
        f"  {'ratio node / step':<36} {node[0] / step[0]:7.2f}    {node[1] / step[1]:7.2f}    {node[2] / step[2]:7.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
