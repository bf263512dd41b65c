"""The Insights side tab: weight norms, decision boundary, confusion matrix, mistakes,
and the per-example dynamics (Examples: insights_examples.py).

It only listens to the live-run model (live_runs.py): ``epoch_appended`` carries
the weight norms the training callback records, and ``insight_ready`` carries the
grids and validation insight that ``insights_probe.InsightProbe`` computes on the
worker thread.  The Keras model itself is never touched here.  The Examples tab
follows the run in focus: the live run from its ``"examples"`` insight, a stored run
from the store (``load_examples``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from fitgap_gui.core.data.datasets import load_dataset
from fitgap_gui.core.formatting import run_label
from fitgap_gui.core.results.examples import ExampleDynamics
from fitgap_gui.core.results.records import EpochMetrics
from fitgap_gui.core.run.insights_probe import is_points2d
from fitgap_gui.core.run.live import LiveRun
from fitgap_gui.qt.panels.insights_examples import ExamplesView
from fitgap_gui.qt.panels.insights_validation import ValidationView
from fitgap_gui.qt.panels.insights_views import BoundaryView, WeightNormsView
from fitgap_gui.qt.plots.theme import LIGHT, PlotTheme
from fitgap_gui.qt.runtime.live_runs import LiveRuns


class InsightsPanel(QWidget):
    """Sub-tabs Weights, Boundary, Validation for the run being trained."""

    def __init__(
        self,
        live_runs: LiveRuns | None = None,
        load_examples: Callable[[int], ExampleDynamics | None] | None = None,
    ) -> None:
        super().__init__()
        self.theme: PlotTheme = LIGHT
        self.run_id: int | None = None
        self.weights = WeightNormsView()
        self.boundary = BoundaryView()
        self.validation = ValidationView()
        self.examples = ExamplesView()
        self.load_examples = load_examples
        #: The live run's last examples payload and data, to show again when it is refocused.
        self._live_examples: tuple[ExampleDynamics, bool] | None = None
        self._live_dataset = None
        self.tabs = QTabWidget()
        self.tabs.addTab(self.weights, "Weights")
        self.tabs.addTab(self.boundary, "Boundary")
        self.tabs.addTab(self.validation, "Validation")
        self.tabs.addTab(self.examples, "Examples")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        if live_runs is not None:
            live_runs.run_added.connect(self._on_run_added)
            live_runs.dataset_ready.connect(self.on_dataset_ready)
            live_runs.epoch_appended.connect(self.on_epoch)
            live_runs.insight_ready.connect(self.on_insight)
            live_runs.start_failed.connect(self.on_start_failed)
            live_runs.focus_changed.connect(self.on_focus)
            live_runs.run_finished.connect(self.on_run_finished)

    def _theme(self) -> PlotTheme:
        return self.theme

    def apply_theme(self, theme: PlotTheme) -> None:
        """View → Theme changed: the plots follow (the table keeps its own colours)."""
        self.theme = theme
        self.weights.apply_theme(theme)
        self.boundary.apply_theme(theme)
        self.examples.apply_theme(theme)

    # -- the model's signals ----------------------------------------------------------------
    def _on_run_added(self, run: LiveRun) -> None:
        if run.origin == "live":
            self.on_run_started(run.run_id, run.config)

    def on_start_failed(self, message: str) -> None:
        """A run could not start: nothing shown may still name the last run's data."""
        self.run_id = None
        for view in (self.boundary, self.validation):
            view.show_message(f"No run: {message}")

    def on_run_started(self, run_id: int, config) -> None:
        self.run_id = run_id
        model = config.model
        levers = [
            f"L2 {model.l2:g}" if model.l2 else "no L2",
            f"L1 {model.l1:g}" if model.l1 else "",
        ]
        self.weights.begin_run(
            run_id, list(model.hidden_units), self._theme(), ", ".join(w for w in levers if w)
        )
        self.validation.clear(
            f"{run_label(run_id, capital=True)} is training: the validation insight follows at its end."
        )
        self._live_examples = self._live_dataset = None
        self.examples.begin_run(run_id)

    def on_dataset_ready(self, run_id: int, dataset) -> None:
        if run_id != self.run_id:
            return
        self._live_dataset = dataset
        if self.examples.run_id == run_id:
            self.examples.set_dataset(dataset)
        if is_points2d(dataset):
            self.boundary.set_points(dataset, self._theme())
        else:
            what = "image" if dataset.kind == "image" else dataset.kind
            self.boundary.show_message(
                "The decision boundary needs 2-D points (moons, circles, spirals or xor): "
                f"{dataset.name} is {what} data with "
                f"{'×'.join(str(d) for d in dataset.input_shape)} features per sample."
            )

    def on_epoch(self, run_id: int, metrics: EpochMetrics) -> None:
        if run_id == self.run_id:
            self.weights.add_epoch(metrics.epoch, list(metrics.extras.get("weight_norms", [])))
        if run_id == self.examples.run_id:
            self.examples.add_memorized(metrics.epoch, metrics.metrics.get("memorized_noise"))

    def on_insight(self, run_id: int, kind: str, payload: dict) -> None:
        if run_id != self.run_id:
            return
        if kind == "examples":
            dynamics, final = payload["dynamics"], bool(payload.get("final"))
            self._live_examples = (dynamics, final)
            if self.examples.run_id == run_id:
                self.examples.show_dynamics(dynamics, final=final)
        elif kind == "boundary" and self.boundary.showing_content():
            self.boundary.show_grid(payload)
        elif kind == "validation":
            self.validation.show_insight(payload)
        elif kind == "unavailable":
            view = self.boundary if payload["view"] == "boundary" else self.validation
            view.show_message(f"Not available for this run: {payload['reason']}")

    def on_focus(self, run) -> None:
        """The run in focus changed: the Examples tab follows it (stored runs from the store)."""
        if run is None or run.run_id == self.examples.run_id:
            return
        self.examples.begin_run(run.run_id)
        if run.run_id == self.run_id:  # the live run again: its last payload
            if self._live_dataset is not None:
                self.examples.set_dataset(self._live_dataset)
            if self._live_examples is not None:
                dynamics, final = self._live_examples
                self.examples.show_dynamics(dynamics, final=final)
            self._memorized_from(run.history)
            return
        self._show_stored(run)

    def on_run_finished(self, run_id: int, run) -> None:
        """A run trained elsewhere (an executor's worker) sent no live examples: once it
        has ended, its record is in the store."""
        if run_id == self.examples.run_id and self.examples.dynamics is None:
            self._show_stored(run)

    def _show_stored(self, run) -> None:
        dynamics = self.load_examples(run.run_id) if self.load_examples is not None else None
        if dynamics is None:
            self.examples.show_message(
                f"{run_label(run.run_id, capital=True)} has no per-example record (runs "
                "recorded before FitGap kept one, and runs that measured no epoch, have none)."
            )
            return
        # Thumbnails and rows: the run's own data, drawn again from its config; data that
        # moved or changed costs only them.
        with contextlib.suppress(Exception):
            self.examples.set_dataset(load_dataset(run.config.data, run.config.training.seed))
        self._memorized_from(run.history)
        self.examples.show_dynamics(dynamics, final=True)

    def _memorized_from(self, history: dict) -> None:
        for epoch, value in enumerate(history.get("memorized_noise", []), start=1):
            self.examples.add_memorized(epoch, value)
