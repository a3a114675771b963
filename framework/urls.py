"""URL helpers: render without passwords, classify engines, bound connection waits."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from sqlalchemy.engine import URL, make_url

from .engines import ENGINES, engine_kind

CONNECT_TIMEOUT = 5  # seconds: an unreachable server is an error, never a hang
HIDDEN = "***"
SECRET_KEYS = ("password", "passwd", "pwd", "sslpassword")  # query-string keys that hold a password
_USERINFO = re.compile(r"(://[^/?#@\s]*?:)[^/?#\s]*@")
_QUERY_SECRET = re.compile(r"([?&;](?:" + "|".join(SECRET_KEYS) + r")=)[^&#\s'\":,)]*", re.IGNORECASE)


def to_url(url: str | URL) -> URL:
    return url if isinstance(url, URL) else make_url(url)


def safe_url(url: str | URL) -> str:
    """The URL as text with the password replaced by ``***``, in the query string too."""
    parsed = to_url(url)
    kind = ENGINES.get(parsed.get_backend_name())
    if kind is not None and not kind.has_servers:  # one file (SQLite): show paths and memory names as they are
        return f"{parsed.drivername}:///{parsed.database or ''}"
    secrets = {key: HIDDEN for key in parsed.query if key.lower() in SECRET_KEYS}
    if secrets:
        parsed = parsed.update_query_dict(secrets)
    return unquote(parsed.render_as_string(hide_password=True))


def safe_text(text: str) -> str:
    """``text`` with every URL password in it (``user:password@``, ``?password=``) shown as ``***``.

    For text that may not parse as a URL at all (a user's typo, a driver's message)."""
    return _QUERY_SECRET.sub(rf"\1{HIDDEN}", _USERINFO.sub(rf"\1{HIDDEN}@", text))


def secrets_of(url: URL) -> list[str]:
    """The passwords a URL carries (to scrub them from a driver's message)."""
    found = [url.password] if url.password else []
    found += [str(v) for k, v in url.query.items() if k.lower() in SECRET_KEYS and v]
    return [str(s) for s in found]


def engine_of(url: str | URL) -> str:
    """The engine family of a URL: ``sqlite``, ``postgresql`` or ``mysql`` (MariaDB included)."""
    return engine_kind(to_url(url).get_backend_name()).name


def with_driver(url: URL) -> URL:
    """Pin the driver the project installs (psycopg2, pymysql) when the URL names none."""
    if "+" in url.drivername or url.drivername not in ENGINES:
        return url
    pinned = ENGINES[url.drivername].url_driver
    return url.set(drivername=pinned) if pinned else url


def connect_args(url: URL) -> dict[str, Any]:
    """The driver's arguments: every wait of a connection's start bounded by ``CONNECT_TIMEOUT``
    (each engine's module says how its driver is told)."""
    return engine_kind(engine_of(url)).connect_args(CONNECT_TIMEOUT)
