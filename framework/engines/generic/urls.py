"""URL text with no secret in it, and the bound on every connection's start; no engine registry needed."""

from __future__ import annotations

import re
from urllib.parse import unquote

from sqlalchemy.engine import URL, make_url

CONNECT_TIMEOUT = 5  # seconds: an unreachable server is an error, never a hang
HIDDEN = "***"
SECRET_KEYS = ("password", "passwd", "pwd", "sslpassword")  # query-string keys that hold a password
_USERINFO = re.compile(r"(://[^/?#@\s]*?:)[^/?#\s]*@")
_QUERY_SECRET = re.compile(r"([?&;](?:" + "|".join(SECRET_KEYS) + r")=)[^&#\s'\":,)]*", re.IGNORECASE)


_BEFORE_QUERY = re.compile(r"(?P<scheme>[\w+.-]+://)(?P<head>[^?#]*)(?P<rest>.*)", re.DOTALL)


def to_url(url: str | URL) -> URL:
    """``url`` parsed; an unencoded ``@`` in the password is the password's (the user part ends at the
    last ``@``, as :func:`urllib.parse.urlsplit` reads it), never the host's: a driver's message about
    the host then shows no part of the password."""
    if isinstance(url, URL):
        return url
    found = _BEFORE_QUERY.fullmatch(url)
    if found is not None and found["head"].count("@") > 1 and not found["head"].startswith("/"):
        userinfo, _, place = found["head"].rpartition("@")
        url = f"{found['scheme']}{userinfo.replace('@', '%40')}@{place}{found['rest']}"
    return make_url(url)


def safe_server_url(url: str | URL) -> str:
    """A server's URL as text with the password replaced by ``***``, in the query string too."""
    parsed = to_url(url)
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


class HiddenSecretsURL(URL):
    """A URL whose ``repr`` and ``str`` hide every password, the query string's too (SQLAlchemy's hide
    only ``user:password@``). Engines hold one, so an engine's ``repr`` (``pytest -l``, a debugger,
    a log) shows no secret; the URL itself keeps them all, so connecting is unchanged."""

    __slots__ = ()

    def __repr__(self) -> str:
        return safe_server_url(URL(*self))

    __str__ = __repr__


def hide_secrets(url: URL) -> URL:
    """``url`` as a :class:`HiddenSecretsURL` (the same URL; only its ``repr`` and ``str`` differ)."""
    return url if isinstance(url, HiddenSecretsURL) else HiddenSecretsURL(*url)
