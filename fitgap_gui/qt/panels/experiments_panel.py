"""The Experiments side tab: compare remedies, validation curves and learning curves.

An experiment is a plan from ``core.experiments`` (``remedy_configs``,
``sweep_configs``, ``learning_curve_configs``): ``(key, RunConfig)`` pairs that the
window trains one after another (``RunLauncher.train_requests``), overlaid
on the plots with one legend name per run.  Each run is requested with its label
(stored as the run's name) and its plan index as tag, and the live-run model hands
both back with the run, so nothing is matched by start order.  As each run ends its
``ResultRow`` goes into the table and, for a sweep, two points (best training and
validation metric) onto the sweep plot under the table.  Stop (Esc) cancels the
rest of the sequence; every run that started is in the store under its label.

Run → Compare remedies (Ctrl+Shift+R) and Run → Sweep… (``sweep_dialog.py``) start them.
"""

from __future__ import annotations

import html
import logging
import math
from typing import Any, Protocol

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.config import RunConfig
from ...core.errors import FitGapError
from ...core.experiments import (
    Planned,
    ResultRow,
    best_row,
    is_log_scale,
    learning_curve_configs,
    remedy_configs,
    sweep_configs,
)
from ...core.formatting import (
    format_accuracy,
    format_loss,
    format_loss_change,
    format_value,
    run_label,
)
from ...core.live import LiveRun, RunRequest
from ..plots.theme import LIGHT, PlotTheme
from ..runtime.live_runs import LiveRuns
from .controls import ControlsPanel

logger = logging.getLogger(__name__)


class RunLauncher(Protocol):
    """What the panel needs of the window's run lifecycle."""

    def refusal(self) -> str | None:
        """Why no run can start now (engine loading, a run in progress), or None."""

    def train_requests(self, requests: list[RunRequest]) -> bool:
        """Start the runs one after another; False when refused."""

    def stop(self) -> None: ...


COLUMNS = ("Run", "Val loss", "Val acc", "Loss gap", "Epochs", "Verdict")
_TIPS = (
    "The run's name (hover for its run id and status)",
    "Validation loss at the best epoch",
    "Validation accuracy at the best epoch",
    "Validation minus training loss at the best epoch",
    "Epochs run (fewer than asked: early stopping or Stop)",
    "The diagnosis of the finished run",
)
VERDICT_WORDS = {"good_fit": "good fit"}
TRAIN_COLOUR, VAL_COLOUR = "#0072b2", "#d55e00"
#: What an empty tab says will appear (there is no "run 0 of 1" before an experiment).
EMPTY_TEXT = (
    "Run → Compare remedies (Ctrl+Shift+R) trains the current setup and four remedies "
    "on the same data and seed; Run → Sweep… (Ctrl+Shift+W) draws a validation curve "
    "over one lever, or a learning curve. Each run's best-epoch validation loss, "
    "accuracy and gap will appear here in a table, the best run in bold, and a sweep's "
    "points on a plot below it."
)


def lever_name(param: str) -> str:
    """``model.dropout`` -> ``dropout``: the short name used in labels."""
    return {
        "model.l2": "L2",
        "model.l1": "L1",
        "model.hidden_units": "hidden units",
        "early_stopping.patience": "patience",
        "training.learning_rate": "learning rate",
        "training.batch_size": "batch size",
        "data.train_fraction": "training fraction",
    }.get(param, param.split(".")[-1].replace("_", " "))


def _cell(text: str, tip: str = "") -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if tip:
        item.setToolTip(tip)
    return item


