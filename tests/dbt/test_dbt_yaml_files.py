"""``datakits dbt sources|contracts`` never damages a user's dbt YAML: each file written whole or none of
them, a refused file changing nothing, anchors changing nothing outside the datakit, every file dbt reads
looked at, a file's BOM and line endings kept; bad input one line and exit status 2.

The project is a small one written here (no database: these commands only read and write YAML).
"""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from framework.cli.main import main

REPOSITORY = Path(__file__).resolve().parents[2]
NOWHERE = "postgresql://postgres@127.0.0.1:1"

MARTS = '''
"""The marts dbt builds."""
from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel


class Customers(SQLModel, table=True):
    __tablename__ = "customers"
    customer_id: int = Field(primary_key=True)
    first_name: str
    number_of_orders: int = Field(sa_type=BigInteger)


class Orders(SQLModel, table=True):
    __tablename__ = "orders"
    order_id: int = Field(primary_key=True)
    customer_id: int = Field(foreign_key="customers.customer_id")
'''


def _project(folder: Path, files: dict[str, str]) -> tuple[Path, Path]:
    """A dbt project with models customers, orders and other, the ``files`` given, and the marts kit."""
    project = folder / "p"
    written = {
        "dbt_project.yml": "name: p\nversion: '1.0'\nconfig-version: 2\nprofile: p\n",
        "models/a/customers.sql": "select 1 as customer_id",
        "models/a/other.sql": "select 1 as x",
        "models/z/orders.sql": "select 1 as order_id",
        **files,
    }
    for name, body in written.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body.encode("utf-8") if isinstance(body, str) else body)
    kit = folder / "kits" / "marts"
    kit.mkdir(parents=True, exist_ok=True)
    (kit / "__init__.py").write_text(MARTS.lstrip())
    return project, kit


def _files(project: Path) -> dict[str, bytes]:
    return {str(p.relative_to(project)): p.read_bytes() for p in sorted(project.rglob("*")) if p.is_file()}


def _load(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text())


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


A_SCHEMA = """\
version: 2
models:
  - name: customers
    description: One row per customer.
"""
Z_SCHEMA = """\
version: 2
models:
  - name: orders
    description: One row per order.
"""


# --- whole or not at all --------------------------------------------------------------------------


def test_a_read_only_file_met_after_others_changes_no_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project, kit = _project(tmp_path, {"models/a/schema.yml": A_SCHEMA, "models/z/schema.yml": Z_SCHEMA})
    (project / "models" / "z" / "schema.yml").chmod(0o444)  # met after models/a/schema.yml
    before = _files(project)
    assert main(["dbt", "contracts", str(kit), "--project", str(project)]) == 2
    err = _one_line_error(capsys)
    assert "models/z/schema.yml is read-only" in err and "chmod u+w" in err
    assert _files(project) == before
    assert not [p for p in project.rglob("*") if p.name.endswith(".datakits-tmp")]


def _big_project(folder: Path, tables: int = 24, columns: int = 20) -> tuple[Path, Path]:
    """Many models, each described in the user's own files with long descriptions: a big rewrite."""
    kit_lines = ['"""A wide layer."""', "from sqlmodel import Field, SQLModel", ""]
    files = {}
    for group in range(4):
        entries = ["version: 2", "models:"]
        for t in range(group, tables, 4):
            kit_lines += [f"class T{t}(SQLModel, table=True):", f"    __tablename__ = 't{t}'"]
            kit_lines += ["    id: int = Field(primary_key=True)"]
            kit_lines += [f"    c{c}: str | None = None" for c in range(columns)]
            files[f"models/g{group}/t{t}.sql"] = "select 1 as id"
            entries += [f"  - name: t{t}", "    description: " + "a table of the wide layer " * 8, "    columns:"]
            entries += [f"      - name: c{c}\n        description: {'a column of it ' * 8}" for c in range(columns)]
        files[f"models/g{group}/schema.yml"] = "\n".join(entries) + "\n"
    project, _ = _project(folder, files)
    kit = folder / "kits" / "wide"
    kit.mkdir(parents=True)
    (kit / "__init__.py").write_text("\n".join(kit_lines) + "\n")
    return project, kit


def _contracts_child(project: Path, kit: Path, fsize: int | None = None) -> subprocess.Popen[bytes]:
    def limit() -> None:  # the file size limit: a write beyond it fails as on a full disk
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    command = [sys.executable, "-m", "framework.cli", "dbt", "contracts", str(kit), "--project", str(project)]
    return subprocess.Popen(
        command, cwd=REPOSITORY, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=limit, text=True
    )


