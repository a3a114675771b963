"""``datakits stack up --executor local|celery --workers N``: the flags, and the Stack arguments they make.

Checked by :class:`~framework.stack.compose.Stack` (a wrong value is one line), so the command stays thin.
"""

from __future__ import annotations

import argparse
from typing import Any

from .compose import DEFAULT_WORKERS, EXECUTORS


def add_executor_arguments(up: argparse.ArgumentParser) -> None:
    """Add ``--executor`` and ``--workers`` to ``datakits stack up`` (and ``config``)."""
    up.add_argument(
        "--executor",
        default="local",
        help=f"Airflow's executor: {' or '.join(EXECUTORS)} (default local; celery: a Redis broker, --workers workers)",
    )
    up.add_argument("--workers", type=int, help=f"Celery workers, with --executor celery (default {DEFAULT_WORKERS})")


def executor_options(args: argparse.Namespace) -> dict[str, Any]:
    """The Stack's ``executor`` and ``workers`` from the parsed flags (only ``up`` has them)."""
    return {"executor": getattr(args, "executor", "local"), "workers": getattr(args, "workers", None)}


def describe_executor(executor: str, workers: int | None) -> str:
    """``LocalExecutor`` or ``CeleryExecutor, 2 workers``: what ``up`` started."""
    return EXECUTORS[executor] + (f", {workers} worker{'s' if workers != 1 else ''}" if executor == "celery" else "")
