"""Rows given column-wise, as pyarrow arrays of canonical fields (file sources): their hashes and their text.

A file source (:mod:`framework.loading.fileread`) gives each column of a record batch as its canonical
fields (:mod:`.canonical`: the canonical text, COPY-escaped, ``\\N`` for NULL), computed by pyarrow's
compute functions. The canonical line is then those fields joined by tabs, column-wise too; only the
SHA-256 of each line is computed per row (hashlib, in C). A writer joins the line, the lineage fields and
the hash into the text its engine's bulk load reads (COPY, ``LOAD DATA``), one buffer per batch.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Sequence
from typing import Any

__all__ = ["canonical_lines", "joined_lines", "record_hashes"]

_sha256 = hashlib.sha256
_hexdigest = operator.methodcaller("hexdigest")


def canonical_lines(pa: Any, fields: Sequence[Any]) -> Any:
    """The canonical line of each row (a pyarrow string array): the business columns' fields joined by tabs."""
    if len(fields) == 1:
        return fields[0]
    return pa.compute.binary_join_element_wise(*fields, "\t")


def record_hashes(pa: Any, lines: Any) -> Any:
    """The record hash of each row (a pyarrow string array) from its canonical line."""
    digests = map(_hexdigest, map(_sha256, lines.cast(pa.binary()).to_pylist()))
    return pa.array(list(digests), pa.string())


def joined_lines(pa: Any, fields: Sequence[Any]) -> bytes:
    """The rows' fields joined by tabs, each row ending in a newline, as one buffer."""
    pc = pa.compute
    last = pc.binary_join_element_wise(fields[-1], "", "\n")
    lines = pc.binary_join_element_wise(*fields[:-1], last, "\t") if len(fields) > 1 else last
    _, offsets, data = lines.buffers()
    bounds = memoryview(offsets).cast("i")  # a string array's offsets: 32-bit
    start, end = bounds[lines.offset], bounds[lines.offset + len(lines)]
    text: bytes = data.to_pybytes()[start:end] if start or end != data.size else data.to_pybytes()
    return text
