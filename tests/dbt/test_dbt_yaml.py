"""dbt projects the toolkit did not write: their own YAML edited in place, ``--check`` by meaning, sources
of a default-schema datakit naming their schema, and ``validate`` of what dbt built.

The project is a small jaffle shop written here (tests/dbt/jaffle.py), with a hand-written
``models/schema.yml`` (descriptions, tests, meta, comments) and ``models/sources.yml``; dbt builds it
for real on ``postgres_local``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from jaffle import SCHEMA_YML, SOURCES_YML, write_jaffle
from sqlalchemy import text

from framework import Database, DbtError, load_datakit, run_dbt, validate_deployment
from framework.cli.main import main


def _url(database: Database) -> str:
    return database.url.render_as_string(hide_password=False)


def _in_order(lines: list[str], text_: str) -> bool:
    """Whether every line of ``lines`` is in ``text_``, in that order (other lines may come between)."""
    found = iter(text_.splitlines())
    return all(any(line == other for other in found) for line in lines)


@pytest.fixture(scope="module")
def jaffle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project and its datakits, after ``sources`` and ``contracts`` wrote into the project's own YAML."""
    folder = tmp_path_factory.mktemp("jaffle")
    project = write_jaffle(folder)
    assert main(["dbt", "sources", str(folder / "kits" / "jaffle_source"), "--project", str(project)]) == 0
    assert main(["dbt", "contracts", str(folder / "kits" / "jaffle_marts"), "--project", str(project)]) == 0
    return project


