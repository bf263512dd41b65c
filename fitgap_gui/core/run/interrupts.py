"""Ctrl+C during a user's own ``fit``: the run is marked at once, the interrupt goes on.

Keras calls no ``on_train_end`` when ``fit`` is interrupted, so in a process that lives
on (a notebook kernel) a recorded run would read ``running`` for as long as the
process does.  ``InterruptHook`` holds a SIGINT handler only for the length of ``fit``,
on the main thread only (Python runs signal handlers there and allows installing them
nowhere else): it calls its ``on_interrupt`` once, puts the previous handler back, and
hands the signal to it unchanged (Python's default raises KeyboardInterrupt).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any


class InterruptHook:
    """``install`` at the start of ``fit``, ``remove`` at its end (idempotent both)."""

    def __init__(self, on_interrupt: Callable[[], None]) -> None:
        self.on_interrupt = on_interrupt
        self._previous: Any = None
        self._installed = False

    def install(self) -> bool:
        """Hold SIGINT while ``fit`` runs; False (and nothing changed) off the main
        thread, or where SIGINT is ignored (nothing would interrupt the run)."""
        if self._installed or threading.current_thread() is not threading.main_thread():
            return False
        try:
            previous = signal.getsignal(signal.SIGINT)
            if previous is signal.SIG_IGN or previous is None:  # None: set outside Python
                return False
            signal.signal(signal.SIGINT, self._handle)
        except (ValueError, OSError):  # an interpreter without signals here
            return False
        self._previous, self._installed = previous, True
        return True

    def remove(self) -> None:
        """Put the previous handler back, unless someone else replaced ours since."""
        if not self._installed:
            return
        self._installed = False
        with contextlib.suppress(ValueError, OSError):
            if signal.getsignal(signal.SIGINT) == self._handle:
                signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        previous = self._previous
        self.remove()
        with contextlib.suppress(Exception):  # marking is a courtesy: never in the way
            self.on_interrupt()
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_DFL:  # the process would have ended: let it
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.raise_signal(signal.SIGINT)
