"""Pagila, source to gold, on Airflow 3: the DAG of the declared pipeline ``pagila``, built by ``pipeline_dag``.

    deploy -> tables -> load.expand(table=...) -> silver -> gold -> validate -> summary

Where the data is: the Airflow connections ``pagila_source`` and ``pagila_warehouse``
(``AIRFLOW_CONN_PAGILA_SOURCE=postgresql://user:password@host:5432/pagila``); a run's params
``source_conn_id`` / ``warehouse_conn_id`` name other connections. The batch id is the run id unless
the ``batch_id`` param gives one; a rerun with the same batch id changes no row. A ``load`` whose worker
died (a killed container, a lost machine) is retried, on any worker: its table's batch is one transaction,
so the dead attempt left nothing and the retry loads it whole. Every task returns a
small JSON result (the XCom); databases appear in results and logs with the password hidden.

Parsing this file touches no database: the tasks only read connections when they run.
"""

from framework import pipeline_dag

pipeline_dag("pagila")
