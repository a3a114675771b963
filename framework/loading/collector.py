"""Fewer runs of Python's cycle collector while rows stream through a load.

A load keeps a few chunks of rows alive at a time (the source's rows, the transform's dicts, the
target's tuples: tens of thousands of container objects), and the cycle collector, which by default
runs after every 700 new containers, walks them again and again as they age: on the benchmark's
rental table it took a quarter of the loader's time with a transform. None of those objects form
cycles; their memory goes back as soon as a chunk is written, by reference counting.

:func:`rare_collections` raises the collector's first threshold for as long as a load runs (several
loads in threads share it: the last one out puts back what was there). Cycles made meanwhile are
still collected, only less often. A threshold of 0 (automatic collection off) or one higher than
ours is left alone, and so is a threshold somebody else changed during the load.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["LOADING_THRESHOLD", "rare_collections"]

#: The collector's first threshold while a load runs (Python's default is 700).
LOADING_THRESHOLD = 100_000

_lock = threading.Lock()
_users = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def rare_collections() -> Iterator[None]:
    """Run the block with the cycle collector's first threshold at :data:`LOADING_THRESHOLD`."""
    global _users, _saved
    with _lock:
        if _users == 0:
            threshold = gc.get_threshold()
            if 0 < threshold[0] < LOADING_THRESHOLD:
                _saved = threshold
                gc.set_threshold(LOADING_THRESHOLD, *threshold[1:])
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _saved is not None:
                if gc.get_threshold()[0] == LOADING_THRESHOLD:
                    gc.set_threshold(*_saved)
                _saved = None
