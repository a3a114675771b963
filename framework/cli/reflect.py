"""``datakits reflect``: a datakit package written from a live database (framework.kits.reflect)."""

from __future__ import annotations

from typing import Any

from ..kits.reflect import reflect_datakit


def add_arguments(sub: Any) -> None:
    """Register ``datakits reflect URL [--schema S ...] [--tables ...] --out PATH [--force]``."""
    parser = sub.add_parser("reflect", help="Write a datakit package from a live database")
    parser.add_argument("url", help="SQLAlchemy URL of the database to read (that very database)")
    parser.add_argument(
        "--schema",
        action="append",
        metavar="S",
        help="Schema to read, again for more (default: the database's default schema)",
    )
    parser.add_argument("--tables", nargs="+", metavar="TABLE", help="Tables to read (default: all of them)")
    parser.add_argument(
        "--out", required=True, help="Folder to write the datakit package to (its name: the import name)"
    )
    parser.add_argument("--force", action="store_true", help="Write into --out even if it is not empty")
    parser.set_defaults(handler=run)


def run(args: Any) -> int:
    result = reflect_datakit(args.url, args.out, args.schema or [None], args.tables, overwrite=args.force)
    print(f"reflected {len(result.tables)} tables from {result.source} into {result.path}")
    for table, reason in sorted(result.skipped.items()):
        print(f"  left out {table if table.isprintable() else repr(table)}: {reason}")
    if result.skipped:
        print(f"  (validate reports the {len(result.skipped)} left out as tables not in the datakit)")
    return 0
