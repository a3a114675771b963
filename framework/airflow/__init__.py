"""Airflow: ``dag.test()`` for tests (dagtest.py) and the DAG check that touches no database (check.py).

Above the pipeline: a DAG's tasks are the pipeline's steps.
"""
