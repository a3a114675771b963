"""0.1's module paths keep importing, each name with a DeprecationWarning naming its new place (issue 28).

framework/moved.py lists them; here each is imported and every name it hands out is checked to be the
very object of its new module, and a jaffle_shop kit written against the 0.1 docs loads in a child
process (as a user's ``datakits`` or ``pytest`` would load it), warned.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

import framework
from framework.moved import MOVED, PACKAGE_NAMES, REMOVED_IN

#: what the 0.1 docs (README.md, docs/) and the Pagila kits imported from a module that moved
DOCUMENTED_IN_0_1 = {
    "framework.mixins": ["BronzeLineageMixin", "TIMESTAMPTZ", "ReferenceMixin", "TransactionalMixin"],
    "framework.validate": ["FOREIGN_KEYS", "TESTED", "tested_by_dbt", "validate_deployment"],
    "framework.deploy": ["Target", "connected", "deploy_data_objects"],
    "framework.servers": ["Server"],
    "framework.pgdump": ["load_plain_dump"],
    "framework.resolve": ["resolve_target"],
    "framework.reflect": ["reflect_datakit"],
    "framework.loader": ["BulkDataLoader", "load_datakit_tables"],
    "framework.identifiers": ["check_names"],
    "framework.pipeline": ["run_pipeline", "get_pipeline", "deploy_warehouse"],
}


def public_names(module: str) -> set[str]:
    return {n for n in dir(importlib.import_module(module)) if not n.startswith("_")}


@pytest.mark.parametrize(("old", "names"), DOCUMENTED_IN_0_1.items(), ids=list(DOCUMENTED_IN_0_1))
def test_what_the_0_1_docs_imported_still_imports_warned(old: str, names: list[str]) -> None:
    for name in names:
        with pytest.warns(DeprecationWarning, match=rf"^{old}\.{name} is deprecated: import {name} from framework"):
            got = getattr(importlib.import_module(old), name)
        new_module = MOVED.get(old, (PACKAGE_NAMES.get(old, ("",))[0],))
        assert any(got is getattr(importlib.import_module(m), name, None) for m in new_module), (old, name)


@pytest.mark.parametrize("old", sorted(MOVED))
def test_every_moved_module_hands_out_the_same_objects(old: str) -> None:
    module = importlib.import_module(old)
    names: set[str] = set()
    for new in MOVED[old]:
        for name in sorted(public_names(new) - names):
            with pytest.warns(DeprecationWarning, match=rf"{old}\.{name} is deprecated: .* goes in {REMOVED_IN}"):
                assert getattr(module, name) is getattr(importlib.import_module(new), name)
        names |= public_names(new)
    assert names <= set(dir(module))
    with pytest.raises(AttributeError, match=f"moved to {MOVED[old][0]}"):
        module.no_such_name  # noqa: B018


@pytest.mark.parametrize("package", sorted(PACKAGE_NAMES))
def test_a_module_that_became_a_package_keeps_its_old_names(package: str) -> None:
    module, names = PACKAGE_NAMES[package]
    for name in sorted(names):
        with pytest.warns(DeprecationWarning, match=rf"{package}\.{name} is deprecated"):
            assert getattr(importlib.import_module(package), name) is getattr(importlib.import_module(module), name)
    with pytest.raises(AttributeError):
        importlib.import_module(package).no_such_name  # noqa: B018


def test_the_new_paths_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from framework import TIMESTAMPTZ, BronzeLineageMixin  # noqa: F401
        from framework.pipeline import steps  # a submodule is still a submodule

    assert steps.run_pipeline is framework.run_pipeline


JAFFLE_RAW = '''\
"""A jaffle_shop bronze kit written from the 0.1 docs."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from framework.mixins import TIMESTAMPTZ, BronzeLineageMixin
from framework.validate import FOREIGN_KEYS, TESTED


class RawCustomer(BronzeLineageMixin, SQLModel, table=True):
    __tablename__ = "raw_customers"
    __table_args__ = {"schema": "jaffle_raw", "info": {FOREIGN_KEYS: TESTED}}
    id: int = Field(primary_key=True)
    first_name: str
    signed_up: datetime = Field(sa_type=TIMESTAMPTZ)
'''


def test_a_kit_written_from_the_0_1_docs_loads_with_a_warning(tmp_path: Path) -> None:
    kit = tmp_path / "jaffle_raw"
    kit.mkdir()
    (kit / "__init__.py").write_text('__datakit_modules__ = ["models"]\n')
    (kit / "models.py").write_text(JAFFLE_RAW)
    code = textwrap.dedent(f"""
        from framework import load_datakit
        kit = load_datakit({str(kit)!r})
        print(sorted(c.name for c in kit.tables[0].columns), kit.tables[0].info)
    """)
    done = subprocess.run(
        [sys.executable, "-W", "always::DeprecationWarning", "-c", code], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "dk_batch_id" in done.stdout and "'dk_foreign_keys': 'tested'" in done.stdout, done.stdout
    warned = [line for line in done.stderr.splitlines() if "DeprecationWarning" in line]
    assert len(warned) == 4, done.stderr
    assert all("models.py:7" in line or "models.py:8" in line for line in warned), done.stderr
    assert "framework.mixins.BronzeLineageMixin is deprecated: import BronzeLineageMixin from framework" in done.stderr
