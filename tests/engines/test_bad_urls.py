"""Bad URLs and options are one line (exit status 2), never a traceback: each of these was one.

Drivers that are not installed (or that are asyncio's), a NUL in a database name, a MySQL name too
long to hold schemas, options the driver refuses (a charset, a certificate file, a timeout that is
not a number), ``DATAKITS_POSTGRES_URL`` that is not a URL, ``reflect --out`` a file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from framework.cli.main import main

LONG = "a" * 70


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql+asyncpg://postgres@127.0.0.1/postgres", "the driver 'postgresql+asyncpg' is not installed"),
        ("postgresql+pg8000://postgres@127.0.0.1/postgres", "the driver 'postgresql+pg8000' is not installed"),
        ("postgresql+psycopg://postgres@127.0.0.1/postgres", "the driver 'postgresql+psycopg' is not installed"),
        ("mysql+mysqldb://root@127.0.0.1/x", "the driver 'mysql+mysqldb' is not installed"),
        ("mysql+aiomysql://root@127.0.0.1/x", "the driver 'mysql+aiomysql' is not installed"),
        ("postgresql://postgres@127.0.0.1:5432/a%00b", "embedded null character"),
        (f"mysql://root@127.0.0.1:3306/{LONG}", "is too long to hold schemas"),
        ("mysql://root@127.0.0.1:3306/mysql?charset=bogus", "the connection options were refused"),
        ("mysql://root@127.0.0.1:3306/mysql?ssl_ca=/nonexistent", "FileNotFoundError"),
        ("mysql://root@127.0.0.1:3306/mysql?read_timeout=abc", "invalid literal for int()"),
    ],
)
def test_a_bad_url_is_one_line(url: str, expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["deploy", "pagila_bronze", "--target", url])
    out, err = capsys.readouterr()
    assert status == 2, out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("datakits: ") and expected in lines[0], err


def test_a_local_target_url_that_is_garbage_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATAKITS_POSTGRES_URL", "garbage")
    status = main(["deploy", "pagila_bronze", "--target", "postgres_local"])
    err = capsys.readouterr().err
    assert status == 2 and err.strip() == (
        "datakits: postgres_local: 'garbage' (DATAKITS_POSTGRES_URL) is not a database URL; "
        "give one such as postgresql://user@host:port"
    )


def test_reflect_out_a_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["reflect", f"sqlite:///{tmp_path / 'x.db'}", "--out", "/etc/passwd"])
    err = capsys.readouterr().err
    assert (
        status == 2
        and err.strip() == "datakits: --out '/etc/passwd' is a file, not a folder; give a new folder for the kit"
    )
