"""The compose stack's pagila_pipeline on 1 Celery worker, 2 Celery workers and the LocalExecutor, side by side.

    DATAKITS_PAGILA_DIR=../shared/pagila python tests/benchmarks/bench_stack_workers.py [--rounds 2]

One stack (project ``datakits-bench``, ports 45432/43306/48080/46379, its own env file in a temp folder),
brought up once; each round runs the DAG once per setting, in turn (``up`` rescales the workers or switches the
executor in place: the data stays), each run with a new batch id so that every load writes. Printed: per setting
the DAG run's own wall time (start to end, as Airflow records it) and the load phase (the first mapped load's
start to the last one's end), their medians, and the ratios to 1 worker. Every setting runs 4 tasks at once at
most (Celery: 2 per worker; LocalExecutor: parallelism 4), so 1 worker runs 2 at once. The stack is removed at
the end (``down -v``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from framework.stack import AirflowApi, Stack  # noqa: E402

PORTS = {
    "DATAKITS_STACK_POSTGRES_PORT": 45432,
    "DATAKITS_STACK_MARIADB_PORT": 43306,
    "DATAKITS_STACK_AIRFLOW_PORT": 48080,
    "DATAKITS_STACK_REDIS_PORT": 46379,
}
SETTINGS = {"celery, 1 worker": ("celery", 1), "celery, 2 workers": ("celery", 2), "local": ("local", None)}
DAG = "pagila_pipeline"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="Runs per setting (default 2)")
    args = parser.parse_args()
    env_file = Path(tempfile.mkdtemp(prefix="bench-stack-")) / ".env"
    base = Stack(project="datakits-bench", env_file=env_file, ports=PORTS)
    base.remove_leftovers()
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in SETTINGS}
    try:
        for round_ in range(args.rounds):
            for name, (executor, workers) in SETTINGS.items():
                stack = Stack(project=base.project, env_file=env_file, ports=PORTS, executor=executor, workers=workers)
                seconds_up = stack.up(timeout=900)
                api = AirflowApi(
                    f"http://127.0.0.1:{stack.port('airflow')}", "admin", stack.env()["AIRFLOW_ADMIN_PASSWORD"]
                )
                api.wait_dag(DAG)
                time.sleep(5)  # the workers settle after a rescale
                run = api.trigger(DAG, {"batch_id": f"bench-{round_}-{executor}-{workers}"})
                done = api.wait_run(DAG, run.run_id)
                if done.state != "success":
                    print(f"{name}: run {run.run_id} {done.state}")
                    return 1
                loads = [t for t in api.task_runs(DAG, run.run_id) if t.task_id == "load" and t.start and t.end]
                span = (max(t.end for t in loads) - min(t.start for t in loads)).total_seconds()  # type: ignore[type-var]
                figures[name].append((done.seconds or 0.0, span))
                hosts = len({t.hostname for t in loads})
                print(
                    f"round {round_ + 1} {name:<18} up {seconds_up:5.1f} s  DAG {done.seconds:6.1f} s  "
                    f"loads {span:5.1f} s on {hosts} host(s)",
                    flush=True,
                )
    finally:
        base.down(volumes=True)
    print(f"\nmedians of {args.rounds} round(s)          DAG run     load phase   (ratio to 1 worker)")
    one = {i: statistics.median(f[i] for f in figures["celery, 1 worker"]) for i in (0, 1)}
    for name, runs in figures.items():
        dag, span = (statistics.median(f[i] for f in runs) for i in (0, 1))
        print(f"  {name:<30} {dag:7.1f} s   {span:7.1f} s    {dag / one[0]:.2f} / {span / one[1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
