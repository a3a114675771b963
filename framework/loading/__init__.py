"""The loader's parts: the record hash, the source stream, and one fast path per engine.

    canonical.py   the canonical line of a row and its record hash (the same on every engine)
    plan.py        how one table loads: checks, the source statement, the transform, errors
    result.py      LoadResult: what loading one table did (shared by the loader and the progress board)
    source.py      a server-side cursor, read in chunks
    postgres.py    COPY FROM STDIN, streamed, with a per-table generated encoder
    mysql.py       multi-row INSERTs (PyMySQL's executemany)
    sqlite.py      executemany in one transaction; one writer per database at a time
    dbapi.py       rows as DB-API parameters for the executemany writers
    common.py      the batch lineage, table names, the hand-off to a driver thread
    command.py     ``datakits load``

The front door is :mod:`framework.loader`.
"""

from .canonical import canonical_line, canonical_text, record_hash

__all__ = ["canonical_line", "canonical_text", "record_hash"]
