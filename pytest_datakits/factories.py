"""factory_boy, bound to the test's session.

``current_session`` is a ``sqlalchemy_session_factory`` (factory_boy calls it on every create)
that returns the running test's ``datakit_session``. A factory may name it in its ``Meta``;
``bind_factories`` (the ``datakit_factories`` fixture) also points every
``SQLAlchemyModelFactory`` that has no session of its own at it for the length of the test,
with persistence ``"flush"``, so what the factories create lands in the test's transaction and
goes with its rollback. Nothing here imports factory_boy until a test asks for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

_active: list[Session] = []


def current_session() -> Session:
    """The session of the running test (for ``Meta.sqlalchemy_session_factory``)."""
    if not _active:
        raise RuntimeError(
            "no datakit session is active: ask for the datakit_session or datakit_factories fixture in this test"
        )
    return _active[-1]


@contextmanager
def use_session(session: Session) -> Iterator[Session]:
    """Make ``session`` the one ``current_session`` returns, for the block (the public way to mark a
    session of your own as the test's; a ``datakit_session`` override needs no call: the plugin does it)."""
    _active.append(session)
    try:
        yield session
    finally:
        _active.remove(session)


active = use_session


@dataclass
class DatakitFactories:
    """What ``datakit_factories`` gives: the session the factories use and the factories it bound."""

    session: Session
    bound: list[type[Any]] = field(default_factory=list)


@contextmanager
def bind_factories(session: Session) -> Iterator[DatakitFactories]:
    """Point every factory without a session of its own at ``session`` for the block."""
    try:
        from factory.alchemy import SESSION_PERSISTENCE_FLUSH, SQLAlchemyModelFactory
    except ImportError:
        raise RuntimeError("datakit_factories needs factory_boy: pip install 'pytest-datakits[factories]'") from None
    unbound = [
        cls
        for cls in _subclasses(SQLAlchemyModelFactory)
        if not cls._meta.abstract
        and cls._meta.sqlalchemy_session is None
        and cls._meta.sqlalchemy_session_factory is None
    ]
    saved = [(cls, cls._meta.sqlalchemy_session_persistence) for cls in unbound]
    for cls in unbound:
        cls._meta.sqlalchemy_session_factory = current_session
        if cls._meta.sqlalchemy_session_persistence is None:
            cls._meta.sqlalchemy_session_persistence = SESSION_PERSISTENCE_FLUSH
    try:
        with active(session):
            yield DatakitFactories(session, unbound)
    finally:
        for cls, persistence in saved:
            cls._meta.sqlalchemy_session_factory = None
            cls._meta.sqlalchemy_session = None  # factory_boy keeps the last session it was given here
            cls._meta.sqlalchemy_session_persistence = persistence


def _subclasses(cls: type[Any]) -> list[type[Any]]:
    found: list[type[Any]] = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return list(dict.fromkeys(found))
