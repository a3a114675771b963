"""The local compose stack (``compose/docker-compose.yml``): start it, wait for it, trigger DAGs, remove it.

    Stack            the compose project: up (env file at first use, wait for health), down, resources
    AirflowApi       a token from the API server and the /api/v2 calls to trigger and poll DAG runs

``datakits stack up|trigger|status|down`` (``framework.cli.stack``) is a thin layer over these.
"""

from .api import AirflowApi, DagRun, TaskRun
from .compose import Service, Stack, compose_command, engine_reason

__all__ = ["AirflowApi", "DagRun", "Service", "Stack", "TaskRun", "compose_command", "engine_reason"]
