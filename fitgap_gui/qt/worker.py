"""Training off the GUI thread: a QObject on a QThread that runs ``run_recorded``.

``RunWorker`` adapts the engine's callbacks to one fixed signal vocabulary
(``started, epoch_done, finished, errored, aborted``) and never lets an exception
die silently in its thread.  ``TrainingController`` owns the one thread the worker
lives on, reuses it for every run, and shuts it down cooperatively: a stop flag that
the engine polls between execution chunks, never ``QThread.terminate()``.

A sequence of configs (compare remedies, sweeps) runs through the same path:
``run_many`` trains them one after another and reports ``progress(done, total)``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..core.config import RunConfig
from ..core.errors import FitGapError
from ..core.store import RunStore
from .insights_probe import InsightProbe

#: The run id sent with ``errored`` when a run failed before it had a row (bad data).
NO_RUN = 0


def error_message(exc: BaseException) -> str:
    """A user-fixable error as it is; anything else with its type, in one line."""
    if isinstance(exc, FitGapError):
        return str(exc)
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class RunWorker(QObject):
    """Runs configs with the real engine; lives on a worker thread.

    Call ``run_many`` through a queued connection (``TrainingController`` does), and
    ``request_stop`` from any thread.
    """

    started = Signal(int)
    epoch_done = Signal(int, object)  # run_id, EpochMetrics
    finished = Signal(int, object)  # run_id, RunResult
    errored = Signal(int, str)
    aborted = Signal(int)
    #: The loaded data of a run (for views that want to draw it): run_id, Dataset.
    dataset_ready = Signal(int, object)
    #: Runs done so far and in total, after each run of a sequence.
    progress = Signal(int, int)
    #: A whole ``run_many`` call is over (completed, stopped or failed).
    all_done = Signal()
    #: run_id, kind, payload (plain numpy/dicts) from ``insights_probe.InsightProbe``.
    insight_ready = Signal(int, str, object)

    def __init__(self, store: RunStore) -> None:
        super().__init__()
        self._store = store
        self._stop = threading.Event()

    def request_stop(self) -> None:
        """Ask the running run (and the rest of a sequence) to end; safe from any thread."""
        self._stop.set()

    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @Slot(object)
    def run_many(self, configs: Sequence[RunConfig]) -> None:
        """Train each config in turn; a stop or an error ends the sequence."""
        from ..core.session import run_recorded

        self._stop.clear()
        total = len(configs)
        try:
            for done, config in enumerate(configs):
                if self._stop.is_set():
                    break
                current = {"run_id": NO_RUN}
                # Insight views: computed here, on the thread that owns the model.
                send = self.insight_ready.emit
                probe = InsightProbe(
                    config, lambda k, data, c=current, e=send: e(c["run_id"], k, data)
                )

                def on_started(run_id: int, dataset, current=current, probe=probe) -> None:
                    current["run_id"] = run_id
                    self.started.emit(run_id)
                    self.dataset_ready.emit(run_id, dataset)
                    probe.start(dataset)

                def on_epoch(run_id: int, metrics, probe=probe) -> None:
                    probe.note_epoch(metrics)
                    self.epoch_done.emit(run_id, metrics)

                try:
                    result = run_recorded(
                        config,
                        self._store,
                        on_started=on_started,
                        on_epoch=on_epoch,
                        should_stop=self._stop.is_set,
                        inspect_model=probe.inspect,
                    )
                    probe.finish(result)
                except Exception as exc:  # shown to the user, never lost in this thread
                    self.errored.emit(current["run_id"], error_message(exc))
                    break
                if result.status == "stopped":
                    self.aborted.emit(result.run_id)
                self.finished.emit(result.run_id, result)
                self.progress.emit(done + 1, total)
        finally:
            self.all_done.emit()


class TrainingController(QObject):
    """Owns the worker thread: start runs, stop them, and shut down without leaks."""

    _run_requested = Signal(object)
    #: Emitted in the controller's (GUI) thread once a run or sequence has ended, after
    #: the worker's earlier signals were delivered there; wait on this, not on all_done.
    idle = Signal()

    def __init__(self, store: RunStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = RunWorker(store)
        self._thread = QThread()
        self._thread.setObjectName("fitgap-training")
        self.worker.moveToThread(self._thread)
        self._run_requested.connect(self.worker.run_many)
        self.worker.all_done.connect(self._on_all_done)
        self._busy = False

    def is_busy(self) -> bool:
        """A run (or sequence) has been requested and has not ended yet."""
        return self._busy

    def start(self, configs: RunConfig | Sequence[RunConfig]) -> None:
        """Train one config or a list of them, one after another, on the worker thread."""
        if self._busy:
            raise RuntimeError("a run is already in progress")
        if isinstance(configs, RunConfig):
            configs = [configs]
        if not self._thread.isRunning():
            self._thread.start()
        self._busy = True
        self._run_requested.emit(list(configs))

    def stop(self) -> None:
        self.worker.request_stop()

    @Slot()
    def _on_all_done(self) -> None:
        self._busy = False
        self.idle.emit()

    def shutdown(self, timeout_ms: int = 15000) -> bool:
        """Stop any run, end the thread and wait for it; False if it is still running.

        The engine sees the stop flag within one execution chunk, then saves the
        model; the wait covers that.  The thread is never terminated.
        """
        self.worker.request_stop()
        self._thread.quit()  # the event loop exits as soon as run_many returns
        return not self._thread.isRunning() or self._thread.wait(timeout_ms)

    def thread_running(self) -> bool:
        return self._thread.isRunning()


class EngineLoader(QThread):
    """Imports TensorFlow/Keras off the GUI thread so the window shows first."""

    loaded = Signal()
    failed = Signal(str)

    def run(self) -> None:
        try:
            import keras  # noqa: F401  (keras imports tensorflow, its backend)
            import sklearn.datasets  # noqa: F401  (the digits loader needs it)
        except Exception as exc:  # a broken install: tell the user, keep the window
            self.failed.emit(error_message(exc))
            return
        self.loaded.emit()
