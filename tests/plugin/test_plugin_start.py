"""What a start costs in imports (issue 29): the plugin and ``datakits --help`` import neither dbt nor
Airflow (they come when a test or a command needs them), and ``import framework`` imports no
module of the library's until a name of it is used. Time is measured by
``tests/benchmarks/bench_start.py``, never here.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["dbt", "airflow", "agate", "pyarrow", "copier", "testcontainers", "docker", "sqlalchemy", "sqlmodel"]

PROBE = """
import json, sys
{code}
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}} & set({heavy!r}))))
"""


def _imported(code: str) -> list[str]:
    probe = PROBE.format(code=code, heavy=HEAVY)
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    return list(json.loads(found.stdout.strip().splitlines()[-1]))


def test_the_plugin_imports_neither_dbt_nor_airflow() -> None:
    found = _imported("import pytest_datakits.plugin")
    assert not {"dbt", "airflow", "agate", "pyarrow", "copier", "testcontainers", "docker"} & set(found), found


def test_datakits_help_imports_neither_dbt_nor_airflow() -> None:
    code = "from framework.cli.main import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    found = _imported(code)
    assert not {"dbt", "airflow", "agate", "pyarrow", "copier", "testcontainers", "docker"} & set(found), found


def test_import_framework_imports_what_a_name_needs_when_it_is_used() -> None:
    assert _imported("import framework") == []
    assert _imported("from framework import DatakitError") == []  # the errors need no database library
    assert "sqlalchemy" in _imported("from framework import get_target_config")
