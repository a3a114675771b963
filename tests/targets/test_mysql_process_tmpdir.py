"""mysql_process: a /tmp of each server's own (mariadb-install-db runs started at once collided in a
shared one), and a failure shows MariaDB's own error line, not the advice it prints after it.

tests/benchmarks/bench_mysql_process_concurrency.py counts the failures with and without it.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import text

from framework.engines.connect import make_engine
from framework.engines.mysql import process as mysql_process
from framework.errors import TargetError
from framework.targets.provisioning import process

# what mariadb-install-db printed when it failed, three started at once sharing /tmp (before --tmpdir)
CONCURRENT_INSTALL_FAILURE = """\
Installing MariaDB/MySQL system tables in '/tmp/datakits-process-mysql-khgv242u/data' ...
2026-12-03  9:20:56 1 [Warning] Could not remove temporary table: '/tmp/#sql-temptable-71ac-1-3', error: 2
ERROR: 1017  Can't find file: '/tmp/#sql-temptable-71ac-1-3.MAI' (errno: 2 "No such file or directory")
2026-12-03  9:20:56 0 [ERROR] Aborting

Installation of system tables failed!  Examine the logs in
/tmp/datakits-process-mysql-khgv242u/data for more information.

The problem could be conflicting information in an external
my.cnf files. You can ignore these by doing:

    shell> /usr/bin/mariadb-install-db --defaults-file=~/.my.cnf

You can also try to start the mariadbd daemon with:

    shell> /usr/sbin/mariadbd --skip-grant-tables --general-log &

and use the command line tool /usr/bin/mariadb
to connect to the mysql database and look at the grant tables:

    shell> /usr/bin/mariadb -u root mysql
    MariaDB> show tables;

Try '/usr/sbin/mariadbd --help' if you have problems with paths.  Using
--general-log gives you a log in /tmp/datakits-process-mysql-khgv242u/data that may be helpful.

The latest information about mysql_install_db is available at
https://mariadb.com/docs/server/clients-and-utilities/deployment-tools/mariadb-install-db
You can find the latest source at https://downloads.mariadb.org and
the MariaDB discuss email list at https://lists.mariadb.org/postorius/lists/discuss.lists.mariadb.org/

Please check all of the above before submitting a bug report
at https://mariadb.org/jira

"""


def test_the_error_line_of_a_concurrent_install_failure_is_shown() -> None:
    shown = process._tail(CONCURRENT_INSTALL_FAILURE)
    assert shown.startswith("ERROR: 1017  Can't find file: '/tmp/#sql-temptable-71ac-1-3.MAI'")
    assert "Examine the logs" not in shown and "mariadb.org" not in shown.lower()


@pytest.mark.slow
def test_the_server_has_a_tmpdir_of_its_own(servers) -> None:
    server, _ = servers.get("mysql_process")
    engine = make_engine(server.admin_url)
    with engine.connect() as conn:
        tmpdir = Path(conn.execute(text("SELECT @@tmpdir")).scalar_one())
    engine.dispose()
    assert tmpdir.name == "tmp" and tmpdir.parent.name.startswith(process.PREFIX)
    assert tmpdir.parent.parent == Path(tempfile.gettempdir())


@pytest.mark.slow
def test_a_failed_install_shows_the_real_error_line(tmp_path: Path) -> None:
    found = mysql_process.binaries()
    if found is None or found[1] is None:
        pytest.skip("mariadb-install-db is not on this machine")
    recipe = mysql_process.recipe(tmp_path, *found)
    broken = dataclasses.replace(recipe, init=[*recipe.init, "--no-such-option"])  # passed on to mariadbd
    with pytest.raises(TargetError) as caught:
        process._initialize(broken, tmp_path, "mysql_process")
    message = str(caught.value)
    assert "[ERROR]" in message and "no-such-option" in message
    assert "Examine the logs" not in message and "mariadb.org" not in message.lower()
