"""The one way FitGap runs work off the GUI thread: ``BackgroundTask``.

A task runs a plain function (or a generator function) on a thread of its own and
reports with superqt's signal vocabulary, always delivered in the GUI thread:
``started``, ``yielded(value)`` for each value a generator yields, ``returned(value)``,
``errored(exception)``, ``aborted`` when ``abort()`` ended a generator between two
values, and ``finished`` last, whatever happened.  An exception never dies in the
thread: it reaches ``errored`` as the object, and its traceback goes to the log.

Every task that has not finished is listed by ``active_tasks()``; the window's
close waits for (or defers on) them, so Qt never destroys a running thread.
"""

from __future__ import annotations

import inspect
import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from fitgap_gui.core.errors import FitGapError

logger = logging.getLogger(__name__)

_active: weakref.WeakSet[BackgroundTask] = weakref.WeakSet()
# A task must outlive its thread even when its creator drops it: kept until finished.
_keep: set[BackgroundTask] = set()


def active_tasks() -> list[BackgroundTask]:
    """Every task started and not yet finished (its thread may still be running)."""
    return [task for task in _active if task.is_running()]


class TaskState:
    """Handed to a function started with ``pass_state=True``: report values, see aborts.

    For work that reports from callbacks (the engine's ``on_epoch``), where a
    generator cannot yield.
    """

    def __init__(self, runner: _Runner) -> None:
        self._runner = runner

    def report(self, value: Any) -> None:
        """Emit ``yielded(value)`` (delivered in the GUI thread, in order)."""
        self._runner.yielded.emit(value)

    def abort_requested(self) -> bool:
        return self._runner.abort_event.is_set()


class _Runner(QObject):
    """Lives on the task's thread and calls the function there."""

    started = Signal()
    yielded = Signal(object)
    returned = Signal(object)
    errored = Signal(object)
    aborted = Signal()
    done = Signal()

    def __init__(
        self, function: Callable[..., Any], args: tuple, kwargs: dict, pass_state: bool
    ) -> None:
        super().__init__()
        self.function, self.args, self.kwargs = function, args, kwargs
        if pass_state:
            self.args = (TaskState(self), *args)
        self.abort_event = threading.Event()

    @Slot()
    def run(self) -> None:
        self.started.emit()
        try:
            value = self.function(*self.args, **self.kwargs)
            if inspect.isgenerator(value):
                for item in value:
                    self.yielded.emit(item)
                    if self.abort_event.is_set():
                        value.close()
                        self.aborted.emit()
                        break
                else:
                    self.returned.emit(None)
            else:
                self.returned.emit(value)
        except Exception as exc:  # kept in the log, shown by whoever listens to errored
            name = getattr(self.function, "__name__", "?")
            if isinstance(exc, FitGapError):  # the user's to fix: its message says it all
                logger.info("%s refused: %s", name, exc)
            else:
                logger.exception("background task %s failed", name)
            self.errored.emit(exc)
        finally:
            self.done.emit()


class BackgroundTask(QObject):
    """Run ``function(*args, **kwargs)`` on its own thread; signals arrive in the GUI thread.

    ``close_wait_ms`` is how long closing the window waits for this task after
    asking it to abort (cooperative work such as training stops within a step);
    0 means the close is deferred at once until the task has finished.
    With ``pass_state`` the function gets a ``TaskState`` as its first argument.
    """

    started = Signal()
    yielded = Signal(object)
    returned = Signal(object)
    errored = Signal(object)
    aborted = Signal()
    finished = Signal()

    def __init__(
        self,
        function: Callable[..., Any],
        *args: Any,
        name: str = "fitgap-task",
        close_wait_ms: int = 15000,
        pass_state: bool = False,
        parent: QObject | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(parent)
        self.close_wait_ms = close_wait_ms
        self._thread = QThread()
        self._thread.setObjectName(name)
        self._runner = _Runner(function, args, kwargs, pass_state)
        self._runner.moveToThread(self._thread)
        self._thread.started.connect(self._runner.run)
        # Signal to signal: queued into this object's (the GUI) thread, in order.
        self._runner.started.connect(self.started)
        self._runner.yielded.connect(self.yielded)
        self._runner.returned.connect(self.returned)
        self._runner.errored.connect(self.errored)
        self._runner.aborted.connect(self.aborted)
        # Direct: quit() is thread-safe, and a GUI thread blocked in wait() could not
        # deliver a queued quit, so the thread ends on its own as soon as the work does.
        self._runner.done.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._thread.finished.connect(self._on_thread_finished)
        self._done = False

    def start(self) -> BackgroundTask:
        _active.add(self)
        _keep.add(self)
        self._thread.start()
        return self

    def abort(self) -> None:
        """Ask a generator to stop after its current value; safe from any thread."""
        self._runner.abort_event.set()

    def abort_requested(self) -> bool:
        return self._runner.abort_event.is_set()

    def is_running(self) -> bool:
        """Started and not finished (``finished`` has not been emitted yet)."""
        return self in _keep and not self._done

    def thread_running(self) -> bool:
        return self._thread.isRunning()

    def wait(self, timeout_ms: int) -> bool:
        """Block until the thread has ended; False if it still runs after ``timeout_ms``."""
        return not self._thread.isRunning() or self._thread.wait(timeout_ms)

    def _on_thread_finished(self) -> None:
        self._done = True
        self.finished.emit()
        _keep.discard(self)