class ExperimentsPanel(QWidget):
    """Progress, the results table and the sweep plot of the latest experiment."""

    #: A run of the experiment ended and its row is in the table: (index, ResultRow).
    row_added = Signal(int, object)
    #: An experiment started: the window brings this tab forward.
    shown = Signal()
    #: A one-line error, and a status-bar message, for the window to show.
    error = Signal(str)
    message = Signal(str)

    def __init__(self, live_runs: LiveRuns, controls: ControlsPanel, launcher: RunLauncher) -> None:
        super().__init__()
        self.live_runs = live_runs
        self.controls = controls
        self.launcher = launcher
        self.theme: PlotTheme = LIGHT
        self.kind = ""  # "remedies", "sweep" or "learning"
        self.param: str | None = None
        self.plan: list[Planned] = []
        self.rows: list[ResultRow] = []
        self.active = False
        self._index_of: dict[int, int] = {}  # run_id -> planned index
        self._n_train: dict[int, int] = {}  # run_id -> training samples
        self._build()
        live_runs.run_added.connect(self._on_run_added)
        live_runs.dataset_ready.connect(self._on_dataset)
        live_runs.run_finished.connect(self._on_run_finished)

    def _build(self) -> None:
        self.title = QLabel("<b>No experiment yet</b>")
        self.title.setWordWrap(True)
        self.hint = QLabel(EMPTY_TEXT)
        self.hint.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setFormat("run %v of %m")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the current run and skip the rest (Esc)")
        self.cancel_button.clicked.connect(self.launcher.stop)
        self.cancel_button.setEnabled(False)
        # Progress and table appear with the first experiment: the empty tab says what
        # will be here instead of showing "run 0 of 1" over an empty table.
        self.progress_row = QWidget()
        bar = QHBoxLayout(self.progress_row)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.cancel_button)
        self.progress_row.setVisible(False)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        for column, tip in enumerate(_TIPS):
            self.table.horizontalHeaderItem(column).setToolTip(tip)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        # Long names ("+ early stopping (patience 5)") are elided, never wrapped.
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)

        self.metric = QComboBox()
        self.metric.addItems(["loss", "accuracy"])
        self.metric.setToolTip("Plot the best epoch's loss or accuracy against the lever")
        self.metric.currentTextChanged.connect(lambda _text: self.redraw_sweep())
        self.sweep_plot = pg.PlotWidget()
        self.sweep_plot.setBackground("w")
        self.sweep_plot.showGrid(x=True, y=True, alpha=0.25)
        self.sweep_plot.setMenuEnabled(False)
        # No legend inside the plot: with a handful of points any corner may hold one.
        # The colour key sits in the row above the plot instead.
        self.sweep_plot.getViewBox().setDefaultPadding(0.08)
        for axis in ("left", "bottom"):  # "dropout (x0.001)" reads worse than 0.2
            self.sweep_plot.getAxis(axis).enableAutoSIPrefix(False)
        pen = {"width": 2}
        self.train_points = self.sweep_plot.plot(
            [], [], name="training", pen=pg.mkPen(TRAIN_COLOUR, **pen), symbol="o",
            symbolBrush=TRAIN_COLOUR, symbolSize=8,
        )  # fmt: skip
        self.val_points = self.sweep_plot.plot(
            [], [], name="validation",
            pen=pg.mkPen(VAL_COLOUR, style=Qt.PenStyle.DashLine, **pen),
            symbol="s", symbolBrush=VAL_COLOUR, symbolSize=8,
        )  # fmt: skip
        self.sweep_box = QWidget()
        sweep_column = QVBoxLayout(self.sweep_box)
        sweep_column.setContentsMargins(0, 0, 0, 0)
        metric_row = QHBoxLayout()
        metric_row.addWidget(QLabel("Metric at the best epoch:"))
        metric_row.addWidget(self.metric, 1)
        key = QLabel(
            f"<span style='color:{TRAIN_COLOUR}'>● training</span>&nbsp;&nbsp;"
            f"<span style='color:{VAL_COLOUR}'>■ validation (dashed)</span>"
        )
        sweep_column.addLayout(metric_row)
        sweep_column.addWidget(key, 0, Qt.AlignmentFlag.AlignHCenter)
        sweep_column.addWidget(self.sweep_plot, 1)
        self.sweep_box.setVisible(False)

        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.addWidget(self.title)
        column.addWidget(self.hint)
        column.addWidget(self.progress_row)
        column.addWidget(self.table)
        self.table.setVisible(False)
        self.best_note = QLabel("")
        self.best_note.setWordWrap(True)
        column.addWidget(self.best_note)
        # Takes the room below the table when there is no sweep plot to fill it.
        self.filler = QWidget()
        column.addWidget(self.filler, 1)
        column.addWidget(self.sweep_box, 1)

    # -- starting ------------------------------------------------------------------------------
    def _base_config(self) -> RunConfig | None:
        try:
            return self.controls.config()
        except FitGapError as exc:
            self.error.emit(str(exc))
            return None

    def compare_remedies(self) -> bool:
        """Baseline, + dropout, + L2, + early stopping and all three, on the same data and seed."""
        base = self._base_config()
        if base is None:
            return False
        return self.start("remedies", remedy_configs(base), "Compare remedies")

    def start_sweep(self, param: str, values: list[Any]) -> bool:
        """A validation curve over ``param``; a bad value is refused with its message."""
        base = self._base_config()
        if base is None:
            return False
        try:
            planned = sweep_configs(base, param, values)
        except FitGapError as exc:
            self.error.emit(str(exc))
            return False
        return self.start("sweep", planned, f"Validation curve: {lever_name(param)}", param)

    def start_learning_curve(self, fractions: list[float] | None = None) -> bool:
        """Training fraction from about 10% to 100%: metrics against training-set size."""
        base = self._base_config()
        if base is None:
            return False
        try:
            planned = learning_curve_configs(base, fractions)
        except FitGapError as exc:
            self.error.emit(str(exc))
            return False
        return self.start("learning", planned, "Learning curve", "data.train_fraction")

    def start(
        self, kind: str, planned: list[Planned], title: str, param: str | None = None
    ) -> bool:
        """Train a plan on the worker; False when the window cannot train now."""
        refusal = self.launcher.refusal()
        if refusal is not None:
            self.message.emit(refusal)
            return False
        self.kind, self.param, self.plan = kind, param, list(planned)
        self.rows, self._index_of, self._n_train = [], {}, {}
        self.title.setText(f"<b>{title}</b> — {len(planned)} runs, same data and seed")
        self.hint.setVisible(False)
        self.progress_row.setVisible(True)
        self.table.setVisible(True)
        self.table.setRowCount(0)
        self.best_note.setText("")
        self.progress.setRange(0, len(planned))
        self.progress.setValue(0)
        self.progress.setFormat("starting run 1 of %m")
        self.sweep_box.setVisible(kind != "remedies")
        self.filler.setVisible(kind == "remedies")
        self._fit_table(len(planned))
        if kind != "remedies":
            self._style_sweep_plot(title)
        self.redraw_sweep()
        self.active = True
        logger.info("experiment %s: %d runs", title, len(planned))
        self.shown.emit()
        requests = [
            RunRequest(config, self.label(key), tag=(id(self), index))
            for index, (key, config) in enumerate(planned)
        ]
        if not self.launcher.train_requests(requests):  # refused by the window
            self.active = False
            return False
        self.cancel_button.setEnabled(True)
        return True

    def _fit_table(self, rows: int) -> None:
        """As tall as the planned rows: the room below goes to the note and the plot."""
        height = self.table.horizontalHeader().sizeHint().height()
        height += rows * self.table.verticalHeader().defaultSectionSize()
        self.table.setFixedHeight(height + 2 * self.table.frameWidth() + 2)

    def label(self, key: Any) -> str:
        """A planned item's name in the legend, the table and the store."""
        if self.kind == "remedies":
            return str(key)
        if self.kind == "learning":
            return f"training fraction {format_value(float(key))}"
        # format_value: hidden units read "128-64", never a Python list.
        return f"{lever_name(self.param or '')} {format_value(key)}"

    def x_label(self) -> str:
        if self.kind == "learning":
            return "training-set size (samples)"
        return lever_name(self.param or "")

    # -- following the runs ------------------------------------------------------------------------
    def _on_run_added(self, run: LiveRun) -> None:
        # The tag says which plan item this is (and that it is this panel's experiment).
        if not self.active or not isinstance(run.tag, tuple) or run.tag[0] != id(self):
            return
        index = run.tag[1]
        self._index_of[run.run_id] = index
        self.progress.setFormat(f"run {index + 1} of {len(self.plan)}")

    def _on_dataset(self, run_id: int, dataset) -> None:
        if run_id in self._index_of:
            self._n_train[run_id] = len(dataset.x_train)

    def _on_run_finished(self, run_id: int, run: LiveRun) -> None:
        index = self._index_of.get(run_id)
        result = run.result
        if index is None or result is None:
            return
        key = self.plan[index][0]
        row = best_row(result, self.label(key), key, self._n_train.get(run_id))
        self.rows.append(row)
        self.progress.setValue(len(self.rows))
        self._add_table_row(row)
        self._mark_best()
        self.redraw_sweep()
        self.row_added.emit(index, row)

    def on_training_ended(self) -> None:
        """The window's run lifecycle ended the sequence (completed, stopped or failed)."""
        if not self.active:
            return
        self.active = False
        self.cancel_button.setEnabled(False)
        done, total = len(self.rows), len(self.plan)
        stopped = done < total or any(r.status == "stopped" for r in self.rows)
        self.progress.setFormat(
            f"cancelled after {done} of {total} runs" if stopped else f"done: {total} runs"
        )

    def _add_table_row(self, row: ResultRow) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        verdict = VERDICT_WORDS.get(row.verdict or "", row.verdict or "–")
        cells = (
            _cell(
                row.label,
                f"{run_label(row.run_id)}, {row.status.replace('_', ' ')}, "
                f"best epoch {row.best_epoch}",
            ),
            _cell(format_loss(row.val_loss)),
            _cell(format_accuracy(row.val_accuracy)),
            _cell(format_loss_change(row.gap)),
            _cell(str(row.epochs_run)),
            _cell(verdict),
        )
        for column, item in enumerate(cells):
            if column:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(r, column, item)

    def _mark_best(self) -> None:
        """Bold the row with the lowest validation loss and name it under the table."""
        losses = [(r.val_loss, i) for i, r in enumerate(self.rows) if r.val_loss is not None]
        if not losses:
            return
        _, best = min(losses)
        for r in range(self.table.rowCount()):
            for c in range(self.table.columnCount()):
                item = self.table.item(r, c)
                font = item.font()
                font.setBold(r == best)
                item.setFont(font)
        row = self.rows[best]
        self.best_note.setText(
            f"Lowest validation loss so far: <b>{html.escape(row.label)}</b> "
            f"({format_loss(row.val_loss)}, accuracy {format_accuracy(row.val_accuracy)}, "
            f"best epoch {row.best_epoch}). "
            "Numbers are at each run's best epoch; gap = validation − training loss."
        )

    # -- the sweep plot ------------------------------------------------------------------------------
    def sweep_points(self) -> tuple[list[float], list[float | None], list[float | None]]:
        """(x, best training metric, best validation metric) of the finished runs."""
        metric = self.metric.currentText()
        xs, train, val = [], [], []
        for position, row in enumerate(self.rows):
            if self.kind == "learning" and row.n_train is not None:
                x = float(row.n_train)
            elif isinstance(row.value, (int, float)):
                x = float(row.value)
            elif isinstance(row.value, (list, tuple)) and row.value:
                x = float(sum(row.value))  # hidden units as a list: total width
            else:
                x = float(position)
            xs.append(x)
            train.append(row.loss if metric == "loss" else row.accuracy)
            val.append(row.val_loss if metric == "loss" else row.val_accuracy)
        return xs, train, val

    def _style_sweep_plot(self, title: str) -> None:
        """Title, axis label and the plots' light or dark colours."""
        theme = self.theme
        plot = self.sweep_plot
        plot.setBackground(theme.background)
        plot.setTitle(title, color=theme.foreground, size="11pt")
        for axis in ("left", "bottom"):
            plot.getAxis(axis).setTextPen(theme.foreground)
            plot.getAxis(axis).setPen(theme.axis)
        plot.setLabel("bottom", self.x_label(), color=theme.foreground)

    def apply_theme(self, theme: PlotTheme) -> None:
        """The plots' light or dark colours, for the next sweep plot styled."""
        self.theme = theme

    def redraw_sweep(self) -> None:
        xs, train, val = self.sweep_points()
        log_x = bool(self.param) and is_log_scale(self.param) and all(x > 0 for x in xs)
        self.sweep_plot.setLogMode(x=log_x, y=False)
        self.sweep_plot.setLabel("left", f"best-epoch {self.metric.currentText()}")
        order = sorted(range(len(xs)), key=xs.__getitem__)

        def series(ys: list[float | None]) -> tuple[list[float], list[float]]:
            keep = [i for i in order if ys[i] is not None and math.isfinite(ys[i])]
            return [xs[i] for i in keep], [ys[i] for i in keep]

        self.train_points.setData(*series(train))
        self.val_points.setData(*series(val))

    def point_count(self) -> int:
        """Validation points on the sweep plot (tests use it)."""
        x = self.val_points.xData
        return 0 if x is None else len(x)
