"""The plugin's engines hand out live connections after the server closed idle ones (``pool_pre_ping``).

A server with an idle timeout (PostgreSQL's ``idle_session_timeout``, MySQL's ``wait_timeout``, a
proxy) closes a pooled connection while it waits in the pool; the next test that takes it got
"terminating connection due to idle-session timeout". Here each test's first connection sets a
short idle timeout for its own session (nothing on the server changes), returns to the pool, and
the next test waits past it.
"""

from __future__ import annotations

import pytest

IDLE = """
import time

import pytest
from sqlalchemy import text

SETTINGS = {
    "postgresql": "SET idle_session_timeout = '300ms'",
    "mysql": "SET SESSION wait_timeout = 1",
}


@pytest.mark.parametrize("n", range(4))
def test_a_pooled_connection_outlives_an_idle_timeout(datakit_engine, datakit_target, n):
    with datakit_engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
        conn.execute(text(SETTINGS[datakit_target.engine]))
        conn.commit()  # PostgreSQL: a SET in a transaction rolled back is undone
    time.sleep(1.6)  # the server closes the connection in the pool meanwhile
"""


@pytest.mark.parametrize("target", ["postgres_local", "mysql_local"])
def test_pooled_connections_closed_by_the_server_are_replaced(run, pytester: pytest.Pytester, target: str) -> None:
    pytester.makepyfile(IDLE)
    result = run(f"--datakit-target={target}", "-p", "no:randomly")
    result.assert_outcomes(passed=4)
