"""A small dbt_utils-like package laid out as ``dbt deps`` lays one out, written for these tests.

pip cannot fetch dbt hub packages here, so this is a package of our own with dbt_utils' shape: the
repository's root under ``dbt_packages/dbt_utils/`` (``dbt_project.yml``, a README and an
``integration_tests/`` project dbt never reads), macros under ``macros/`` that name
``target.database`` as a default argument and in a branch taken only when a run executes (as
dbt_utils' relation macros do), a generic test, and ``package-lock.yml`` / ``packages.yml`` in the
project that uses it. ``write_dbt_utils(project)`` writes it into ``project``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

FILES = {
    "packages.yml": """
        packages:
          - package: dbt-labs/dbt_utils
            version: [">=1.0.0", "<2.0.0"]
    """,
    "package-lock.yml": """
        packages:
          - package: dbt-labs/dbt_utils
            version: 1.3.0
        sha1_hash: 0000000000000000000000000000000000000000
    """,
    "dbt_packages/dbt_utils/dbt_project.yml": """
        name: 'dbt_utils'
        version: '1.3.0'
        require-dbt-version: [">=1.3.0", "<2.0.0"]
        config-version: 2
        target-path: "target"
        clean-targets: ["target", "dbt_modules", "dbt_packages"]
        macro-paths: ["macros"]
        log-path: "logs"
    """,
    "dbt_packages/dbt_utils/README.md": """
        # dbt_utils (a stand-in for these tests)

        `get_relations_by_prefix(schema, prefix, database=target.database)` lists the relations of a
        schema; `target.database` is read when a run executes it, never while dbt parses.
    """,
    "dbt_packages/dbt_utils/macros/sql/get_relations_by_prefix.sql": """
        {% macro get_relations_by_prefix(schema, prefix, exclude='', database=target.database) %}
            {{ return(adapter.dispatch('get_relations_by_prefix', 'dbt_utils')(schema, prefix, exclude, database)) }}
        {% endmacro %}

        {% macro default__get_relations_by_prefix(schema, prefix, exclude='', database=target.database) %}
            {%- if not execute -%}
                {{ return([]) }}
            {%- endif -%}
            {%- call statement('get_tables', fetch_result=True) -%}
                select table_schema, table_name from {{ database }}.information_schema.tables
                where table_schema ilike '{{ schema }}' and table_name ilike '{{ prefix }}%'
            {%- endcall -%}
            {%- set found = [] -%}
            {%- for row in load_result('get_tables').table -%}
                {%- do found.append(api.Relation.create(database=database, schema=row[0], identifier=row[1])) -%}
            {%- endfor -%}
            {{ return(found) }}
        {% endmacro %}
    """,
    "dbt_packages/dbt_utils/macros/sql/generate_series.sql": """
        {% macro generate_series(upper_bound) %}
            {{ return(adapter.dispatch('generate_series', 'dbt_utils')(upper_bound)) }}
        {% endmacro %}

        {% macro default__generate_series(upper_bound) %}
            select generate_series(1, {{ upper_bound }}) as generated_number
        {% endmacro %}
    """,
    "dbt_packages/dbt_utils/macros/generic_tests/at_least_one.sql": """
        {% test at_least_one(model, column_name) %}
            select count({{ column_name }}) as filler from {{ model }} having count({{ column_name }}) = 0
        {% endtest %}
    """,
    "dbt_packages/dbt_utils/integration_tests/dbt_project.yml": """
        name: 'dbt_utils_integration_tests'
        version: '1.0'
        config-version: 2
        profile: 'integration_tests'
    """,
    "dbt_packages/dbt_utils/integration_tests/models/test_relations.sql": """
        {% set found = dbt_utils.get_relations_by_prefix(target.schema, 'x', database=target.database) %}
        select {{ found | length }} as n
    """,
}


def write_dbt_utils(project: Path) -> Path:
    """Write the package (and the project's ``packages.yml`` / ``package-lock.yml``) into ``project``."""
    for name, body in FILES.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body).lstrip())
    return project / "dbt_packages" / "dbt_utils"


#: a model using the package, and a test of the package's
NUMBERS_SQL = """
{%- set relations = dbt_utils.get_relations_by_prefix('public', 'numbers') -%}
select generated_number as n, {{ relations | length }} as seen from ({{ dbt_utils.generate_series(3) }}) as s
"""
NUMBERS_YML = """
version: 2
models:
  - name: numbers
    columns:
      - name: n
        data_tests:
          - dbt_utils.at_least_one
"""
