"""Finding datakits by path, module name and installed name; only their own tables."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from framework import DatakitImportError, discover_datakit_modules, discover_sqlmodel_classes, load_datakit


def write(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body))


def test_installed_name_and_module_name_find_the_same_kit() -> None:
    by_name = load_datakit("pagila_bronze")
    by_module = load_datakit("datakits.pagila_bronze")
    assert by_name.classes == by_module.classes and len(by_name.classes) == 15


def test_a_path_imports_as_its_package_so_nothing_is_defined_twice() -> None:
    folder = Path(__file__).resolve().parents[2] / "datakits" / "pagila_source"
    assert load_datakit(folder).classes == load_datakit("pagila_source").classes


def test_declared_modules_only(tmp_path: Path) -> None:
    write(tmp_path / "declkit" / "__init__.py", '__datakit_modules__ = ["tables"]\n')
    write(
        tmp_path / "declkit" / "tables.py",
        """
        from sqlmodel import Field, SQLModel
        class DeclThing(SQLModel, table=True):
            id: int = Field(primary_key=True)
        """,
    )
    write(tmp_path / "declkit" / "helpers.py", "import a_package_that_is_not_installed\n")
    assert [c.__name__ for c in load_datakit(tmp_path / "declkit").classes] == ["DeclThing"]


def test_every_module_is_imported_without_a_declaration(tmp_path: Path) -> None:
    write(tmp_path / "walkkit" / "__init__.py", "")
    write(tmp_path / "walkkit" / "helpers.py", "import a_package_that_is_not_installed\n")
    with pytest.raises(DatakitImportError, match=r"walkkit\.helpers.*a_package_that_is_not_installed"):
        discover_datakit_modules(tmp_path / "walkkit")


def test_imported_tables_of_other_kits_are_not_this_kits(tmp_path: Path) -> None:
    write(
        tmp_path / "reusekit.py",
        """
        from datakits.pagila_source.models import Actor  # imported, not defined here
        from sqlmodel import Field, SQLModel
        class ReuseThing(SQLModel, table=True):
            id: int = Field(primary_key=True)
        """,
    )
    classes = discover_sqlmodel_classes(discover_datakit_modules(tmp_path / "reusekit.py"))
    assert [c.__name__ for c in classes] == ["ReuseThing"]


def test_two_projects_kits_of_one_name_each_load_as_themselves(tmp_path: Path) -> None:
    """Two projects' kits named alike (``shop_source``), loaded in one process, each give their own tables."""
    model = (
        "from sqlmodel import Field, SQLModel\n\n\n"
        "class Customers(SQLModel, table=True):\n    id: int = Field(primary_key=True)\n{extra}"
    )
    kits = []
    for project, extra in (("one", ""), ("two", "    email: str\n")):
        package = tmp_path / project / "shop_source"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "models.py").write_text(model.format(extra=extra))
        kits.append(package)
    first, second, first_again = (load_datakit(kit) for kit in (kits[0], kits[1], kits[0]))
    assert [c.name for c in first.tables[0].columns] == ["id"]
    assert [c.name for c in second.tables[0].columns] == ["id", "email"]
    assert [c.name for c in first_again.tables[0].columns] == ["id"]


@pytest.mark.parametrize("dropped", ["the package", "its models module"])
def test_a_kit_whose_modules_were_dropped_loads_again(tmp_path: Path, dropped: str) -> None:
    """pytester drops the modules a run imported while SQLModel's metadata keeps their tables: loading again works."""
    import sys

    top = f"dropped_kit_{len(dropped)}"
    package = tmp_path / top
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(
        "from sqlmodel import Field, SQLModel\n\n\nclass Things(SQLModel, table=True):\n"
        f"    __tablename__ = '{top}_things'\n    id: int = Field(primary_key=True)\n"
    )
    assert [t.name for t in load_datakit(package).tables] == [f"{top}_things"]
    for name in [m for m in sys.modules if m.split(".")[0] == top]:
        if dropped == "the package" or name.endswith(".models"):
            del sys.modules[name]
    assert [t.name for t in load_datakit(package).tables] == [f"{top}_things"]
