"""mysql_process: a /tmp of each server's own (mariadb-install-db runs started at once collided in a
shared one), and a failure shows MariaDB's own error line, not the advice it prints after it."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import text

from framework.connect import make_engine
from framework.errors import TargetError
from framework.provisioning import process

pytestmark = pytest.mark.slow


def test_the_server_has_a_tmpdir_of_its_own(servers) -> None:
    server, _ = servers.get("mysql_process")
    engine = make_engine(server.admin_url)
    with engine.connect() as conn:
        tmpdir = Path(conn.execute(text("SELECT @@tmpdir")).scalar_one())
    engine.dispose()
    assert tmpdir.name == "tmp" and tmpdir.parent.name.startswith(process.PREFIX)
    assert tmpdir.parent.parent == Path(tempfile.gettempdir())


def test_a_failed_install_shows_the_real_error_line(tmp_path: Path) -> None:
    found = process._mysql_binaries()
    if found is None or found[1] is None:
        pytest.skip("mariadb-install-db is not on this machine")
    recipe = process._mysql(tmp_path, *found)
    broken = dataclasses.replace(recipe, init=[*recipe.init, "--no-such-option"])  # passed on to mariadbd
    with pytest.raises(TargetError) as caught:
        process._initialize(broken, tmp_path, "mysql_process")
    message = str(caught.value)
    assert "[ERROR]" in message and "no-such-option" in message
    assert "Examine the logs" not in message and "mariadb.org" not in message.lower()
