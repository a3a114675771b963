"""The plugin as a user with a datakit of their own meets it: a ``datakit_session`` override as the
docs show it keeps ``current_session`` working, and a conftest.py imports a kit given by path."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

OVERRIDE = """
import pytest
from sqlmodel import Session


@pytest.fixture
def datakit_session(datakit_connection):
    with Session(bind=datakit_connection, join_transaction_mode="create_savepoint", expire_on_commit=False) as s:
        yield s
"""

FACTORY_TEST = """
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy import func, select

from datakits.pagila_bronze import Actor
from pytest_datakits import current_session


class ActorFactory(SQLAlchemyModelFactory):
    class Meta:
        model = Actor
        sqlalchemy_session_factory = current_session
        sqlalchemy_session_persistence = "commit"

    actor_id = 1
    first_name = "a"
    last_name = "b"
    dk_batch_id = "b1"
    dk_source_table = "actor"
    dk_record_hash = "h" * 64


def test_the_overridden_session_is_the_current_one(datakit_session):
    assert current_session() is datakit_session
    ActorFactory.create()
    assert datakit_session.scalar(select(func.count()).select_from(Actor)) == 1
"""


def test_a_datakit_session_override_keeps_current_session(run, pytester: pytest.Pytester) -> None:
    pytester.makeconftest(OVERRIDE)
    pytester.makepyfile(FACTORY_TEST)
    result = run("--datakit=pagila_bronze", "--datakit-target=sqlite_memory")
    result.assert_outcomes(passed=1)


KIT = """
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class ShopModel(SQLModel, registry=registry()):
    pass


class Item(ShopModel, table=True):
    item_id: int = Field(primary_key=True)
    name: str
"""


@pytest.mark.parametrize("form", ["equals", "space", "ini"])
def test_a_conftest_imports_a_kit_given_by_path(
    run, pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory, form: str
) -> None:
    kit = tmp_path_factory.mktemp("elsewhere") / f"shop_kit_{form}"
    kit.mkdir()
    (kit / "__init__.py").write_text("")
    (kit / "models.py").write_text(textwrap.dedent(KIT))
    pytester.makeconftest(f"from shop_kit_{form}.models import Item\n\nITEM = Item\n")
    pytester.makepyfile(
        """
        from conftest import ITEM

        def test_it(datakit_session):
            datakit_session.add(ITEM(item_id=1, name="x"))
            datakit_session.flush()
        """
    )
    args = {"equals": [f"--datakit={kit}"], "space": ["--datakit", str(kit)], "ini": []}[form]
    ini = f"datakit_paths = {kit}" if form == "ini" else ""
    result = run(*args, "--datakit-target=sqlite_memory", ini=ini)
    result.assert_outcomes(passed=1)
    assert _rootdir(result) == pytester.path


def _rootdir(result: pytest.RunResult) -> Path | None:
    found = re.search(r"^rootdir: (\S+)", result.stdout.str(), re.M)
    return Path(found.group(1).rstrip(",")) if found else None


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_datakit_path_with_a_space_keeps_the_projects_rootdir_and_ini(
    run, pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory, workers: list[str]
) -> None:
    """'--datakit /kit' is read as a test path when pytest picks its rootdir: the project's ini
    file (its addopts, here the target and a strict marker) and test ids must hold all the same."""
    kit = tmp_path_factory.mktemp("elsewhere") / "shop_kit_space"
    kit.mkdir()
    (kit / "__init__.py").write_text("")
    (kit / "models.py").write_text(textwrap.dedent(KIT))
    (kit / "pyproject.toml").write_text("[tool.pytest.ini_options]\naddopts = '-k nothing_matches'\n")
    pytester.makepyfile(
        test_shop="""
        import pytest
        from shop_kit_space.models import Item

        @pytest.mark.shop
        def test_it(datakit_session, datakit_target):
            assert datakit_target.name == "sqlite_file"
            datakit_session.add(Item(item_id=1, name="x"))
            datakit_session.flush()
        """
    )
    ini = "addopts = --datakit-target=sqlite_file --strict-markers -v\nmarkers =\n    shop: a marker the ini declares"
    result = run(*workers, "--datakit", str(kit), ini=ini)
    result.assert_outcomes(passed=1)
    assert _rootdir(result) == pytester.path
    assert "test_shop.py::test_it" in result.stdout.str()
