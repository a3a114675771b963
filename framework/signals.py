"""SIGTERM handled as Ctrl-C: what CI timeouts, ``timeout`` and ``docker stop`` send ends a run in order.

Python turns SIGINT into ``KeyboardInterrupt``, so the cleanup of a run (drop its databases, stop
its servers) runs on Ctrl-C; SIGTERM's default is to die on the spot, leaving all of that to the
next run's reaper. ``interrupt_on_sigterm()`` raises ``KeyboardInterrupt`` on SIGTERM too, in the
main thread, where the signal is handled; it changes nothing where someone else already chose a
SIGTERM handler, and returns how to put things back.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def interrupt_on_sigterm() -> Callable[[], None]:
    """Make SIGTERM raise ``KeyboardInterrupt``; returns a function that restores the old handler."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return lambda: None  # the application (or pytest-timeout, say) handles it already
    signal.signal(signal.SIGTERM, _interrupt)

    def restore() -> None:
        if signal.getsignal(signal.SIGTERM) is _interrupt:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

    return restore
