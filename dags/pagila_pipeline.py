"""Pagila, source to gold, on Airflow 3: the DAG of the declared pipeline ``pagila`` (``framework.pipeline_dag``).

    deploy -> tables -> load.expand(table=...) -> silver -> gold -> validate -> summary

Connections ``pagila_source`` and ``pagila_warehouse``; params ``source_conn_id``, ``warehouse_conn_id``,
``batch_id`` (default: the run id). Parsing this file touches no database. See docs/pipeline.md.
"""

from framework import pipeline_dag

pipeline_dag("pagila")
