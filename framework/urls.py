"""URL helpers: render without passwords, classify engines, bound connection waits."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from sqlalchemy.engine import URL, make_url

ENGINES = ("sqlite", "postgresql", "mysql")
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
    if parsed.get_backend_name() == "sqlite":  # show file paths and memory names as they are
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
    backend = to_url(url).get_backend_name()
    if backend == "mariadb":
        return "mysql"
    if backend not in ENGINES:
        raise ValueError(f"engine {backend!r} is not supported; use one of {', '.join(ENGINES)}")
    return backend


def with_driver(url: URL) -> URL:
    """Pin the driver the project installs (psycopg2, pymysql) when the URL names none."""
    if url.drivername == "postgresql":
        return url.set(drivername="postgresql+psycopg2")
    if url.drivername in ("mysql", "mariadb"):
        return url.set(drivername="mysql+pymysql")
    return url


def connect_args(url: URL) -> dict[str, Any]:
    """The driver's arguments: every wait of a connection's start bounded by ``CONNECT_TIMEOUT``.

    PostgreSQL (libpq): ``connect_timeout`` bounds each attempt; TCP keepalives and
    ``tcp_user_timeout`` notice a server that went away under an open connection. MySQL
    (PyMySQL): ``connect_timeout`` bounds the TCP connect only, so the read and write timeouts
    bound the handshake too (something that is not MySQL, or a server that never greets);
    ``framework.connect`` lifts them once connected, so a long query is not cut short.
    """
    engine = engine_of(url)
    if engine == "postgresql":
        return {
            "connect_timeout": CONNECT_TIMEOUT,
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
            "tcp_user_timeout": 30_000,  # milliseconds
        }
    if engine == "mysql":
        # Pagila's ids start at 0: an explicit 0 must stay 0, not become the next auto-increment value
        mode = "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')"
        return {
            "connect_timeout": CONNECT_TIMEOUT,
            "read_timeout": CONNECT_TIMEOUT,
            "write_timeout": CONNECT_TIMEOUT,
            "local_infile": True,
            "init_command": mode,
        }
    return {}