def _old_or_new(project: Path, old: dict[str, bytes], new: dict[str, bytes]) -> None:
    now = {k: v for k, v in _files(project).items() if not k.endswith(".datakits-tmp")}
    assert set(now) == set(old), set(now) ^ set(old)
    for name, data in now.items():
        assert data in (old[name], new[name]), f"{name}: {len(data)} bytes, neither the old nor the new file"


def test_a_killed_or_full_disk_rewrite_leaves_each_file_old_or_new_whole(tmp_path: Path) -> None:
    import shutil

    original, kit = _big_project(tmp_path / "original")
    old = _files(original)
    done = tmp_path / "done"
    shutil.copytree(original, done)
    child = _contracts_child(done, kit)
    err = child.communicate(timeout=300)[1]
    assert child.returncode == 0, err
    new = _files(done)
    changed = [name for name in old if old[name] != new[name]]
    assert len(changed) == 4 and max(len(new[n]) for n in changed) > 20_000
    # a write that fails part way (the file size limit: as a full disk), at several points of the biggest file
    biggest = max(len(new[n]) for n in changed)
    for n, fsize in enumerate((4096, biggest - 100)):
        project = tmp_path / f"fsize{n}"
        shutil.copytree(original, project)
        child = _contracts_child(project, kit, fsize)
        err = child.communicate(timeout=300)[1]
        assert child.returncode == 2 and "Traceback" not in err and "no file was changed" in err, err
        assert _files(project) == old
    # SIGKILL: as soon as the writing starts (a temporary file or a changed file seen), then at later points
    for n, delay in enumerate((0.0, 0.1, 0.4)):
        project = tmp_path / f"kill{n}"
        shutil.copytree(original, project)
        child = _contracts_child(project, kit)
        schemas = sorted(project.rglob("schema.yml"))
        while child.poll() is None:
            started = any(p.suffix == ".datakits-tmp" for p in project.rglob(".*")) or any(
                p.stat().st_size != len(old[str(p.relative_to(project))]) for p in schemas
            )
            if started:
                time.sleep(delay)
                child.send_signal(signal.SIGKILL)
                break
        child.communicate(timeout=60)
        _old_or_new(project, old, new)


# --- anchors and aliases --------------------------------------------------------------------------


def test_a_shared_anchor_changes_nothing_outside_the_datakit(tmp_path: Path) -> None:
    schema = """\
version: 2

x-table: &cfg
  materialized: table
x-base: &base
  config:
    materialized: view
x-columns: &cols
  - name: customer_id
    description: The key.

models:
  - name: customers
    config: *cfg
    columns: *cols
  - name: other
    config: *cfg
    columns: *cols
  - name: orders
    <<: *base
"""
    project, kit = _project(
        tmp_path,
        {
            "models/a/schema.yml": schema,
            "models/z/view.yml": "models:\n  - name: v\n    <<: *b\n".replace("<<: *b", "description: a view"),
        },
    )
    (project / "models" / "z" / "v.sql").write_text("select 1 as x")
    assert main(["dbt", "contracts", str(kit), "--project", str(project)]) == 0
    path = project / "models" / "a" / "schema.yml"
    data = _load(path)
    models = {m["name"]: m for m in data["models"]}
    assert models["other"] == {
        "name": "other",
        "config": {"materialized": "table"},
        "columns": [{"name": "customer_id", "description": "The key."}],
    }
    assert data["x-table"] == {"materialized": "table"} and data["x-base"] == {"config": {"materialized": "view"}}
    assert data["x-columns"] == [{"name": "customer_id", "description": "The key."}]
    assert models["customers"]["config"] == {"materialized": "table", "contract": {"enforced": True}}
    assert [c["name"] for c in models["customers"]["columns"]] == ["customer_id", "first_name", "number_of_orders"]
    assert models["orders"]["config"] == {"materialized": "view", "contract": {"enforced": True}}
    text = path.read_text()
    assert "    config: *cfg\n    columns: *cols\n  - name: orders" in text  # the other model's aliases stay


# --- the files dbt reads --------------------------------------------------------------------------


