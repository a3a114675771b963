"""mysql_process started several at once: how many starts succeed, and the median seconds to start.

    python tests/benchmarks/bench_mysql_process_concurrency.py [--at-once 3] [--rounds 8] [--shared-tmp]

Each round starts ``--at-once`` processes of their own, which wait for each other on a barrier and
then each start a ``mysql_process`` server (mariadb-install-db, then the server, until it answers),
run ``SELECT 1`` on it and stop it, as that many pytest runs or xdist controllers starting at once
would. Prints the successes and failures (with each failure's one line) and the median start time.
``--shared-tmp`` also runs the same rounds with the servers' private ``--tmpdir`` taken out (all of
them in the machine's shared temp dir, as before that fix), the two taking turns round by round.
A benchmark, not a test: nothing asserts.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import time
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import Any

TARGET = "mysql_process"


def _shared_tmp() -> None:
    """Take ``--tmpdir`` out of the recipe: every server uses the machine's shared temp dir."""
    import dataclasses

    from framework.engines.mysql import process

    private = process.recipe

    def shared(folder: Any, server: str, install_db: str | None) -> Any:
        recipe = private(folder, server, install_db)
        keep = [arg for arg in recipe.init if not arg.startswith("--tmpdir=")]
        serve = recipe.serve
        return dataclasses.replace(
            recipe, init=keep, serve=lambda port: [a for a in serve(port) if not a.startswith("--tmpdir=")]
        )

    process.recipe = shared  # type: ignore[assignment]


def _start_one(barrier: Barrier, results: Queue[tuple[bool, float, str]], shared_tmp: bool) -> None:
    """In a process of its own: start the server when all are ready, use it, stop it, report."""
    from sqlalchemy import text

    from framework import DatakitError, get_target_config, start_server
    from framework.engines.connect import make_engine

    if shared_tmp:
        _shared_tmp()
    config = get_target_config(TARGET)
    barrier.wait()
    started = time.perf_counter()
    try:
        server = start_server(config)
    except DatakitError as exc:
        results.put((False, time.perf_counter() - started, str(exc)))
        return
    seconds = time.perf_counter() - started
    try:
        engine = make_engine(server.admin_url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        results.put((True, seconds, ""))
    except Exception as exc:  # a server that started but does not serve is a failure too
        results.put((False, seconds, f"started, then: {str(exc).splitlines()[0]}"))
    finally:
        server.stop()


def one_round(context: Any, at_once: int, shared_tmp: bool, seconds: list[float], failures: list[str]) -> None:
    """Start ``at_once`` servers at once, in processes of their own; add their figures."""
    barrier = context.Barrier(at_once)
    results: Queue[tuple[bool, float, str]] = context.Queue()
    workers = [context.Process(target=_start_one, args=(barrier, results, shared_tmp)) for _ in range(at_once)]
    for worker in workers:
        worker.start()
    for _ in workers:
        ok, took, message = results.get(timeout=600)
        if ok:
            seconds.append(took)
        else:
            failures.append(message)
    for worker in workers:
        worker.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--at-once", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--shared-tmp", action="store_true", help="Also run with the servers' --tmpdir taken out")
    args = parser.parse_args()
    variants = {"private --tmpdir": False} | ({"shared temp dir": True} if args.shared_tmp else {})
    context = mp.get_context("spawn")  # a fresh interpreter each, as separate runs would be
    seconds: dict[str, list[float]] = {label: [] for label in variants}
    failures: dict[str, list[str]] = {label: [] for label in variants}
    for _ in range(args.rounds):  # the variants take turns, round by round: the same machine load
        for label, shared in variants.items():
            one_round(context, args.at_once, shared, seconds[label], failures[label])
    total = args.at_once * args.rounds
    print(f"{TARGET}: {args.rounds} rounds of {args.at_once} at once ({total} starts per variant)")
    print(f"{'variant':<18} {'ok':>4} {'failed':>7} {'median start s':>15} {'max start s':>12}")
    for label in variants:
        took = seconds[label]
        median = f"{statistics.median(took):.2f}" if took else "-"
        longest = f"{max(took):.2f}" if took else "-"
        print(f"{label:<18} {len(took):>4} {len(failures[label]):>7} {median:>15} {longest:>12}")
    for label, messages in failures.items():
        for message in messages:
            print(f"{label} failure: {message}")


if __name__ == "__main__":
    main()
