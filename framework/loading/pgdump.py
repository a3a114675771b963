"""Load a plain-text pg_dump (SQL plus ``COPY ... FROM stdin`` blocks) without psql."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy.engine import URL

from ..engines.connect import make_engine


def _statements(text: str) -> list[tuple[str, str | None]]:
    """(sql, copy data) pairs in file order; copy data is None for plain SQL."""
    parts: list[tuple[str, str | None]] = []
    sql: list[str] = []
    lines = iter(text.splitlines(keepends=True))
    for line in lines:
        if line.startswith("COPY ") and line.rstrip().endswith("FROM stdin;"):
            if sql:
                parts.append(("".join(sql), None))
                sql = []
            data: list[str] = []
            for row in lines:
                if row.rstrip("\n") == "\\.":
                    break
                data.append(row)
            parts.append((line.rstrip().rstrip(";"), "".join(data)))
        elif not line.startswith("\\"):  # psql meta-commands (\restrict ...) are not SQL
            sql.append(line)
    if "".join(sql).strip():
        parts.append(("".join(sql), None))
    return parts


def _has_sql(sql: str) -> bool:
    return any(line.strip() and not line.lstrip().startswith("--") for line in sql.splitlines())


def load_plain_dump(url: str | URL, *files: Path) -> None:
    """Run each dump file into the PostgreSQL database at ``url``, in one transaction per file."""
    engine = make_engine(url)
    try:
        for path in files:
            raw = engine.raw_connection()
            try:
                cursor = raw.cursor()
                for sql, data in _statements(Path(path).read_text(encoding="utf-8")):
                    if data is None:
                        if _has_sql(sql):
                            cursor.execute(sql)
                    else:
                        cursor.copy_expert(sql, io.StringIO(data))  # type: ignore[attr-defined,unused-ignore]
                raw.commit()
            finally:
                raw.close()
    finally:
        engine.dispose()
