"""A user's files written whole or not at all, and read as they are (UTF-8, a BOM, CRLF line endings).

``write_files`` writes as pip and git do: every file is checked first (its folder writable, the file not
read-only, not a folder, not a symlink to nowhere), then each new content goes to a temporary file in
the file's own folder (flushed to disk), and only when every one is written are they renamed over the
files (``os.replace``, atomic on POSIX). A SIGKILL, a full disk or a refused file therefore leaves each
file as it was or as it is meant to be, never cut short; a failure before the first rename leaves every
file as it was. A symlink is written through (its target changes, the link stays).

``read_text`` gives a file's text with ``\\n`` line endings and the BOM taken off, and how to put them back.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from ..errors import DbtError

__all__ = ["Spelling", "read_text", "write_files"]

#: a temporary file's suffix: dbt reads ``*.yml`` and ``*.yaml`` only, so one left by a SIGKILL is never read
TEMP_SUFFIX = ".datakits-tmp"
BOM = "\ufeff"


@dataclass(frozen=True)
class Spelling:
    """How a file's bytes spell its text: a UTF-8 BOM first, CRLF line endings."""

    bom: bool = False
    crlf: bool = False

    def encode(self, text: str) -> bytes:
        if self.crlf:
            text = text.replace("\r\n", "\n").replace("\n", "\r\n")
        return ((BOM if self.bom else "") + text).encode("utf-8")


def read_text(path: Path) -> tuple[str, Spelling]:
    """The file's text (``\\n`` line endings, no BOM) and its spelling; a one-line :class:`DbtError` when it
    cannot be read as dbt reads it (UTF-8)."""
    if path.is_symlink() and not path.exists():
        raise DbtError(f"{path} is a symlink to nowhere ({os.readlink(path)}); remove it or point it at a file")
    if path.is_dir():
        raise DbtError(f"{path} is a folder, not a file; rename the folder or give a file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DbtError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DbtError(
            f"{path} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "dbt reads its YAML as UTF-8: save the file as UTF-8"
        ) from None
    bom = text.startswith(BOM)
    text = text.removeprefix(BOM)
    crlf = "\r\n" in text
    return text.replace("\r\n", "\n"), Spelling(bom=bom, crlf=crlf)


def _real(path: Path) -> Path:
    """Where writing ``path`` writes: a symlink's target."""
    if path.is_symlink():
        if not path.exists():
            raise DbtError(f"{path} is a symlink to nowhere ({os.readlink(path)}); remove it or point it at a file")
        return path.resolve()
    return path


def _existing_folder(path: Path) -> Path:
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def check_writable(path: Path, remove: bool = False) -> Path:
    """The file ``path`` writes to, checked: a one-line :class:`DbtError` naming what is wrong and what to do."""
    real = _real(path)
    if real.is_dir():
        raise DbtError(f"{path} is a folder, not a file; rename the folder or give a file")
    if real.exists():
        if not real.is_file():
            raise DbtError(f"{path} is not a regular file; give a file")
        mode = real.stat().st_mode
        if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(real, os.W_OK):
            verb = "removed" if remove else "written"
            raise DbtError(f"{path} is read-only, so it is not {verb}; make it writable (chmod u+w) and run again")
    folder = _existing_folder(real)
    if not folder.is_dir():
        raise DbtError(f"{path}: {folder} is not a folder; give a path in a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DbtError(f"cannot write in {folder} (no permission); make it writable or give another place")
    return real


def _temporary(path: Path, data: bytes) -> Path:
    """``data`` in a new file beside ``path``, on disk, with ``path``'s mode and owner when it exists."""
    temp = path.parent / f".{path.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask decides, as for any new file
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            found = path.stat()
            os.chmod(temp, stat.S_IMODE(found.st_mode))
            if os.geteuid() == 0 and (found.st_uid, found.st_gid) != (0, 0):
                os.chown(temp, found.st_uid, found.st_gid)  # root keeps a user's file the user's
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_files(files: list[tuple[Path, bytes | None]]) -> None:
    """Write each ``(path, data)`` (``None``: remove the file) whole, or none of them (see the module)."""
    plan = [(check_writable(path, remove=data is None), path, data) for path, data in files]
    made: list[Path] = []  # folders this call created
    temps: list[Path | None] = []
    try:
        for real, _, data in plan:
            if data is None:
                temps.append(None)
                continue
            missing = [p for p in (real.parent, *real.parent.parents) if not p.exists()]
            real.parent.mkdir(parents=True, exist_ok=True)
            made += reversed(missing)
            temps.append(_temporary(real, data))
    except (OSError, DbtError) as exc:
        for temp in temps:
            if temp is not None:
                temp.unlink(missing_ok=True)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        where = plan[len(temps)][1] if len(temps) < len(plan) else plan[-1][1]
        problem = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise DbtError(f"cannot write {where}: {problem}; no file was changed") from None
    done: list[Path] = []
    for (real, path, _), temp in zip(plan, temps, strict=True):
        try:
            if temp is None:
                real.unlink(missing_ok=True)
            else:
                os.replace(temp, real)
        except OSError as exc:
            for left in temps[len(done) :]:
                if left is not None:
                    left.unlink(missing_ok=True)
            written = ", ".join(str(p) for p in done) or "none"
            raise DbtError(f"cannot write {path}: {exc.strerror or exc}; written before it: {written}") from None
        done.append(path)
    for folder in {real.parent for real, _, _ in plan}:
        _sync_folder(folder)
