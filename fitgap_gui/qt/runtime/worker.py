"""Training off the GUI thread: ``TrainingController`` runs ``run_recorded`` in a task.

The controller starts one ``BackgroundTask`` (background.py) per Train press or
experiment; the task trains each ``RunRequest`` in turn and reports every event
through ``yielded`` as a small frozen object, one class per kind (``Started``,
``DatasetLoaded``, ``EpochDone``, ``InsightReady``, ``Finished``, ``Failed``,
``Progress``, ``Paused``).  The controller matches on the class and turns each into
one of a fixed signal vocabulary, emitted in the GUI thread:
``started, epoch_done, finished, errored, aborted`` plus ``dataset_ready``,
``insight_ready``, ``progress`` and ``idle``.  Each event carries the run id the
store gave the run, and ``started`` carries the request (label and tag), so nothing
downstream is matched by start order.  Stopping is cooperative: a flag the engine
polls between execution chunks, never ``QThread.terminate()``.  Pausing is the
engine's ``PauseGate`` (core/branching.py): ``pause`` holds the run at the end of
the epoch in progress (``paused`` says when), ``resume`` goes on or, with changed
levers, branches: the parent finishes as ``branched`` and its child starts, as any
run starts (``started`` with a request naming its parent and branch epoch).

``start_plan`` runs an experiment's requests through an executor
(``core.executors``: worker processes, or Ray tasks) on the same kind of task: the
executor's callbacks arrive on the task's thread and leave it as the same events, so
several runs are live at once and the window cannot tell how they were trained.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.experiments.executors import PlanItem, plan_datasets
from fitgap_gui.core.export.examples import stored_dynamics
from fitgap_gui.core.logfiles import native_stderr_to_log
from fitgap_gui.core.results.records import EpochMetrics, RunResult
from fitgap_gui.core.run.branching import PauseGate, state_from_stored
from fitgap_gui.core.run.cleaning import clean_dataset_for
from fitgap_gui.core.run.insights_probe import InsightProbe
from fitgap_gui.core.run.live import RunRequest
from fitgap_gui.core.run.session import run_with_branches
from fitgap_gui.core.store.runstore import RunStore
from fitgap_gui.qt.runtime.background import BackgroundTask, TaskState

if TYPE_CHECKING:  # a type only: the executors load the engine's modules
    from fitgap_gui.core.experiments.executors import Executor

logger = logging.getLogger(__name__)

#: The run id sent with ``errored`` when a run failed before it had a row (bad data).
NO_RUN = 0


def error_message(exc: BaseException) -> str:
    """A user-fixable error as it is; anything else with its type, in one line."""
    if isinstance(exc, FitGapError):
        return str(exc)
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


# -- what the training thread reports: one frozen class per kind of event -------------------------
@dataclass(frozen=True)
class Started:
    """A run has its row in the store and starts (a branch's child too)."""

    run_id: int
    request: RunRequest


@dataclass(frozen=True)
class DatasetLoaded:
    """The run's data is loaded (a ``Dataset``)."""

    run_id: int
    dataset: Any


@dataclass(frozen=True)
class EpochDone:
    run_id: int
    metrics: EpochMetrics


@dataclass(frozen=True)
class InsightReady:
    """An insight view's data from ``insights_probe.InsightProbe`` (plain numpy/dicts)."""

    run_id: int
    kind: str
    payload: Any


@dataclass(frozen=True)
class Finished:
    """The run ended with ``result`` (completed, stopped, early-stopped, branched…)."""

    run_id: int
    result: RunResult


@dataclass(frozen=True)
class Failed:
    """The run (``NO_RUN``: the batch, before a run had a row) ended with an exception."""

    run_id: int
    error: BaseException


@dataclass(frozen=True)
class Progress:
    """Runs done so far of the batch or plan, and in total."""

    done: int
    total: int


@dataclass(frozen=True)
class Paused:
    """The run is held at the end of ``epoch`` until it is resumed."""

    run_id: int
    epoch: int


Event = Started | DatasetLoaded | EpochDone | InsightReady | Finished | Failed | Progress | Paused


def train_requests(
    state: TaskState,
    requests: Sequence[RunRequest],
    store: RunStore,
    gate: PauseGate | None = None,
) -> None:
    """Train each request in turn on this (worker) thread; a stop or an error ends it.

    Every event goes out as ``state.report(event)`` (an ``Event``).  With ``gate`` a
    run may be paused, continued and branched; each child run is reported as a run
    of its own (``started`` … ``finished``).
    """

    total = len(requests)
    for done, request in enumerate(requests):
        if state.abort_requested():
            break
        current: dict[str, Any] = {"run_id": NO_RUN, "request": request}
        if gate is not None:
            gate.on_hold = lambda epoch, c=current: state.report(Paused(c["run_id"], epoch))
        # Insight views: computed here, on the thread that owns the model.
        probe = InsightProbe(
            request.config,
            lambda kind, data, c=current: state.report(InsightReady(c["run_id"], kind, data)),
        )

        def on_started(run_id: int, dataset, current=current, probe=probe):
            current["run_id"] = run_id
            state.report(Started(run_id, current["request"]))
            state.report(DatasetLoaded(run_id, dataset))
            probe.start(dataset)

        def on_epoch(run_id: int, metrics, probe=probe) -> None:
            probe.note_epoch(metrics)
            state.report(EpochDone(run_id, metrics))

        def on_finished(result, current=current, probe=probe, request=request) -> None:
            probe.finish(result)
            state.report(Finished(result.run_id, result))
            if result.branch is not None:  # the child is the next run started
                current["request"] = RunRequest(
                    result.branch.config,
                    tag=request.tag,
                    parent_run_id=result.run_id,
                    branch_epoch=result.branch.state.epoch,
                    prefix=result.branch.state.history,
                )

        try:
            resume = None
            cleaned = cleaned_run(store, request)  # (dataset, parent) or (None, None)
            if request.from_store and request.parent_run_id is not None:
                _parent, resume = state_from_stored(store, request.parent_run_id)
                current["request"] = dataclasses.replace(
                    request, branch_epoch=resume.epoch, prefix=resume.history
                )
            run_with_branches(
                request.config,
                store,
                on_finished=on_finished,
                resume=resume,
                on_started=on_started,
                on_epoch=on_epoch,
                should_stop=state.abort_requested,
                inspect_model=probe.inspect,
                on_examples=probe.examples,
                name=request.label,
                gate=gate,
                dataset=cleaned[0],
                parent_run_id=cleaned[1],
            )
        except Exception as exc:  # shown to the user; the traceback goes to the log
            if not isinstance(exc, FitGapError):
                logger.exception("run %s failed", current["run_id"] or "(not started)")
            state.report(Failed(current["run_id"], exc))
            break
        state.report(Progress(done + 1, total))


def cleaned_run(store: RunStore, request: RunRequest) -> tuple[Any, int | None]:
    """A cleaning request's data (the parent's, cleaned) and parent; else no change."""
    if request.cleaning is None:
        return None, None
    parent_id, mode, k = request.cleaning
    parent = store.get_run(parent_id)
    dynamics = stored_dynamics(store, parent_id)
    return clean_dataset_for(parent.config, dynamics, mode, k, parent.best_epoch), parent_id


def train_plan(
    state: TaskState, requests: Sequence[RunRequest], store: RunStore, executor: Executor
) -> None:
    """Train the requests as one plan through ``executor``; its runs may overlap.

    The executor's callbacks run on this (the task's) thread; each becomes one event,
    as in ``train_requests``.  A run that ended without returning (failed in its
    worker, or ended after a stop) is reported ``finished`` with its stored row, so
    no run stays "training" on screen.
    """

    plan = [PlanItem(r.config, r.label or "", r.probe) for r in requests]
    total = len(plan)
    started: dict[int, int] = {}  # plan index -> run id
    returned: set[int] = set()
    try:
        datasets = plan_datasets(plan)  # bad data: refused before any row exists
    except Exception as exc:
        state.report(Failed(NO_RUN, exc))
        return

    def on_run_started(index: int, run_id: int, ran_on: str) -> None:
        started[index] = run_id
        state.report(Started(run_id, requests[index]))
        state.report(DatasetLoaded(run_id, datasets[index]))
        # The probe needs the model on this thread; the insight views say why it is absent.
        reason = (
            f"it trained on {ran_on}; the insight views follow runs trained one at a time "
            "(Edit → Preferences: 1 worker)"
        )
        for view in ("boundary", "validation"):
            state.report(InsightReady(run_id, "unavailable", {"view": view, "reason": reason}))

    def on_epoch(_index: int, run_id: int, metrics: EpochMetrics) -> None:
        state.report(EpochDone(run_id, metrics))

    def on_run_done(index: int, result: RunResult) -> None:
        returned.add(index)
        state.report(Finished(started.get(index, result.run_id), result))
        state.report(Progress(len(returned), total))

    error: Exception | None = None
    try:
        executor.run(
            plan,
            store,
            datasets=datasets,
            on_run_started=on_run_started,
            on_epoch=on_epoch,
            on_run_done=on_run_done,
            should_stop=state.abort_requested,
        )
    except Exception as exc:  # shown to the user; the traceback goes to the log
        if not isinstance(exc, FitGapError):
            logger.exception("a run of the plan failed")
        error = exc
    unreturned = [run_id for index, run_id in started.items() if index not in returned]
    for run_id in unreturned:
        try:
            state.report(Finished(run_id, store.get_run(run_id).to_result()))
        except FitGapError:  # the store cannot be read now: the run stays as last shown
            logger.warning("run %s: its stored row could not be read", run_id)
    if error is not None:
        state.report(Failed(unreturned[0] if unreturned else NO_RUN, error))


class TrainingController(QObject):
    """Start runs, stop them, and shut down without leaving a thread running."""

    #: run_id, RunRequest (its label and tag)
    started = Signal(int, object)
    #: run_id, Dataset, once a run's data is loaded
    dataset_ready = Signal(int, object)
    epoch_done = Signal(int, object)  # run_id, EpochMetrics
    finished = Signal(int, object)  # run_id, RunResult
    #: run_id (NO_RUN before the run had a row), the exception
    errored = Signal(int, object)
    aborted = Signal(int)
    #: Runs done so far and in total, after each run of a sequence.
    progress = Signal(int, int)
    #: run_id, kind, payload (plain numpy/dicts) from ``insights_probe.InsightProbe``.
    insight_ready = Signal(int, str, object)
    #: run_id, epoch: the run is held at that epoch's end (``pause``) until ``resume``.
    paused = Signal(int, int)
    #: A run or sequence has ended (completed, stopped or failed); every signal
    #: above that belongs to it was delivered before this one.
    idle = Signal()

    def __init__(self, store: RunStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._task: BackgroundTask | None = None
        #: The executor of the last plan (``start_plan``); tests read its worker pids.
        self.last_executor: Executor | None = None
        self._gate: PauseGate | None = None

    def is_busy(self) -> bool:
        """A run (or sequence) has been requested and has not ended yet."""
        return self._task is not None

    def can_pause(self) -> bool:
        """Runs train in this process (not a plan's workers), so Pause can hold them."""
        return self._task is not None and self._gate is not None

    def start(self, requests: RunConfig | RunRequest | Sequence[RunConfig | RunRequest]) -> None:
        """Train one request or a list of them, one after another, off the GUI thread."""
        if self._task is not None:
            raise RuntimeError("a run is already in progress")
        if isinstance(requests, (RunConfig, RunRequest)):
            requests = [requests]
        wanted = [r if isinstance(r, RunRequest) else RunRequest(r) for r in requests]
        self._gate = PauseGate()
        self._start_task(
            BackgroundTask(
                train_requests,
                wanted,
                self._store,
                self._gate,
                name="fitgap-training",
                pass_state=True,
            )
        )

    def start_plan(self, requests: Sequence[RunRequest], executor: Executor) -> None:
        """Train the requests as one plan through ``executor`` (runs may overlap)."""
        if self._task is not None:
            raise RuntimeError("a run is already in progress")
        self.last_executor = executor
        self._gate = None  # a plan's runs train elsewhere: there is nothing to pause here
        self._start_task(
            BackgroundTask(
                train_plan,
                list(requests),
                self._store,
                executor,
                name="fitgap-training",
                pass_state=True,
            )
        )

    def _start_task(self, task: BackgroundTask) -> None:
        task.yielded.connect(self._dispatch)
        task.errored.connect(lambda exc: self.errored.emit(NO_RUN, exc))
        task.finished.connect(self._on_finished)
        self._task = task
        task.start()

    def stop(self) -> None:
        if self._task is not None:
            self._task.abort()

    def pause(self) -> None:
        """Hold the run at the end of the epoch in progress (``paused`` follows)."""
        if self._gate is not None and self._task is not None:
            self._gate.request_pause()

    def resume(self, config: RunConfig | None = None) -> None:
        """Go on (None or the same config) or branch with ``config``'s levers."""
        if self._gate is not None:
            self._gate.resume(config)

    def is_paused(self) -> bool:
        return self._gate is not None and self._gate.is_paused()

    def _dispatch(self, event: Event) -> None:
        """One event of the training thread, as its signal (in the GUI thread)."""
        match event:
            case Started(run_id, request):
                self.started.emit(run_id, request)
            case DatasetLoaded(run_id, dataset):
                self.dataset_ready.emit(run_id, dataset)
            case EpochDone(run_id, metrics):
                self.epoch_done.emit(run_id, metrics)
            case InsightReady(run_id, kind, payload):
                self.insight_ready.emit(run_id, kind, payload)
            case Finished(run_id, result):
                if result.status == "stopped":
                    self.aborted.emit(run_id)
                self.finished.emit(run_id, result)
            case Failed(run_id, error):
                self.errored.emit(run_id, error)
            case Progress(done, total):
                self.progress.emit(done, total)
            case Paused(run_id, epoch):
                self.paused.emit(run_id, epoch)
            case _:
                raise TypeError(f"not a training event: {event!r}")

    def _on_finished(self) -> None:
        self._task = None
        self._gate = None
        self.idle.emit()

    def shutdown(self, timeout_ms: int = 15000) -> bool:
        """Stop any run and wait for its thread; False if it is still running.

        The engine sees the stop flag within one execution chunk, then saves the
        model; the wait covers that.  The thread is never terminated.
        """
        task = self._task
        if task is None:
            return True
        task.abort()
        return task.wait(timeout_ms)

    def thread_running(self) -> bool:
        return self._task is not None and self._task.thread_running()


def import_engine() -> None:
    """Import TensorFlow/Keras (slow); run in a task so the window shows first.

    The first operation starts TensorFlow's devices here too, so that all of its
    C++ start-up lines go to the log file rather than the terminal.
    """
    with native_stderr_to_log():
        import keras  # (keras imports tensorflow, its backend)
        import sklearn.datasets  # noqa: F401  (the digits loader needs it)

        keras.ops.convert_to_numpy(keras.ops.ones((1,)))
