"""The merge on a real-shaped project: jaffle-shop's YAML (flow-style unit tests, semantic models, metrics,
comments) keeps every part the datakit does not own as it was written; a contract's columns in the kit's
order; a ``relationships`` test matched by its target; ``--source-name``; the sources of a derived bronze.

dbt itself parses the merged project (``list_tests``: no database needed).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from jaffle_shape import CUSTOMERS_YML, ORDERS_YML, SOURCES_YML, write_jaffle_shape
from ruamel.yaml import YAML

from framework.cli.main import main
from framework.dbt.listing import list_tests

ORDERS_MERGED = """\
models:
  - name: orders
    description: One row per order.
    config: {materialized: table, tags: ['marts'], contract: {enforced: true}}
    columns:
      - name: order_id
        data_type: integer
        data_tests:
          - not_null
          - unique
        constraints:
          - type: not_null
      - name: customer_id
        data_type: integer
        description: The customer who ordered.
        data_tests:
          - relationships:
              arguments:
                to: ref('stg_customers')
                field: customer_id
          - relationships:
              arguments:
                to: ref('customers')
                field: customer_id
        constraints:
          - type: not_null
      - name: order_total
        data_type: integer
        data_tests:
          - accepted_values:
              arguments:
                values: [5, 10]
                quote: false
        constraints:
          - type: not_null
    constraints:
      - type: primary_key
        columns:
          - order_id

"""


@pytest.fixture(scope="module")
def shape(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("shape")
    project = write_jaffle_shape(folder)
    kits = folder / "kits"
    assert main(["dbt", "contracts", str(kits / "shop_marts"), "--project", str(project)]) == 0
    source = str(kits / "shop_source")
    assert main(["dbt", "sources", source, "--source-name", "ecom", "--project", str(project)]) == 0
    return project


def _tail(text: str, key: str) -> str:
    return text[text.index(f"\n{key}:") :]


def test_unit_tests_semantic_models_and_metrics_stay_as_written(shape: Path) -> None:
    merged = (shape / "models" / "marts" / "orders.yml").read_text()
    assert _tail(merged, "unit_tests") == _tail(ORDERS_YML, "unit_tests")  # flow mappings, comments: byte for byte
    assert "          - { order_id: 1, customer_id: 1, order_total: 10 }\n          - {\n" in merged
    assert merged == ORDERS_MERGED + _tail(ORDERS_YML, "unit_tests").lstrip("\n")


def test_a_contracts_new_columns_go_in_the_kits_order(shape: Path) -> None:
    data = YAML(typ="safe").load((shape / "models" / "marts" / "customers.yml").read_text())
    columns = data["models"][0]["columns"]
    assert [c["name"] for c in columns] == ["customer_id", "first_name", "number_of_orders"]
    text = (shape / "models" / "marts" / "customers.yml").read_text()
    assert "      - name: number_of_orders   # counted in the orders CTE\n" in text
    assert CUSTOMERS_YML.splitlines()[:5] == text.splitlines()[:5]


def test_a_relationships_test_is_matched_by_its_target(shape: Path) -> None:
    data = YAML(typ="safe").load((shape / "models" / "marts" / "orders.yml").read_text())
    customer_id = next(c for c in data["models"][0]["columns"] if c["name"] == "customer_id")
    targets = [t["relationships"]["arguments"]["to"] for t in customer_id["data_tests"]]
    assert targets == ["ref('stg_customers')", "ref('customers')"]  # the user's test stays; the kit's key is added
    names = {t.name for t in list_tests(shape)}  # dbt parses the merged project: both are tests
    assert "relationships_orders_customer_id__customer_id__ref_customers_" in names
    assert "relationships_orders_customer_id__customer_id__ref_stg_customers_" in names
    assert "test_order_totals" in names


def test_source_name_edits_the_users_source_of_that_name(shape: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (shape / "models" / "staging" / "__sources.yml").read_text()
    assert not list(shape.rglob("_shop_source__sources.yml"))
    assert "    description: E-commerce data  # loaded by the app\n" in text
    (source,) = YAML(typ="safe").load(text)["sources"]
    assert source["name"] == "ecom" and source["schema"] == "public"
    assert [c["name"] for c in source["tables"][1]["columns"]] == ["id", "customer", "ordered_at", "order_total"]
    assert source["tables"][1]["loaded_at_field"] == "ordered_at"
    kit = str(shape.parent / "kits" / "shop_source")
    assert main(["dbt", "sources", kit, "--source-name", "ecom", "--project", str(shape), "--check"]) == 0
    assert main(["dbt", "sources", kit, "--project", str(shape), "--check"]) == 1  # named after the kit: a new source
    capsys.readouterr()
    assert main(["dbt", "sources", kit, "--source-name", "ecom"]) == 0
    assert "- name: ecom\n" in capsys.readouterr().out
    assert SOURCES_YML.splitlines()[:5] == text.splitlines()[:4] + text.splitlines()[5:6]


def test_a_sources_new_column_goes_after_the_kits_column_before_it(tmp_path: Path) -> None:
    project = write_jaffle_shape(tmp_path)
    sources = project / "models" / "staging" / "__sources.yml"
    sources.write_text(
        SOURCES_YML.replace(
            "      - name: raw_orders\n",
            "      - name: raw_orders\n        columns:\n          - name: note\n          - name: ordered_at\n",
        )
    )
    kit = str(tmp_path / "kits" / "shop_source")
    assert main(["dbt", "sources", kit, "--source-name", "ecom", "--project", str(project)]) == 0
    (source,) = YAML(typ="safe").load(sources.read_text())["sources"]
    columns = [c["name"] for c in source["tables"][1]["columns"]]
    assert columns == ["note", "id", "customer", "ordered_at", "order_total"]  # the source's own column stays


# --- a derived bronze -----------------------------------------------------------------------------


def _datakits(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it (a process of its own: the project's kits import as they would)."""
    return subprocess.run(
        [sys.executable, "-m", "framework.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_sources_of_the_derived_bronze_of_an_init_project(tmp_path: Path) -> None:
    assert _datakits("init", "shop", cwd=tmp_path).returncode == 0
    project = tmp_path / "shop"
    generated = project / "warehouse" / "models" / "sources.yml"
    before = generated.read_text()
    for spelling in (["kits/shop_source", "--derive-bronze"], ["kits/shop_bronze"], ["./kits/shop_bronze/"]):
        done = _datakits("dbt", "sources", *spelling, "--project", "warehouse", "--check", cwd=project)
        assert done.returncode == 0 and "match the datakit shop_bronze" in done.stdout, (spelling, done.stderr)
    models = project / "kits" / "shop_source" / "models.py"
    models.write_text(
        models.read_text().replace("    signed_up: date\n", "    signed_up: date\n    phone: str | None = None\n", 1)
    )
    assert (
        _datakits("dbt", "sources", "kits/shop_bronze", "--project", "warehouse", "--check", cwd=project).returncode
        == 1
    )
    assert _datakits("dbt", "sources", "kits/shop_bronze", "--project", "warehouse", cwd=project).returncode == 0
    assert sorted(p.name for p in generated.parent.glob("*.yml")) == ["sources.yml"]  # the same file, no second
    after = generated.read_text()
    assert after != before and "name: phone" in after and "br__shop__public" in after
    assert after.splitlines()[0] == before.splitlines()[0]  # still generated from shop_bronze
    done = _datakits("dbt", "sources", "kits/nothing_bronze", "--project", "warehouse", cwd=project)
    assert done.returncode == 2 and "nor a source datakit kits/nothing_source" in done.stderr
