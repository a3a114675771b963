"""Isolation on every engine, with -n 0 and -n 2, whatever the tests do with commit.

Every inner test starts by asserting that the table is empty, then writes and commits in its
own way; the tests are many and parametrised, so under xdist they run interleaved on both
workers. Each test also records which database served it, for the checks on the workers'
databases (one each, one run id) and on what the run leaves behind (nothing).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from plugin_helpers import leftovers

TARGETS = ["sqlite_memory", "sqlite_file", "postgres_local", "mysql_local"]

SUITE = """
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlmodel import Session

from datakits.pagila_bronze import Actor


def row(i):
    return {"actor_id": i, "first_name": "a", "last_name": "b", "dk_batch_id": "b1", "dk_source_table": "actor",
            "dk_record_hash": "h" * 64}


def actor(i):
    return Actor(**row(i))


def count(session_or_connection):
    return session_or_connection.scalar(select(func.count()).select_from(Actor))


@pytest.fixture(autouse=True)
def record(request, datakit_target, datakit_connection):
    seen = {"test": request.node.name, "pid": os.getpid(), "url": datakit_target.url,
            "used": str(datakit_connection.engine.url)}
    with Path(f"seen-{os.getpid()}.jsonl").open("a") as out:
        out.write(json.dumps(seen) + "\\n")


@pytest.mark.parametrize("n", range(4))
def test_session_commit_is_rolled_back(datakit_session, n):
    assert count(datakit_session) == 0
    datakit_session.add_all([actor(i) for i in range(5)])
    datakit_session.commit()
    datakit_session.add(actor(99))
    datakit_session.rollback()  # to the savepoint: the five committed rows stay for the test
    assert count(datakit_session) == 5


@pytest.mark.parametrize("n", range(3))
def test_connection_commit_is_emptied(datakit_connection, n):
    assert count(datakit_connection) == 0
    datakit_connection.execute(insert(Actor), [row(i) for i in range(3)])
    datakit_connection.commit()  # commits the outer transaction for real
    assert count(datakit_connection) == 3


@pytest.mark.datakit(isolation="commit")
@pytest.mark.parametrize("n", range(3))
def test_commit_isolation(datakit_session, datakit_engine, n):
    assert count(datakit_session) == 0
    datakit_session.add_all([actor(i) for i in range(4)])
    datakit_session.commit()
    with Session(datakit_engine) as other:  # committed for real: another connection sees the rows
        assert count(other) == 4


@pytest.mark.datakit(isolation="fresh")
@pytest.mark.parametrize("n", range(2))
def test_fresh_database(datakit_session, datakit_target, datakit_connection, n):
    assert count(datakit_session) == 0
    assert datakit_connection.engine.url.database != datakit_target.database.url.database
    datakit_session.add_all([actor(i) for i in range(2)])
    datakit_session.commit()
    assert count(datakit_session) == 2


def test_the_target(datakit_target, datakit_engine):
    assert datakit_target.engine == datakit_engine.dialect.name
    assert datakit_target.url.startswith(datakit_target.engine)
    assert datakit_target.database.name.startswith("dk_")
