"""The live-run model drawn on the plots: the window wires the model to this view.

``PlotsAdapter`` listens to ``LiveRuns`` (qt/runtime) and calls the public methods of
``PlotsPanel`` (qt/plots); neither of the two knows the other, so the adapter lives
with the window that owns both.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from fitgap_gui.core.results.records import EpochMetrics
from fitgap_gui.core.run.live import LiveRun
from fitgap_gui.qt.plots.plots import PlotsPanel
from fitgap_gui.qt.runtime.live_runs import LiveRuns


class PlotsAdapter(QObject):
    """Draws a ``LiveRuns`` on a ``PlotsPanel`` with the panel's public methods only."""

    def __init__(self, model: LiveRuns, plots: PlotsPanel) -> None:
        super().__init__(plots)
        self.model, self.plots = model, plots
        #: The marker text of each finished run ("Early stopping ended the run at…").
        self.markers: dict[int, str] = {}
        model.run_added.connect(self._on_added)
        model.epoch_appended.connect(self._on_epoch)
        model.run_finished.connect(self._on_finished)
        model.run_changed.connect(self._restyle)
        model.run_removed.connect(self._on_removed)
        model.cleared.connect(self._on_cleared)
        model.start_failed.connect(lambda _message: self.plots.show_countdown("", None))

    def _on_added(self, run: LiveRun) -> None:
        if run.origin == "stored":
            drawn = run.drawn_history()  # a branch joins its parent's curves at its epoch
            self.plots.show_history(
                run.run_id, run.label, drawn, run.result, run.monitor, best_epoch=run.best_epoch
            )
            if run.status == "running":  # training elsewhere: room for the epochs it asked
                self.plots.set_epoch_span(max(self.plots.epoch_span, run.config.training.epochs))
        else:
            self.plots.set_epoch_span(max(self.plots.epoch_span, run.config.training.epochs))
            self.plots.begin_run(run.run_id, run.label, run.monitor)
            drawn = run.drawn_history()
            for index in range(run.epochs):  # a branch's first point: its parent's
                row = {k: v[index] for k, v in drawn.items() if index < len(v)}
                metrics = EpochMetrics(index + 1, row)  # type: ignore[arg-type]
                self.plots.add_epoch(run.run_id, metrics, best_epoch=run.best_epoch)
        self._restyle(run.run_id)
        if run.origin == "live":  # a new live run: the last one's countdown goes
            self.plots.show_countdown("", None)

    def _restyle(self, run_id: int) -> None:
        view = self.model.views.get(run_id)
        if view is not None:
            self.plots.style_run(run_id, view.colour, faint=view.faint)

    def _on_epoch(self, run_id: int, metrics: EpochMetrics) -> None:
        # The best epoch is the model's (``LiveRun.best_epoch``): the plots draw it.
        run = self.model.get(run_id)
        self.plots.add_epoch(run_id, metrics, best_epoch=run.best_epoch if run else None)
        if run_id == self.model.live_id:
            shown = self.model.countdown_text(run_id)
            self.plots.show_countdown(*(shown or ("", None)))

    def _on_finished(self, run_id: int, run: LiveRun) -> None:
        if run.result is not None:
            self.markers[run_id] = self.plots.finish_run(run_id, run.result)
        self.plots.show_countdown("", None)

    def _on_removed(self, run_id: int) -> None:
        self.plots.remove_run(run_id)
        self.markers.pop(run_id, None)
        # The x axis shrinks to the runs left (a training run: all the epochs it asked for).
        spans = [
            r.config.training.epochs if r.status == "running" else r.epochs
            for r in self.model.runs.values()
        ]
        if spans:
            self.plots.set_epoch_span(max(spans))

    def _on_cleared(self) -> None:
        self.plots.clear()
        self.plots.show_countdown("", None)
