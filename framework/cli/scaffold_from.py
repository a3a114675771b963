"""The files ``datakits init --from URL`` writes besides the shared ones (:mod:`framework.cli.scaffold`).

The source datakit is reflected from the database; the rest is made from its tables by
:mod:`framework.cli.render` (the staging kit, the staging models, the factories) and
:mod:`framework.dbt.generate` (the dbt sources of the bronze, the staging contracts). The templates
here are the tests and the kit packages' ``__init__`` files: nothing in them names a table, so they
fit any reflected database (``__TABLE__`` and ``__CLASS__`` name the table of the dbt model test).
"""

from __future__ import annotations

from .scaffold import Flavour

LAYOUT = """\
    kits/__NAME___source/   the source datakit, reflected from the database (`datakits reflect`), and
                            factories.py: factory_boy factories made from its column types
    kits/__NAME___staging/  the contract of the staging tables dbt builds: each source table's columns
                            and key, in schema staging (validated after each run)"""

STAGING_INIT = '''\
"""The __NAME__ staging layer: what dbt builds from bronze (warehouse/models/staging), as a contract datakit."""

__datakit_modules__ = ["models"]
'''

CONFTEST_FILL = """\
    from __NAME___source.factories import create_rows  # importable now: load_datakit put kits/ on sys.path

    engine = database.engine()
    try:
        with Session(engine) as session:
            create_rows(session)  # a few rows per table, made by the factories from the column types
            session.commit()
    finally:
        engine.dispose()"""

TEST_SOURCE = '''\
"""The source datakit deploys as it was reflected, and every row of the source tables is in bronze."""

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from framework import derive_bronze, load_datakit, validate_deployment

ROOT = Path(__file__).resolve().parents[1]
SOURCE = load_datakit(ROOT / "kits" / "__NAME___source")
BRONZE = {t.name: t for t in derive_bronze(SOURCE).tables}


def test_the_source_deploys_as_reflected(datakit_engine: Engine) -> None:
    result = validate_deployment(SOURCE, datakit_engine)
    assert result.success, result.summary()


@pytest.mark.parametrize("table", SOURCE.tables, ids=lambda t: t.name)
def test_bronze_holds_the_source_rows_as_batch_b1(table, datakit_connection: Connection) -> None:
    bronze = BRONZE[table.name]
    in_source = datakit_connection.scalar(select(func.count()).select_from(table))
    in_bronze = datakit_connection.scalar(select(func.count()).where(bronze.c.dk_batch_id == "b1"))
    assert in_source > 0
    assert in_bronze == in_source
'''

TEST_FACTORIES = '''\
"""Each table's factory inserts a row the database accepts: key, uniques, checks and foreign keys (the
rows those name are made first). The rows are in the test's transaction; the rollback takes them away."""

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from __NAME___source.factories import FACTORIES
from pytest_datakits import DatakitFactories


@pytest.mark.parametrize("factory_class", FACTORIES, ids=lambda f: f._meta.model.__tablename__)
def test_a_row_from_the_factory_fits_the_table(
    factory_class, datakit_factories: DatakitFactories, datakit_session: Session
) -> None:
    count = select(func.count()).select_from(factory_class._meta.model)
    before = datakit_session.scalar(count)
    factory_class()  # flushed: the database checks the row's constraints here
    assert datakit_session.scalar(count) == before + 1
'''

TEST_STAGING = '''\
"""The staging tables dbt builds: each key of bronze once, read from the template; and a new bronze row
rebuilt into its model with datakit_dbt."""

from pathlib import Path

import pytest
from sqlalchemy import func, insert, inspect, select
from sqlalchemy.engine import Connection
from sqlmodel import Session

from __NAME___source.factories import __CLASS__Factory
from framework import derive_bronze, load_datakit
from pytest_datakits import DatakitDbt

pytestmark = pytest.mark.datakit(engines="postgresql")

ROOT = Path(__file__).resolve().parents[1]
SOURCE = load_datakit(ROOT / "kits" / "__NAME___source")
BRONZE = {t.name: t for t in derive_bronze(SOURCE).tables}
STAGING = {t.name: t for t in load_datakit(ROOT / "kits" / "__NAME___staging").tables}


@pytest.mark.parametrize("name", sorted(STAGING))
def test_staging_holds_each_bronze_key_once(name: str, datakit_connection: Connection) -> None:
    bronze, staging = BRONZE[name], STAGING[name]
    keys = select(*(bronze.c[c.name] for c in staging.primary_key.columns)).distinct().subquery()
    in_staging = datakit_connection.scalar(select(func.count()).select_from(staging))
    assert in_staging > 0
    assert in_staging == datakit_connection.scalar(select(func.count()).select_from(keys))


def test_a_new_bronze_row_reaches_its_model(datakit_session: Session, datakit_dbt: DatakitDbt) -> None:
    row = __CLASS__Factory.build()  # built, not saved: the values the factory makes from the column types
    values = {a.columns[0].name: getattr(row, a.key) for a in inspect(type(row)).column_attrs}
    lineage = {"dk_batch_id": "b2", "dk_source_table": "__TABLE__", "dk_record_hash": "0" * 64}
    datakit_session.execute(insert(BRONZE["__TABLE__"]).values(**values, **lineage, dk_loaded_at=func.now()))
    datakit_session.commit()
    result = datakit_dbt.build(select="__TABLE__")
    assert not result.failed
    staging = STAGING["__TABLE__"]
    key = [staging.c[c.name] == values[c.name] for c in staging.primary_key.columns]
    assert datakit_session.scalar(select(func.count()).select_from(staging).where(*key)) == 1
'''

DAG_FILL = """\
        kit = load_datakit(ROOT / "kits" / "__NAME___source")
        deploy_data_objects(kit, source)
        engine = source.engine()
        with Session(engine) as session:
            create_rows(session)  # the source's tables, filled by the factories
            session.commit()
            counts = {t.name: session.scalar(select(func.count()).select_from(t)) for t in kit.tables}
        engine.dispose()"""

DAG_EXPECT = """\
        assert rows["bronze"] == counts
        assert rows["staging"] == counts  # each key once"""

DAG_IMPORTS = """\
from sqlalchemy import func, select
from sqlmodel import Session

from __NAME___source.factories import create_rows
from framework import deploy_data_objects, load_datakit, open_target"""


def reflected(source: str, table: str, class_name: str) -> Flavour:
    """The flavour of a project reflected from the database at ``source`` (its URL, password hidden);
    ``table`` (of class ``class_name``) is the one the dbt model test rebuilds."""
    return Flavour(
        layer="staging",
        files={
            "kits/__NAME___staging/__init__.py": STAGING_INIT,
            "tests/test_source.py": TEST_SOURCE,
            "tests/test_factories.py": TEST_FACTORIES,
            "tests/test_staging.py": TEST_STAGING,
        },
        values={
            "__SOURCE__": source,
            "__ABOUT_SOURCE__": "reflected from the database by datakits init --from",
            "__LAYOUT__": LAYOUT,
            "__FILLED_WITH__": "rows made by the factories",
            "__CONFTEST_IMPORTS__": "from sqlmodel import Session",
            "__CONFTEST_FILL__": CONFTEST_FILL,
            "__DAG_WHAT__": "the source tables",
            "__DAG_TEST__": "the_source_to_staging",
            "__DAG_IMPORTS__": DAG_IMPORTS,
            "__DAG_FILL__": DAG_FILL,
            "__DAG_EXPECT__": DAG_EXPECT,
            "__TABLE__": table,
            "__CLASS__": class_name,
        },
    )