"""

PER_TARGET = 4 + 3 + 3 + 2 + 1


def _seen(pytester: pytest.Pytester) -> list[dict[str, str]]:
    return [json.loads(line) for path in pytester.path.glob("seen-*.jsonl") for line in path.read_text().splitlines()]


# xdist hands tests out as it likes (a slow worker may get none of a target's tests): the checks hold
# whatever the distribution; "loadfile" gives every test to one worker, the other idles
@pytest.mark.parametrize(
    "workers", [[], ["-n", "2"], ["-n", "2", "--dist", "loadfile"]], ids=["n0", "n2", "n2-one-busy"]
)
def test_isolation_holds_on_every_engine(run, pytester: pytest.Pytester, workers: list[str]) -> None:
    pytester.makepyfile(SUITE)
    targets = [f"--datakit-target={t}" for t in TARGETS]
    result = run("--datakit=pagila_bronze", *targets, *workers)
    result.assert_outcomes(passed=PER_TARGET * len(TARGETS))
    for target in TARGETS:
        result.stdout.fnmatch_lines([f"{target} * {PER_TARGET} passed, 0 failed, 0 skipped in * s"])
    seen = _seen(pytester)
    run_ids = {row["url"].split("dk_")[1][:8] for row in seen}
    assert len(run_ids) == 1, "one run id for every process of the run"
    pids = {row["pid"] for row in seen}
    assert 1 <= len(pids) <= (2 if workers else 1)
    for target in ["sqlite_file", "postgres_local", "mysql_local"]:
        urls: dict[int, set[str]] = {}
        for row in seen:
            if target in row["test"]:
                urls.setdefault(int(row["pid"]), set()).add(row["url"])
        assert all(len(found) == 1 for found in urls.values()), f"{target}: one database per worker: {urls}"
        assert len(set().union(*urls.values())) == len(urls), f"{target}: each worker a database of its own: {urls}"
    assert leftovers(run_ids.pop()) == []


XDIST_SUITE = """
import os
from pathlib import Path

import pytest
from sqlalchemy import text


@pytest.mark.parametrize("n", range(6))
def test_where(datakit_target, datakit_engine, n):
    Path(f"where-{os.getpid()}-{datakit_target.name}").write_text(datakit_target.url)
    name = datakit_target.database.name
    prefix = name.rsplit("_", 1)[0]  # dk_<run>_t<i>
    if datakit_target.engine == "postgresql":
        with datakit_engine.connect() as conn:
            names = conn.execute(text("SELECT datname FROM pg_database WHERE starts_with(datname, :p)"), {"p": prefix})
            assert f"{prefix}_tpl" in {row[0] for row in names}  # the run's template, the workers' source
"""


def test_xdist_workers_share_servers_and_templates(run, pytester: pytest.Pytester) -> None:
    """With -n 2, the embedded server is started once, by the controller, and both workers use it."""
    pytester.makepyfile(XDIST_SUITE)
    targets = ["postgres_embedded", "postgres_local", "sqlite_file"]
    result = run("--datakit=pagila_bronze", *[f"--datakit-target={t}" for t in targets], "-n", "2")
    result.assert_outcomes(passed=18)
    where: dict[str, dict[str, str]] = {}
    for path in pytester.path.glob("where-*"):
        _, pid, target = path.name.split("-", 2)
        where.setdefault(target, {})[pid] = path.read_text()
    if len(where["postgres_embedded"]) < 2:
        pytest.skip("one worker ran every test; nothing to compare")
    sockets = {parse_qs(urlsplit(url).query)["host"][0] for url in where["postgres_embedded"].values()}
    assert len(sockets) == 1, f"one embedded server for the run: {sockets}"
    assert len(set(where["postgres_embedded"].values())) == 2, "a database of its own per worker"
    assert not list(Path(sockets.pop()).glob(".s.PGSQL.*")), "the embedded server is stopped at the end"


ENGINE_ONLY = """
import pytest
from sqlalchemy import func, insert, select

from datakits.pagila_bronze import Actor


@pytest.mark.datakit(isolation="commit")
@pytest.mark.parametrize("n", range(2))
def test_commits_through_the_engine(datakit_engine, n):
    with datakit_engine.begin() as conn:
        assert conn.scalar(select(func.count()).select_from(Actor)) == 0
        conn.execute(insert(Actor).values(actor_id=n, first_name="a", last_name="b", dk_batch_id="b1",
                                          dk_source_table="actor", dk_record_hash="h" * 64))
"""


def test_commit_isolation_empties_tables_for_an_engine_only_test(run, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(ENGINE_ONLY)
    targets = ["sqlite_memory", "postgres_local", "mysql_local"]
    result = run("--datakit=pagila_bronze", *[f"--datakit-target={t}" for t in targets])
    result.assert_outcomes(passed=6)
