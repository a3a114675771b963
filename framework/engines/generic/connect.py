"""Engine creation for a known engine, and a failed connection as one line; no engine registry needed.

:mod:`framework.engines.connect` is the front door: it finds the engine of a URL and comes here.
An engine's own code (its server) calls :func:`engine_for` with its ``EngineKind`` directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from ...errors import AuthenticationFailed, ProvisionerUnavailable, TargetError, TargetUnreachable
from .dberrors import driver_message
from .urls import CONNECT_TIMEOUT, HIDDEN, hide_secrets, safe_server_url, safe_text, secrets_of, to_url

if TYPE_CHECKING:
    from .protocols import EngineKind

_AUTH_MARKERS = ("password authentication failed", "access denied", "authentication failed", "no password")


def pin_driver(kind: EngineKind, url: URL) -> URL:
    """``url`` with the engine's installed driver when it names none (``postgresql`` -> ``postgresql+psycopg2``)."""
    if "+" in url.drivername or not kind.url_driver:
        return url
    return url.set(drivername=kind.url_driver)


def engine_for(kind: EngineKind, url: str | URL, schemas: Iterable[str | None] = (), **kwargs: object) -> Engine:
    """An engine of ``kind`` for ``url`` on which ``schemas`` resolve; every connection's start bounded."""
    parsed = pin_driver(kind, to_url(url))
    named = sorted({s for s in schemas if s})
    # pre-ping: a pooled connection the server closed while idle (wait_timeout, idle_session_timeout,
    # a proxy) is replaced on checkout, never handed out dead
    options: dict[str, Any] = {"connect_args": kind.connect_args(CONNECT_TIMEOUT), "pool_pre_ping": True, **kwargs}
    shown = safe_server_url(parsed)
    try:
        engine = kind.make_engine(parsed, named, options)
    except ImportError as exc:  # postgresql+pg8000, mysql+mysqldb, ... and the driver is not installed
        raise ProvisionerUnavailable(
            f"{shown}: the driver {parsed.drivername!r} is not installed ({exc.name or exc}); install it, "
            f"or leave the driver out ({kind.name}://...) to use {kind.driver_module}"
        ) from None
    except (ArgumentError, ValueError, TypeError) as exc:  # ?read_timeout=abc, a name too long for schemas
        raise TargetError(f"{shown}: {safe_text(driver_message(exc, first_line=True))}") from None
    if engine.dialect.is_async:
        engine.dispose()
        raise TargetError(
            f"{shown}: {parsed.drivername!r} is an asyncio driver and datakits connects synchronously; "
            f"leave the driver out ({kind.name}://...) to use {kind.driver_module}"
        )
    engine.url = hide_secrets(engine.url)  # its repr shows no password (pytest -l); connecting is unchanged
    return engine


def bad_option(dbapi: object, exc: BaseException) -> Exception:
    """A driver's refusal of a connection option (``?charset=bogus``, ``?ssl_ca=/missing``, a NUL in a
    name) as the driver's ``OperationalError``, which becomes one line like any failed connection."""
    error = getattr(dbapi, "OperationalError", Exception)
    what = " ".join(str(exc).split()) or type(exc).__name__
    return error(f"the connection options were refused ({type(exc).__name__}: {what}); check the URL's query string")


def check_engine(engine: Engine, shown: str, label: str | None = None) -> None:
    """Connect once; turn the driver's failure into one clear line naming ``shown`` (a URL without secrets)."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (OperationalError, DBAPIError) as exc:
        raise connection_error(exc, engine.url, shown, label) from None


def connection_error(exc: BaseException, url: URL, shown: str | None = None, label: str | None = None) -> TargetError:
    """The driver's failure to connect to ``url`` as one line; no password in it."""
    shown = shown or safe_server_url(url)
    where = shown if not label or label == shown else f"{label} ({shown})"
    detail = driver_message(exc)
    for secret in secrets_of(url):
        detail = detail.replace(secret, HIDDEN)
    if any(marker in detail.lower() for marker in _AUTH_MARKERS):
        return AuthenticationFailed(f"{where}: the server refused the user or password; check the credentials", label)
    return TargetUnreachable(f"{where}: cannot connect: {detail}", label)
