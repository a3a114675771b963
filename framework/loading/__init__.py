"""Source -> bronze: the loader and its parts.

    loader.py       BulkDataLoader: batches with lineage, parallel tables, all-or-nothing (the front door)
    plan.py         how one table loads: checks, the source statement, the transform, errors
    source.py       a server-side cursor, read in chunks
    generators.py   the ``datakits.generators`` entry point: data generators by name (Pagila at any scale)
    pgdump.py       a plain SQL dump (pg_dump's text format) loaded into a database

The record hash (one SHA-256 per row, the same on every engine) is written by the engines' fast
writers, so its definition sits below them, in :mod:`framework.engines.generic.canonical`; it is
importable from here.
"""

from ..engines.generic.canonical import canonical_line, canonical_text, record_hash

__all__ = ["canonical_line", "canonical_text", "record_hash"]
