"""A commit test that reads through ``datakit_session`` and writes through ``datakit_engine``.

The two are separate connections, so separate transactions, and the session's begins with its
first read and lasts until it commits. What the engine's write and the session's next read then
do differs per engine, as docs/getting-started.md ("Commit tests that mix the session and the
engine") says; the inner tests assert what each engine really does:

- SQLite (file): the write waits the driver's busy timeout, then "database is locked";
  SQLite (shared memory): refused at once, "database table is locked"; both with the library's
  note on what to do.
- PostgreSQL (READ COMMITTED): the write goes through; the session's next read sees the row.
- MariaDB (REPEATABLE READ): the write goes through; the session reads its snapshot, without the
  row, until it commits.
- Everywhere: with the session's transaction ended before the engine writes, the session sees
  the row (the page's example, run here too); a write of a row the session's transaction wrote
  waits for that transaction.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ["sqlite_file", "sqlite_memory", "postgres_local", "mysql_local"]

SUITE = """
import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import OperationalError

from datakits.pagila_bronze import Actor
from framework.engines.sqlite import LOCKED_NOTE

LOCKED = {"sqlite_file": "database is locked", "sqlite_memory": "database table is locked"}


def row(i):
    return {"actor_id": i, "first_name": "a", "last_name": "b", "dk_batch_id": "b1", "dk_source_table": "actor",
            "dk_record_hash": "h" * 64}


def count(reader):
    return reader.scalar(select(func.count()).select_from(Actor))


def engine_writes(engine, i):
    with engine.begin() as conn:  # another connection, committed at the end of the block
        conn.execute(insert(Actor), [row(i)])


@pytest.mark.datakit(isolation="commit")
def test_session_reads_engine_writes_session_reads(datakit_session, datakit_engine, datakit_target):
    assert count(datakit_session) == 0  # the session's transaction begins here
    if datakit_target.engine == "sqlite":
        with pytest.raises(OperationalError, match=LOCKED[datakit_target.name]) as caught:
            engine_writes(datakit_engine, 1)
        assert LOCKED_NOTE in caught.value.__notes__
        assert count(datakit_session) == 0
        return
    engine_writes(datakit_engine, 1)
    if datakit_target.engine == "postgresql":
        assert count(datakit_session) == 1  # READ COMMITTED: each statement sees what is committed
    else:
        assert count(datakit_session) == 0  # REPEATABLE READ: the snapshot of the session's first read
    datakit_session.commit()  # ends the session's transaction; the next read begins a new one
    assert count(datakit_session) == 1


@pytest.mark.datakit(isolation="commit")
def test_end_the_session_transaction_before_the_engine_writes(datakit_session, datakit_engine):
    assert count(datakit_session) == 0
    datakit_session.commit()
    engine_writes(datakit_engine, 1)
    assert count(datakit_session) == 1  # a read begins a transaction again:
    datakit_session.commit()  # end it before the next write too
    engine_writes(datakit_engine, 2)
    assert count(datakit_session) == 2


@pytest.mark.datakit(isolation="commit")
def test_write_through_the_session(datakit_session, datakit_engine):
    assert count(datakit_session) == 0
    datakit_session.add(Actor(**row(1)))
    datakit_session.commit()
    assert count(datakit_session) == 1
    datakit_session.commit()
    with datakit_engine.connect() as other:
        assert count(other) == 1


@pytest.mark.datakit(isolation="commit", engines=["postgresql", "mysql"])
def test_engine_writes_a_row_the_session_wrote(datakit_session, datakit_engine, datakit_target):
    datakit_session.add(Actor(**row(1)))
    datakit_session.flush()  # the session's transaction holds the row's lock until it ends
    with pytest.raises(OperationalError, match="lock timeout|Lock wait timeout exceeded"):
        with datakit_engine.begin() as conn:
            if datakit_target.engine == "postgresql":  # lock_timeout is 0 there: it would wait for ever
                conn.execute(text("SET LOCAL lock_timeout = '1s'"))
            else:  # innodb_lock_wait_timeout is 50 s by default
                conn.execute(text("SET SESSION innodb_lock_wait_timeout = 1"))
            conn.execute(insert(Actor), [row(1)])


@pytest.mark.datakit(isolation="commit", targets=["sqlite_memory"])
def test_what_a_locked_write_shows(datakit_session, datakit_engine):
    count(datakit_session)
    engine_writes(datakit_engine, 1)  # fails: what the user reads
"""


def doc_example() -> str:
    """The getting-started page's example of a commit test that ends the session's transaction first."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "getting-started.md").read_text(), re.S)
    (found,) = [block for block in blocks if "def test_a_row_written_on_another_connection" in block]
    return found


def test_mixing_session_reads_and_engine_writes_on_each_engine(run, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_mixing=SUITE, test_doc_example=doc_example())
    result = run("--datakit=pagila_bronze", *(f"--datakit-target={t}" for t in TARGETS), "-rfs")
    result.assert_outcomes(passed=3 * 4 + 2 + 4, skipped=2 + 3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_what_a_locked_write_shows*",
            "E * sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) database table is locked*",
            "E * SQLite lets a connection write only while no other connection of the database is inside a "
            "transaction (a read begins one): commit or roll back that transaction first (in a commit test: "
            "datakit_session.commit() before writing through datakit_engine)",
        ]
    )
    result.stdout.fnmatch_lines(["FAILED test_mixing.py::test_what_a_locked_write_shows[[]sqlite_memory[]] - *"])
