"""``datakits stack up|trigger|status|down``: the compose stack, thinly.

datakits stack up [--executor local|celery] [--workers N]   # .datakits/stack/.env at first use, up -d, healthy
datakits stack config [--executor local|celery] [--workers N]   # what up would start, every secret as ***
datakits stack build                      # every image from the package's recipes, and the project's own
datakits stack trigger [DAG] [--batch-id B] [--conf JSON] [--no-wait]
datakits stack status                     # services and their health, the DAG's last runs
datakits stack down [--volumes]           # --volumes: the data too (down -v)
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from ..errors import StackError
from ..stack.api import AirflowApi
from ..stack.compose import Stack
from ..stack.options import add_executor_arguments, describe_executor, executor_options

DAG = "pagila_pipeline"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``stack`` to the ``datakits`` command's subcommands."""
    parser = sub.add_parser("stack", help="The local compose stack: PostgreSQL, MariaDB, Airflow")
    add_arguments(parser)
    parser.set_defaults(handler=run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--project", help="Compose project name (default: the project's, datakits-<folder>-<hash of its path>)"
    )
    parser.add_argument(
        "--env-file", help="The stack's env file (default .datakits/stack/.env in the project, written at first use)"
    )
    sub = parser.add_subparsers(dest="stack_command", required=True)
    up = sub.add_parser("up", help="Start the stack and wait until every service is healthy")
    up.add_argument("--timeout", type=float, default=900, help="Seconds to wait for health (default 900)")
    add_executor_arguments(up)
    sub.add_parser("build", help="Build every image the stack needs (and the project's), from the package's recipes")
    config = sub.add_parser("config", help="Print the compose configuration up would start, secrets as ***")
    add_executor_arguments(config)
    trigger = sub.add_parser("trigger", help="Trigger a DAG run through the REST API and watch it")
    trigger.add_argument("dag", nargs="?", default=DAG, help=f"DAG id (default {DAG})")
    trigger.add_argument("--batch-id", help="The run's batch id (conf batch_id; default: the run id)")
    trigger.add_argument("--conf", default="{}", help="The run's conf, a JSON object")
    trigger.add_argument("--no-wait", action="store_true", help="Print the run id and return")
    trigger.add_argument("--timeout", type=float, default=1800, help="Seconds to wait for the run (default 1800)")
    status = sub.add_parser("status", help="The services' health and the DAG's last runs")
    status.add_argument("dag", nargs="?", default=DAG, help=f"DAG id (default {DAG})")
    down = sub.add_parser("down", help="Stop and remove the stack's containers (and with --volumes its data)")
    down.add_argument("--volumes", "-v", action="store_true", help="Remove the named volumes too")


def stack_of(args: argparse.Namespace) -> Stack:
    given = {"project": args.project, "env_file": args.env_file}  # left out: the working folder's project's
    return Stack(**{name: value for name, value in given.items() if value}, **executor_options(args))


def api_of(stack: Stack) -> AirflowApi:
    env = stack.env()
    return AirflowApi(f"http://127.0.0.1:{stack.port('airflow')}", "admin", env["AIRFLOW_ADMIN_PASSWORD"])


def run(args: argparse.Namespace) -> int:
    stack = stack_of(args)
    if args.stack_command == "up":
        seconds = stack.up(timeout=args.timeout)
        print(f"stack {stack.project} healthy in {seconds:.1f}s ({describe_executor(stack.executor, stack.workers)})")
        print(f"  Airflow      http://127.0.0.1:{stack.port('airflow')}  (user admin, password in {stack.env_file})")
        print(
            f"  PostgreSQL   127.0.0.1:{stack.port('postgres')}  databases pagila, warehouse, airflow (user datakits)"
        )
        print(f"  MariaDB      127.0.0.1:{stack.port('mariadb')}  database datakits (user root)")
        return 0
    if args.stack_command == "build":
        from ..stack.images import build_images
        from ..stack.project import stack_project

        project = stack_project() if stack.pipelines() else None
        started = time.monotonic()
        built = build_images(project, progress=lambda line: print(f"  {line}", file=sys.stderr, flush=True))
        print(f"stack images ready in {time.monotonic() - started:.1f}s ({len(built)} built)")
        return 0
    if args.stack_command == "config":
        print(stack.config(), end="")
        return 0
    if args.stack_command == "down":
        stack.down(volumes=args.volumes)
        print(f"stack {stack.project} down" + (" with its volumes" if args.volumes else " (volumes kept)"))
        return 0
    if args.stack_command == "status":
        services = stack.services()
        if not services:
            print(f"stack {stack.project}: not running")
            return 1
        for service in services:
            print(f"  {service.describe()}")
        api = api_of(stack)
        for found in api.runs(args.dag):
            took = f" {found.seconds:.1f}s" if found.seconds is not None else ""
            print(f"  {found.dag_id} {found.run_id}: {found.state}{took}")
        return 0
    return _trigger(stack, args)


def _trigger(stack: Stack, args: argparse.Namespace) -> int:
    try:
        conf = json.loads(args.conf)
    except json.JSONDecodeError as exc:
        raise StackError(f'--conf is not JSON ({exc.msg}); give an object, e.g. \'{{"batch_id": "b1"}}\'') from None
    if not isinstance(conf, dict):
        raise StackError('--conf must be a JSON object, e.g. \'{"batch_id": "b1"}\'')
    if args.batch_id:
        conf["batch_id"] = args.batch_id
    api = api_of(stack)
    api.wait_dag(args.dag)
    started = api.trigger(args.dag, conf)
    print(f"triggered {args.dag} run {started.run_id}")
    if args.no_wait:
        return 0
    done = api.wait_run(args.dag, started.run_id, timeout=args.timeout)
    for task in api.task_runs(args.dag, started.run_id):
        index = f"[{task.label or task.map_index}]" if task.map_index >= 0 else ""  # a mapped load: its table
        took = f"{task.seconds:7.1f}s" if task.seconds is not None else "       -"
        print(f"  {task.task_id + index:<28} {task.state or '-':<10} {took}")
        if task.state == "failed":
            print("\n".join(f"      {line}" for line in api.task_log(args.dag, started.run_id, task)))
    print(f"run {done.run_id}: {done.state} in {done.seconds or 0:.1f}s")
    return 0 if done.state == "success" else 1