@pytest.fixture(scope="module")
def built(servers, jaffle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """The jaffle shop built by dbt (seeds, then the rest) into a database of its own."""
    _, run = servers.get("postgres_local")
    database = run.create_database("jaffle")
    state = tmp_path_factory.mktemp("jaffle_state")
    run_dbt(jaffle, database, ("seed",), state_dir=state)
    result = run_dbt(jaffle, database, ("build",), state_dir=state)
    assert result.counts()["model"] == {"success": 4}
    yield database
    run.drop(database)


def test_contracts_go_into_the_users_schema_yml_keeping_what_is_there(jaffle: Path) -> None:
    written = (jaffle / "models" / "schema.yml").read_text()
    assert not list((jaffle / "models").rglob("_*__models.yml"))  # no second entry for dbt to refuse
    original = [line for line in SCHEMA_YML.splitlines() if line.strip()]
    assert _in_order(original, written)  # descriptions, the tests, meta, both comments, key order
    assert "  # the marts: what the business reads" in written
    assert '        description: "Given name"   # as typed at sign-up' in written
    assert "            data_tests:\n              - accepted_values:" in written or "accepted_values" in written
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(written)
    customers, orders = data["models"]
    assert customers["config"] == {"contract": {"enforced": True}}
    assert customers["meta"] == {"owner": "analytics"}
    assert customers["constraints"] == [{"type": "primary_key", "columns": ["customer_id"]}]
    columns = {c["name"]: c for c in customers["columns"]}
    assert list(columns) == ["customer_id", "first_name", "last_name", "first_order", "number_of_orders"]
    assert columns["customer_id"]["data_tests"] == ["unique", "not_null"]  # its own unique, the key's not_null
    assert columns["number_of_orders"]["data_type"] == "bigint"
    assert columns["first_name"]["description"] == "Given name"
    status = next(c for c in orders["columns"] if c["name"] == "status")
    assert status["data_tests"][0]["accepted_values"]["arguments"]["values"][0] == "placed"
    customer_id = next(c for c in orders["columns"] if c["name"] == "customer_id")
    assert customer_id["data_tests"] == [
        {"relationships": {"arguments": {"to": "ref('customers')", "field": "customer_id"}}}
    ]


def test_sources_of_a_default_schema_datakit_name_their_schema_in_the_users_file(jaffle: Path) -> None:
    written = (jaffle / "models" / "sources.yml").read_text()
    assert not (jaffle / "models" / "_jaffle_source__sources.yml").exists()
    assert _in_order([line for line in SOURCES_YML.splitlines() if line.strip()], written)
    assert "# loaded nightly" in written
    from ruamel.yaml import YAML

    (source,) = YAML(typ="safe").load(written)["sources"]
    assert source["schema"] == "public"  # else dbt reads the source's name as its schema
    assert [t["name"] for t in source["tables"]] == ["raw_customers", "raw_orders"]
    assert source["tables"][0]["description"] == "Customers, one row each."


def test_dbt_builds_the_project_with_its_contracts_and_tests(built: Database) -> None:
    engine = built.engine()
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT customer_id, number_of_orders FROM customers ORDER BY 1")).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [(1, 2), (2, 0), (3, 1)]


def test_check_passes_with_another_spelling_of_the_kit_path(
    jaffle: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(jaffle.parent)
    for command, kit in (("contracts", "./kits/jaffle_marts/"), ("sources", "kits//jaffle_source")):
        assert main(["dbt", command, kit, "--project", "jaffle", "--check"]) == 0
    out = capsys.readouterr().out
    assert "the model contracts in jaffle match the datakit jaffle_marts" in out
    assert "the sources in jaffle match the datakit jaffle_source" in out


def test_check_fails_with_a_diff_on_a_real_change(
    jaffle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    project = tmp_path / "jaffle"
    shutil.copytree(jaffle, project)
    shutil.copytree(jaffle.parent / "kits", tmp_path / "kits")
    schema = project / "models" / "schema.yml"
    before = schema.read_text()
    schema.write_text(before.replace("data_type: bigint", "data_type: integer"))
    sources = project / "models" / "sources.yml"
    sources.write_text(sources.read_text().replace("schema: public", "schema: raw"))
    assert (
        main(["dbt", "contracts", str(tmp_path / "kits" / "jaffle_marts"), "--project", str(project), "--check"]) == 1
    )
    out = capsys.readouterr().out
    assert out.startswith("1 file(s) differ from the datakit jaffle_marts:")
    assert "-        data_type: integer\n+        data_type: bigint" in out
    assert main(["dbt", "sources", str(tmp_path / "kits" / "jaffle_source"), "--project", str(project), "--check"]) == 1
    out = capsys.readouterr().out
    assert "-    schema: raw\n+    schema: public" in out and "run: datakits dbt sources" in out
    # a comment or a quote changed is no change of meaning
    schema.write_text(before.replace("data_type: bigint", "data_type: 'bigint'  # count(*)"))
    assert (
        main(["dbt", "contracts", str(tmp_path / "kits" / "jaffle_marts"), "--project", str(project), "--check"]) == 0
    )


def test_a_contract_drift_is_told_in_the_databases_type_names(built: Database, jaffle: Path, tmp_path: Path) -> None:
    import shutil

    project = tmp_path / "jaffle"
    shutil.copytree(jaffle, project)
    model = project / "models" / "marts" / "customers.sql"
    model.write_text(model.read_text().replace("count(o.order_id) as", "count(o.order_id)::int as"))
    with pytest.raises(DbtError) as caught:
        run_dbt(project, built, ("run",), select="customers", state_dir=tmp_path / "state")
    message = str(caught.value)
    assert "number_of_orders: INTEGER in the model, BIGINT in the contract (data type mismatch)" in message
    assert "LONGINTEGER" not in message and "; " not in message.split("(data type mismatch)")[-1][:2]


# --- validate what dbt built ----------------------------------------------------------------------


def test_validate_after_dbt_reports_tested_foreign_keys_and_extra_tables(
    built: Database, jaffle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marts = str(jaffle.parent / "kits" / "jaffle_marts")
    report = validate_deployment(load_datakit(marts), built)
    assert [str(d) for d in report.drift] == [
        "raw_customers: table is not in the datakit",
        "raw_orders: table is not in the datakit",
    ]
    assert report.tested == ["orders: foreign key on (customer_id) to customers (customer_id)"]
    assert validate_deployment(load_datakit(marts), built, ignore_extra_tables=True).success
    assert main(["validate", marts, "--target", _url(built)]) == 1
    assert main(["validate", marts, "--target", _url(built), "--ignore-extra-tables"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-2].endswith(": no drift")
    assert out[-1] == "  tested by dbt: orders: foreign key on (customer_id) to customers (customer_id)"


def test_a_foreign_key_not_declared_tested_is_missing(built: Database) -> None:
    from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table

    metadata = MetaData()
    Table("customers", metadata, Column("customer_id", Integer, primary_key=True))
    orders = Table(
        "orders",
        metadata,
        Column("order_id", Integer, primary_key=True),
        Column("customer_id", ForeignKey("customers.customer_id")),
    )
    report = validate_deployment([orders], built, ignore_extra_tables=True)
    assert any(d.kind == "missing_foreign_key" for d in report.drift) and not report.tested


def test_inert_leaves_plain_text_alone_and_wraps_jinja_whole() -> None:
    from framework.dbt.merge import inert

    assert inert("One row per customer.") == "One row per customer."
    assert inert("{{ env_var('X') }}") == "{% raw %}{{ env_var('X') }}{% endraw %}"
    tricky = inert("a {% endraw %} b {{ x }}")  # an endraw inside cannot end the raw block early
    assert tricky.startswith("{% raw %}a {% endraw %}{{ '{% endraw %}' }}{% raw %} b {{ x }}")


def test_sources_into_an_output_file_of_the_users_own_edit_it_in_place(jaffle: Path, tmp_path: Path) -> None:
    mine = tmp_path / "my_sources.yml"
    mine.write_text(SOURCES_YML)
    kit = str(jaffle.parent / "kits" / "jaffle_source")
    assert main(["dbt", "sources", kit, "--output", str(mine)]) == 0
    written = mine.read_text()
    assert "# loaded nightly" in written and "schema: public" in written and "- name: raw_orders" in written
    assert main(["dbt", "sources", kit, "--output", str(mine), "--check"]) == 0
