"""The runs on screen as one model: ``LiveRuns``.

``LiveRuns`` holds every run the window shows (``core.run.live.LiveRun``): the one
training now (several at once when an experiment's plan runs in parallel), the
previous Train's runs kept faint beside it, and the stored runs selected in the Runs
tab.  The window feeds it from the training controller; the
panels (plots through ``qt.window.plots_adapter``, diagnosis, insights, runs, experiments)
are handed it in their constructors and listen to its signals.  How each run is
drawn is view state, kept here beside the core's record (``RunView``: its colour and
whether it is faint).  Colours belong to runs: a run keeps its palette slot for the
whole session, whatever is selected.
Runs of another data set are never overlaid silently: starting one clears them
and ``note`` says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from fitgap_gui.core.diagnosis.inputs import inputs_for_diagnosis
from fitgap_gui.core.diagnosis.own_model import diagnose_own
from fitgap_gui.core.diagnosis.verdict import diagnose
from fitgap_gui.core.formatting import run_label
from fitgap_gui.core.results.records import EpochMetrics, RunResult
from fitgap_gui.core.run.live import (
    LiveRun,
    RunRequest,
    data_identity,
    early_stopping_countdown,
)
from fitgap_gui.core.store.runstore import StoredRun

logger = logging.getLogger(__name__)

#: How many run colours the plots have (each theme's palette has this many).
PALETTE_SLOTS = 6


@dataclass
class RunView:
    """How the views draw one run on screen (the core's ``LiveRun`` knows nothing of it)."""

    #: Its palette slot, given when it first appeared and fixed for the session.
    colour: int
    #: A previous run left on screen beside the new one, drawn faint.
    faint: bool = False


def _data_name(data: tuple[str, str | None]) -> str:
    source, path = data
    if source == "script":  # LiveRun.data of a FitGapCallback run
        return f"{path}'s own data"
    return path or source


def _diagnose(run: LiveRun) -> None:
    """The run's diagnosis from its history; a diagnosis bug never stops the curves."""
    try:
        if run.levers is not None:  # a user's own model: judged on what it reports
            run.diagnosis = diagnose_own(run.history, run.levers).to_dict()
        else:
            run.diagnosis = diagnose(
                run.history, run.config, n_classes=run.n_classes, inputs=run.inputs
            ).to_dict()
    except Exception:  # kept in the log with its traceback
        logger.exception("diagnosis of run %s failed", run.run_id)


class LiveRuns(QObject):
    """The runs on screen; every change is announced by one signal."""

    #: A run came on screen (LiveRun): a live one starting, or a stored one selected.
    run_added = Signal(object)
    #: run_id, EpochMetrics: the run's history has one more epoch.
    epoch_appended = Signal(int, object)
    #: run_id, LiveRun: the run ended (its ``result`` and final diagnosis are set).
    run_finished = Signal(int, object)
    #: run_id: its faint flag, diagnosis or label changed.
    run_changed = Signal(int)
    run_removed = Signal(int)
    cleared = Signal()
    #: The run the diagnosis follows (LiveRun, or None): the live run, or a selected one.
    focus_changed = Signal(object)
    #: run_id, Dataset, once a live run's data is loaded.
    dataset_ready = Signal(int, object)
    #: run_id, kind, payload: insight views from the worker (see insights_probe.py).
    insight_ready = Signal(int, str, object)
    #: A run could not start (bad data, config): views drop what they showed of the last.
    start_failed = Signal(str)
    #: A line for the status bar (runs of another data set were cleared…).
    note = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runs: dict[int, LiveRun] = {}
        #: How each run in ``runs`` is drawn (the same keys).
        self.views: dict[int, RunView] = {}
        #: The run training now, the latest started of several (None between runs).
        self.live_id: int | None = None
        #: The latest run started in this window (kept after it ends): exports default to it.
        self.current_id: int | None = None
        self.focus_id: int | None = None
        self._colours: dict[int, int] = {}  # run_id -> palette slot, for the session
        self._fainted: list[int] = []  # made faint by the batch that is starting

    # -- reading -----------------------------------------------------------------------------
    def get(self, run_id: int | None) -> LiveRun | None:
        return None if run_id is None else self.runs.get(run_id)

    def focused(self) -> LiveRun | None:
        return self.get(self.focus_id)

    def is_faint(self, run_id: int) -> bool:
        """A previous run, drawn faint beside the new one."""
        view = self.views.get(run_id)
        return view is not None and view.faint

    def training(self) -> list[LiveRun]:
        """The runs of this window training now, in the order they started."""
        return [r for r in self.runs.values() if r.origin == "live" and r.status == "running"]

    def colour_of(self, run_id: int) -> int:
        """The run's palette slot, chosen when it first appears and then fixed.

        The slot no run on screen has that was given out longest ago (or never): so
        the runs trained one after another get different colours, and a run selected
        again from the store beside them does not share its colour with a newer run.
        With every slot on screen, the one given out longest ago.
        """
        if run_id not in self._colours:
            on_screen = {view.colour % PALETTE_SLOTS for view in self.views.values()}
            given = {slot: order for order, slot in enumerate(self._colours.values())}
            free = [s for s in range(PALETTE_SLOTS) if s not in on_screen]
            self._colours[run_id] = min(
                free or range(PALETTE_SLOTS), key=lambda s: (given.get(s, -1), s)
            )
        return self._colours[run_id]

    # -- the live runs -----------------------------------------------------------------------
    def begin_batch(self, requests: list[RunRequest]) -> None:
        """A Train or an experiment is about to start: the last one's runs turn faint.

        Runs that were already faint leave; runs of another data set leave too, with
        a note, so curves of two data sets are never overlaid silently.
        """
        new_data = {data_identity(r.config) for r in requests}
        other = [r for r in self.runs.values() if r.data not in new_data]
        if other:
            for run in other:
                self.remove(run.run_id)
            names = ", ".join(sorted({_data_name(r.data) for r in other}))
            self.note.emit(
                f"Cleared {len(other)} run{'s' if len(other) != 1 else ''} of {names} from the "
                f"plots: the new run trains on {_data_name(data_identity(requests[0].config))}."
            )
        for run in list(self.runs.values()):
            if run.origin == "live" and self.is_faint(run.run_id):
                self.remove(run.run_id)
        self._fainted = []
        for run in self.runs.values():
            if run.origin == "live":
                self.views[run.run_id].faint = True
                self._fainted.append(run.run_id)
                self.run_changed.emit(run.run_id)

    def begin(self, run_id: int, request: RunRequest) -> LiveRun:
        """The worker started a run: it comes on screen and gets the focus.

        Runs of a parallel plan start while others train: the focus stays on a run
        that is still training, so the diagnosis does not jump at every start.
        """
        self._fainted = []  # the batch did start: the faint runs stay faint
        label = request.label or run_label(run_id)
        run = LiveRun(run_id, label, request.config, origin="live", tag=request.tag)
        if request.branch_epoch:  # a branch: its history starts with its parent's epochs
            run.parent_run_id, run.branch_epoch = request.parent_run_id, request.branch_epoch
            parent = self.runs.get(request.parent_run_id or 0)
            prefix = request.prefix or (parent.history if parent is not None else {})
            run.start_from(prefix, request.branch_epoch)
        focused = self.focused()
        keep_focus = (
            focused is not None and focused.origin == "live" and focused.status == "running"
        )
        self._add(run)
        self.live_id = self.current_id = run_id
        if not keep_focus:
            self.set_focus(run_id)
        return run

    def set_dataset(self, run_id: int, dataset: Any) -> None:
        run = self.runs.get(run_id)
        if run is not None:
            run.n_classes = dataset.n_classes
            run.inputs = inputs_for_diagnosis(run.config.data.resolved_scale, dataset.x_train)
        self.dataset_ready.emit(run_id, dataset)

    def append_epoch(self, run_id: int, metrics: EpochMetrics) -> None:
        """One more epoch of a live run; its live diagnosis follows."""
        run = self.runs.get(run_id)
        if run is None:
            return
        run.append(metrics)
        _diagnose(run)
        self.epoch_appended.emit(run_id, metrics)

    def finish(self, run_id: int, result: RunResult) -> None:
        run = self.runs.get(run_id)
        if run is None:
            return
        run.finish(result)
        if result.diagnosis is None:  # a failed diagnosis must not hide the last live one
            _diagnose(run)
        if self.live_id == run_id:  # another run of a parallel plan may still train
            still = self.training()
            self.live_id = still[-1].run_id if still else None
        self.run_finished.emit(run_id, run)

    def start_failed_with(self, message: str) -> None:
        """No run of the batch could start: un-fade the last runs and say so."""
        for run_id in self._fainted:
            view = self.views.get(run_id)
            if view is not None:
                view.faint = False
                self.run_changed.emit(run_id)
        self._fainted = []
        self.live_id = None
        self.start_failed.emit(message)

    def countdown_text(self, run_id: int) -> tuple[str, int | None] | None:
        """Early stopping's countdown of a live run: its text and the epoch it stops at."""
        run = self.runs.get(run_id)
        if run is None:
            return None
        countdown = early_stopping_countdown(
            run.history, run.config.early_stopping, run.config.training.epochs
        )
        if countdown is None:
            return None
        where = (
            f"\nstops at epoch {countdown.stop_epoch} if nothing improves"
            if countdown.stop_epoch is not None
            else ""
        )
        return f"early stopping: {countdown.text()}{where}", countdown.stop_epoch

    # -- stored runs -------------------------------------------------------------------------
    def show_stored(self, stored: StoredRun) -> LiveRun:
        """Put a stored run on screen (selected in the Runs tab)."""
        label = stored.name  # "run 7" until renamed, as the store and the Runs tab say
        run = LiveRun(
            stored.run_id,
            label,
            stored.config,
            origin="stored",
            history={k: list(v) for k, v in stored.history.items()},
            best_epoch=stored.best_epoch,
            status=stored.status,
            diagnosis=stored.diagnosis,
            levers=(stored.levers or {}) if stored.kind == "callback" else None,
            script_data=stored.script_data if stored.kind == "callback" else None,
            parent_run_id=stored.parent_run_id,
            branch_epoch=stored.branch_epoch,
        )
        if stored.status != "running":
            run.result = stored.to_result()
        others = {r.data for r in self.runs.values()} - {run.data}
        if others:
            self.note.emit(
                f"{label} trained on {_data_name(run.data)}; the other runs on the plots on "
                f"{', '.join(sorted(_data_name(d) for d in others))}."
            )
        self._add(run)
        return run

    def follow_stored(
        self, run_id: int, epochs: list[EpochMetrics], ended: StoredRun | None = None
    ) -> None:
        """A stored run still training in another process: its new epochs, then its end.

        The Runs tab reads them from the store when its version moves; each epoch is
        appended as a live one is (plots, best epoch and diagnosis follow).
        """
        run = self.runs.get(run_id)
        if run is None or run.origin != "stored":
            return
        for metrics in epochs:
            self.append_epoch(run_id, metrics)
        if ended is not None and ended.status != "running":
            self.finish(run_id, ended.to_result())

    # -- leaving ------------------------------------------------------------------------------
    def _add(self, run: LiveRun) -> None:
        # A run shown again (renamed) replaces itself: views replace by run id.
        view = RunView(self.colour_of(run.run_id))
        self.runs[run.run_id] = run
        self.views[run.run_id] = view
        self.run_added.emit(run)

    def set_focus(self, run_id: int | None) -> None:
        """The run the diagnosis tab shows (None: the live or latest run)."""
        if run_id is None or run_id not in self.runs:
            live = [
                r for r in self.runs.values() if r.origin == "live" and not self.is_faint(r.run_id)
            ]
            run_id = live[-1].run_id if live else None
        self.focus_id = run_id
        self.focus_changed.emit(self.get(run_id))

    def remove(self, run_id: int) -> None:
        run = self.runs.pop(run_id, None)
        self.views.pop(run_id, None)
        if run is None:
            return
        if self.live_id == run_id:
            self.live_id = None
        self.run_removed.emit(run_id)
        if self.focus_id == run_id:
            self.set_focus(None)

    def clear_previous(self) -> int:
        """Drop the faint runs of earlier Trains (Run → Clear previous runs); how many."""
        gone = [
            r.run_id for r in self.runs.values() if r.origin == "live" and self.is_faint(r.run_id)
        ]
        for run_id in gone:
            self.remove(run_id)
        return len(gone)

    def clear(self) -> None:
        self.runs.clear()
        self.views.clear()
        self.live_id = None
        self.focus_id = None
        self.cleared.emit()
        self.focus_changed.emit(None)
