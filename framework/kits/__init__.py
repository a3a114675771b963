"""What a datakit is and does.

discovery.py   find a datakit by path, importable name or entry point; its SQLModel classes
deploy.py      create its tables (and only its tables) on a target; clean them up
validate.py    compare a live database with the datakit: the drift report
reflect.py     write a datakit from a live database
bronze.py      derive a bronze datakit (lineage columns) from a source datakit
mixins.py      ReferenceMixin, TransactionalMixin, BronzeLineageMixin
temporal.py    history tables kept by triggers
isolation.py   a test's tables in a rolled-back or committed transaction
workspace.py   the session API the plugin wraps: per-run templates, per-worker databases, per-test isolation
"""