def test_a_model_described_under_a_logs_or_target_folder_gets_no_second_entry(tmp_path: Path) -> None:
    project, kit = _project(
        tmp_path,
        {
            "dbt_project.yml": "name: p\nversion: '1.0'\nprofile: p\ntarget-path: models/z/build\n",
            "models/a/logs/customers.yml": A_SCHEMA,
            "models/z/target/orders.yml": Z_SCHEMA,
            # the project's own target-path: dbt writes there and never reads it
            "models/z/build/stale.yml": "models:\n  - name: other\n",
        },
    )
    assert main(["dbt", "contracts", str(kit), "--project", str(project)]) == 0
    assert not list(project.rglob("_*__models.yml"))
    customers = _load(project / "models" / "a" / "logs" / "customers.yml")["models"][0]
    orders = _load(project / "models" / "z" / "target" / "orders.yml")["models"][0]
    assert customers["config"] == orders["config"] == {"contract": {"enforced": True}}
    assert (project / "models" / "z" / "build" / "stale.yml").read_text() == "models:\n  - name: other\n"


def test_crlf_line_endings_and_a_bom_are_kept(tmp_path: Path) -> None:
    crlf = A_SCHEMA.replace("\n", "\r\n").encode()
    bom = b"\xef\xbb\xbf" + Z_SCHEMA.encode()
    project, kit = _project(tmp_path, {"models/a/schema.yml": crlf, "models/z/schema.yml": bom})
    assert main(["dbt", "contracts", str(kit), "--project", str(project)]) == 0
    a = (project / "models" / "a" / "schema.yml").read_bytes()
    z = (project / "models" / "z" / "schema.yml").read_bytes()
    assert a.count(b"\r\n") == a.count(b"\n") > 10 and a.startswith(crlf.split(b"\r\n    description")[0])
    assert z.startswith(b"\xef\xbb\xbfversion: 2\n") and b"\r" not in z and z.count(b"\xef\xbb\xbf") == 1
    assert main(["dbt", "contracts", str(kit), "--project", str(project), "--check"]) == 0


# --- bad input: one line, exit status 2 -----------------------------------------------------------


def _dangling(project: Path) -> None:
    (project / "models" / "a" / "gone.yml").symlink_to(project / "nowhere.yml")


def _read_only(project: Path) -> None:
    (project / "models" / "a" / "schema.yml").write_text(A_SCHEMA)
    (project / "models" / "a" / "schema.yml").chmod(0o444)


def _folder(project: Path) -> None:
    (project / "models" / "a" / "_a__models.yml").mkdir()


def _latin1(project: Path) -> None:
    (project / "models" / "z" / "schema.yml").write_bytes(
        "models:\n  - name: orders\n    description: café\n".encode("latin-1")
    )


@pytest.mark.parametrize(
    ("make", "args", "expected"),
    [
        (_dangling, ["contracts"], "gone.yml is a symlink to nowhere"),
        (_read_only, ["contracts"], "models/a/schema.yml is read-only"),
        (_folder, ["contracts"], "_a__models.yml is a folder, not a file"),
        (_latin1, ["contracts"], "models/z/schema.yml is not UTF-8 text (byte 0xe9"),
        (None, ["sources", "--output", "/"], "/ is a folder, not a file"),
        (None, ["sources", "--output", "/proc/version"], "/proc/version is not a dbt properties file"),
        (None, ["sources", "--output", "{tmp}"], "is a folder, not a file"),
        (None, ["build", "--vars", "[1, 2]"], "--vars must be a JSON object of dbt variables"),
    ],
    ids=[
        "dangling-symlink",
        "read-only",
        "folder-named-yml",
        "latin-1",
        "output-root",
        "output-proc",
        "output-folder",
        "vars-list",
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(
    make, args: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project, kit = _project(tmp_path, {})
    if make is not None:
        make(project)
    before = _files(project)
    command = [args[0]] if args[0] == "build" else [args[0], str(kit)]
    rest = [a.replace("{tmp}", str(tmp_path)) for a in args[1:]]
    if args[0] == "contracts":
        rest += ["--project", str(project)]
    if args[0] == "build":
        rest += ["--project", str(REPOSITORY / "dbt" / "pagila_warehouse"), "--target", NOWHERE]
    assert main(["dbt", *command, *rest]) == 2
    assert expected in _one_line_error(capsys)
    assert _files(project) == before


def test_a_folder_named_yml_elsewhere_is_a_folder_as_for_dbt(tmp_path: Path) -> None:
    project, kit = _project(tmp_path, {"models/a/schema.yml": A_SCHEMA})
    (project / "models" / "z" / "old.yml").mkdir()
    assert main(["dbt", "contracts", str(kit), "--project", str(project)]) == 0
