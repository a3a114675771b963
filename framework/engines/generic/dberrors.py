"""What a database driver said, as the library's own errors with one-line messages.

SQLAlchemy wraps the driver's exception (``exc.orig``); its text spans lines and PyMySQL's is a
``(code, message)`` tuple. :func:`driver_message` gives what the database said on one line, and
:func:`library_error` builds the library error (``framework.errors``) that carries it with its
context: ``DeployError("<target>: the database refused the DDL: <what it said>", ...)``.
"""

from __future__ import annotations

from typing import Any, TypeVar

from ...errors import DatakitError

E = TypeVar("E", bound=DatakitError)


def driver_message(exc: BaseException, first_line: bool = False) -> str:
    """The database's own words for ``exc``, on one line (``first_line``: only its first line)."""
    original = getattr(exc, "orig", None) or exc
    args: tuple[Any, ...] = tuple(getattr(original, "args", ()))
    message = str(args[1]) if len(args) == 2 and isinstance(args[0], int) else str(original)  # PyMySQL
    if first_line:
        message = (message.strip().splitlines() or [""])[0]
    return " ".join(message.split()) or type(original).__name__


def library_error(exc: BaseException, error: type[E], where: str, what: str, **context: Any) -> E:
    """``error("<where>: <what>: <what the database said>", **context)``."""
    return error(f"{where}: {what}: {driver_message(exc)}", **context)
