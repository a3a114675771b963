"""Rows of Python values -> tab-separated text lines with their lineage and record hash, generated per table.

The COPY writer (PostgreSQL) and the ``LOAD DATA`` writer (MySQL/MariaDB) send such lines. Each line is the
row's canonical line (:mod:`.canonical`, which is valid COPY text for almost every type) plus the lineage
fields and the hash; an engine's writer names the column kinds it writes otherwise. The encoder is generated
per table, one expression per column, because this loop runs once per row and a generic loop costs twice
as much.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column

from .canonical import DAYS, HOUR_MINUTE, SECOND, canonical_char_field, canonical_field, day_text

__all__ = ["make_line_encoder"]

# One statement per column kind, setting c<i> (the canonical field) from v<i> (the value); "@" is i.
_CANONICAL = {
    "int": "c@ = str(v@) if v@.__class__ is int else F(v@)",
    "str": (
        'c@ = v@ if v@.__class__ is str and "\\\\" not in v@ and "\\t" not in v@ and "\\n" not in v@ '
        'and "\\r" not in v@ else F(v@)'
    ),
    # p@ / q@: the column's last datetime and its text, reused while the value repeats (an audit
    # column such as last_update often holds one value for many rows); a new value costs one compare
    "datetime": """if v@.__class__ is datetime and (v@.tzinfo is UTC or v@.tzinfo is None):
    if v@ != p@:
        d = DAYS.get(v@.toordinal()) or DAY(v@)
        m = v@.microsecond
        hms = HM[v@.hour * 60 + v@.minute] + ":" + SS[v@.second]
        q@ = f"{d} {hms}.{m:06d}+00:00" if m else f"{d} {hms}+00:00"
        p@ = v@
    c@ = q@
else:
    c@ = F(v@)""",
    "char": "c@ = FC(v@)",
}


def make_line_encoder(
    columns: Sequence[Column[Any]],
    kinds: Sequence[str],
    lineage: str,
    written: Mapping[str, str] | None = None,
    helpers: Mapping[str, Any] | None = None,
) -> Callable[[list[Any]], str]:
    """A function: a chunk of business-value rows -> their text lines (tab-separated, COPY-escaped, ``\\N`` for
    NULL), lineage and hash included: what COPY and ``LOAD DATA`` read.

    ``lineage`` is the text of the lineage fields that come between the business fields and the hash (load
    time, batch id, source table), already escaped. A field is its canonical field, but for the column kinds
    in ``written``: an expression of ``v@`` (the value) or ``c@`` (its canonical field), ``@`` the column's
    index, calling functions given in ``helpers``.
    """
    written = written or {}
    count = len(columns)
    body: list[str] = []
    for i, kind in enumerate(kinds):
        statement = _CANONICAL.get(kind, "c@ = F(v@)").replace("@", str(i))
        body += ["        " + line for line in statement.splitlines()]
    line = "\\t".join(f"{{c{i}}}" for i in range(count))
    body.append(f'        line = f"{line}"')
    if any(kind in written for kind in kinds):
        fields = [written[kind].replace("@", str(i)) if kind in written else f"c{i}" for i, kind in enumerate(kinds)]
        copy_line = "\\t".join("{" + field + "}" for field in fields)
        body.append(f'        ap(f"{copy_line}\\t{{LINEAGE}}\\t{{sha(line.encode()).hexdigest()}}\\n")')
    else:
        body.append('        ap(f"{line}\\t{LINEAGE}\\t{sha(line.encode()).hexdigest()}\\n")')
    unpack = ", ".join(f"v{i}" for i in range(count)) + ("," if count == 1 else "")
    remembered = [f"p{i} = q{i} = None" for i, kind in enumerate(kinds) if kind == "datetime"]
    source = "\n".join(
        [
            "def encode(rows):",
            "    out = []",
            "    ap = out.append",
            *("    " + line for line in remembered),
            "    for row in rows:",
            f"        {unpack} = row",
            *body,
            '    return "".join(out)',
        ]
    )
    namespace: dict[str, Any] = {
        "F": canonical_field,
        "FC": canonical_char_field,
        **(helpers or {}),
        "DAYS": DAYS,
        "DAY": day_text,
        "HM": HOUR_MINUTE,
        "SS": SECOND,
        "UTC": UTC,
        "datetime": datetime,
        "sha": hashlib.sha256,
        "LINEAGE": lineage,
    }
    name = columns[0].table.name if columns else "?"
    exec(compile(source, f"<copy encoder for {name}>", "exec"), namespace)
    encoder: Callable[[list[Any]], str] = namespace["encode"]
    return encoder
