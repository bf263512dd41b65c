"""The Experiments side tab: compare remedies, validation curves and learning curves.

An experiment is a plan from ``core.experiments`` (``remedy_configs``, ``sweep_configs``,
``learning_curve_configs``): ``(key, RunConfig)`` pairs the window trains
(``RunLauncher.train_requests``), overlaid with one legend name per run.  Each run is
requested with its label (its stored name) and its plan index as tag, and the live-run
model hands both back with the run, so nothing is matched by start order.  As each run ends its
``ResultRow`` goes into the table and, for a sweep, two points (best training and
validation metric) onto the sweep plot under the table.  Stop (Esc) cancels the
rest of the sequence; every run that started is in the store under its label.

Every experiment trains each plan item ("arm") over several seeds (the Repeats box,
remembered between sessions; seeds s, s+1, ...).  The table has one row per arm: the
mean and 95 % interval of the delivered models' test cross-entropy and accuracy, the
delivered epoch and the gap there, the arm paired seed by seed with the baseline on
the test cross-entropy (``core.experiments.summarize``, statistics from
``core.results.stats``), and the best-epoch validation cross-entropy, "chosen on
validation", as a last column (from the header's menu).  Runs without a test part are
judged at their best epoch, and the headers say so; the verdicts in words go under the
table.  When an arm's seeds are done, ``arm_done`` draws it as a mean curve with a band.

Run → Compare remedies (Ctrl+Shift+R) and Run → Sweep… (``sweep_dialog.py``) start them;
Train with Repeats above 1 starts one arm over its seeds (``train_repeats``).  Runs may
train in parallel (Edit → Preferences): the bar counts finished runs, and a line under
it names each run under way and its epoch.
"""

from __future__ import annotations

import html
import logging
import math
from typing import Any, Protocol

import pyqtgraph as pg
from PySide6.QtCore import QPoint, QSettings, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.experiments.plans import (
    DEFAULT_REPEATS,
    Planned,
    is_log_scale,
    learning_curve_configs,
    remedies,
    remedy_configs,
    sweep_configs,
    with_repeats,
)
from fitgap_gui.core.experiments.tables import (
    TEST_METRIC,
    ArmSummary,
    ResultRow,
    best_row,
    summarize,
)
from fitgap_gui.core.formatting import (
    format_accuracy,
    format_loss,
    format_loss_change,
    format_value,
    run_label,
)
from fitgap_gui.core.results.stats import Interval
from fitgap_gui.core.run.live import LiveRun, RunRequest
from fitgap_gui.qt.panels.config_access import ConfigSource
from fitgap_gui.qt.panels.experiments_columns import (
    COLUMNS,
    EMPTY_TEXT,
    FALLBACK_COLUMNS,
    FALLBACK_TIPS,
    OPTIONAL_COLUMNS,
    TIPS,
    VERDICT_TEXT,
)
from fitgap_gui.qt.plots.theme import LIGHT, PlotTheme
from fitgap_gui.qt.runtime.live_runs import LiveRuns

logger = logging.getLogger(__name__)


class RunLauncher(Protocol):
    """What the panel needs of the window's run lifecycle."""

    def refusal(self) -> str | None:
        """Why no run can start now (engine loading, a run in progress), or None."""

    def train_requests(self, requests: list[RunRequest]) -> bool:
        """Start the runs one after another; False when refused."""

    def stop(self) -> None: ...


#: QSettings key of the Repeats box.
REPEATS_KEY = "experiments/repeats"
MAX_REPEATS = 20
VERDICT_WORDS = {"good_fit": "good fit"}
TRAIN_COLOUR, VAL_COLOUR, TEST_COLOUR = "#0072b2", "#d55e00", "#009e73"


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


def _first(value: float | None, fallback: float | None) -> float | None:
    return fallback if value is None else value


def interval_text(interval: Interval, fmt: Any) -> str:
    """``0.5123 ± 0.0210``: the mean and half the 95 % interval (the mean alone for one seed)."""
    if interval.mean is None:
        return "–"
    if interval.low is None or interval.high is None:
        return fmt(interval.mean)
    if not math.isclose(interval.mean - interval.low, interval.high - interval.mean, abs_tol=1e-12):
        # Clipped at a bound (an accuracy near 100 %): the interval itself, not ± half.
        return f"{fmt(interval.mean)}\n{fmt(interval.low)}–{fmt(interval.high)}"
    half = fmt((interval.high - interval.low) / 2).lstrip("+")
    # Two lines: the side panel keeps its width with six columns, no sideways scroll.
    return f"{fmt(interval.mean)}\n± {half}"


def _run_line(row: ResultRow) -> str:
    """One run of an arm in its tooltip: seed, status, delivered model, best epoch."""
    delivered = f"delivers epoch {row.delivered_epoch}"
    if row.test_n is not None:
        delivered += (
            f" (test cross-entropy {format_loss(row.test_cross_entropy)}, accuracy "
            f"{format_accuracy(row.test_accuracy)} on {row.test_n} rows)"
        )
    else:
        delivered += " (no test part)"
    return (
        f"{run_label(row.run_id)}, seed {row.seed}: {row.status.replace('_', ' ')}, "
        f"{delivered}, best epoch {row.best_epoch}"
        + (" (weights restored)" if row.restored_best else "")
        + f", {VERDICT_WORDS.get(row.verdict or '', row.verdict or 'no diagnosis')}"
    )


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
    #: Every seed of an arm finished: (arm label, its run ids), for the plots' band.
    arm_done = Signal(str, list)
    #: A new experiment starts: the last one's bands go.
    bands_cleared = Signal()

    def __init__(
        self,
        live_runs: LiveRuns,
        controls: ConfigSource,
        launcher: RunLauncher,
        settings: QSettings | None = None,
    ) -> None:
        super().__init__()
        #: Where the Repeats box is remembered (the window passes FitGap's settings).
        self.settings = settings if settings is not None else QSettings()
        self.live_runs = live_runs
        #: The controls, only as far as this panel uses them (qt/panels/config_access.py).
        self.controls = controls
        self.launcher = launcher
        self.theme: PlotTheme = LIGHT
        self.kind = ""  # "remedies", "sweep", "learning" or "repeats" (Train over seeds)
        self.param: str | None = None
        self.plan: list[Planned] = []
        self.rows: list[ResultRow] = []
        #: Seeds per arm of the running experiment, and every (arm, seed) it trains.
        self.repeats = 1
        self.runs_plan: list[Planned] = []
        self.arm_rows: dict[int, list[ResultRow]] = {}
        self.summaries: list[ArmSummary] = []
        #: Why a remedy has no arm (its ladder ends at the baseline's value).
        self.notes: list[str] = []
        self.active = False
        self._index_of: dict[int, int] = {}  # run_id -> planned index
        self._n_train: dict[int, int] = {}  # run_id -> training samples
        self._build()
        live_runs.run_added.connect(self._on_run_added)
        live_runs.dataset_ready.connect(self._on_dataset)
        live_runs.run_finished.connect(self._on_run_finished)
        live_runs.epoch_appended.connect(self._on_epoch)

    def _build(self) -> None:
        self.title = QLabel("<b>No experiment yet</b>")
        self.title.setWordWrap(True)
        self.repeats_box = QSpinBox()
        self.repeats_box.setRange(1, MAX_REPEATS)
        self.repeats_box.setValue(self._saved_repeats())
        self.repeats_box.setSuffix(" seeds")
        self.repeats_box.setToolTip(
            "Train every arm of an experiment this many times, with seeds s, s+1, … "
            "(the seed also draws the split). Arms are compared with the baseline seed by "
            "seed; one seed cannot tell a remedy from noise."
        )
        self.repeats_box.valueChanged.connect(self._save_repeats)
        repeats_row = QHBoxLayout()
        repeats_label = QLabel("Repeats per arm:")
        repeats_label.setToolTip(self.repeats_box.toolTip())
        repeats_row.addWidget(repeats_label)
        repeats_row.addWidget(self.repeats_box)
        repeats_row.addStretch(1)
        self.hint = QLabel(EMPTY_TEXT)
        self.hint.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setFormat("%v of %m runs finished")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip(
            "Stop every run under way and skip the rest; their epochs are kept (Esc)"
        )
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
        #: The runs under way and each one's epoch (several when runs train in parallel).
        self.under_way = QLabel("")
        self.under_way.setWordWrap(True)
        self.under_way.setVisible(False)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        for column, tip in enumerate(TIPS):
            self.table.horizontalHeaderItem(column).setToolTip(tip)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.sectionResized.connect(lambda *_: self._fit_rows())  # long arm names wrap
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Seven columns do not fit the side panel: the delivered epoch and the best
        # epoch's validation cross-entropy start hidden (both are in the test
        # cross-entropy's tooltip) and the header's right-click menu shows them.
        self.shown_optional: set[int] = set()
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._columns_menu)
        self._hide_optional(test=True)

        self.metric = QComboBox()
        self.metric.addItems(["loss", "accuracy"])
        self.metric.setToolTip(
            "Plot the best epoch's cross-entropy (training measured at the epoch's end) or "
            "accuracy against the lever, and the delivered model's on the test part "
            "(mean over the seeds)"
        )
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
        self.test_points = self.sweep_plot.plot(
            [], [], name="test", pen=pg.mkPen(TEST_COLOUR, style=Qt.PenStyle.DotLine, **pen),
            symbol="t", symbolBrush=TEST_COLOUR, symbolSize=9,
        )  # fmt: skip
        self.sweep_box = QWidget()
        sweep_column = QVBoxLayout(self.sweep_box)
        sweep_column.setContentsMargins(0, 0, 0, 0)
        metric_row = QHBoxLayout()
        metric_row.addWidget(QLabel("Metric (best epoch; test: delivered model):"))
        metric_row.addWidget(self.metric, 1)
        key = QLabel(
            f"<span style='color:{TRAIN_COLOUR}'>● training</span>&nbsp;&nbsp;"
            f"<span style='color:{VAL_COLOUR}'>■ validation (dashed)</span>&nbsp;&nbsp;"
            f"<span style='color:{TEST_COLOUR}'>▼ test, delivered model (dotted)</span>"
        )
        sweep_column.addLayout(metric_row)
        sweep_column.addWidget(key, 0, Qt.AlignmentFlag.AlignHCenter)
        sweep_column.addWidget(self.sweep_plot, 1)
        self.sweep_box.setVisible(False)

        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.addWidget(self.title)
        column.addLayout(repeats_row)
        column.addWidget(self.hint)
        column.addWidget(self.progress_row)
        column.addWidget(self.under_way)
        column.addWidget(self.table)
        self.table.setVisible(False)
        self.best_note = QLabel("")
        self.best_note.setWordWrap(True)
        column.addWidget(self.best_note)
        # Takes the room below the table when there is no sweep plot to fill it.
        self.filler = QWidget()
        column.addWidget(self.filler, 1)
        column.addWidget(self.sweep_box, 1)

    # -- repeats --------------------------------------------------------------------------------
    def _saved_repeats(self) -> int:
        value = self.settings.value(REPEATS_KEY, DEFAULT_REPEATS)
        try:
            return min(max(int(value), 1), MAX_REPEATS)
        except (TypeError, ValueError):  # a hand-edited settings file
            return DEFAULT_REPEATS

    def _save_repeats(self, value: int) -> None:
        self.settings.setValue(REPEATS_KEY, int(value))
        self.settings.sync()

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
        started = self.start("remedies", remedy_configs(base), "Compare remedies")
        if started:
            self.notes = [f"{reason.capitalize()}." for reason in remedies(base)[1]]
            self.best_note.setText("<br>".join(html.escape(n, quote=False) for n in self.notes))
        return started

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

    def train_repeats(self, config: RunConfig, repeats: int) -> bool:
        """Train's Repeats: one arm, this setup, over seeds s … s+repeats−1."""
        return self.start("repeats", [("this setup", config)], "Train", repeats=repeats)

    def start(
        self,
        kind: str,
        planned: list[Planned],
        title: str,
        param: str | None = None,
        repeats: int | None = None,
    ) -> bool:
        """Train a plan on the worker; False when the window cannot train now.

        ``repeats`` (seeds per arm) defaults to the Repeats box.
        """
        refusal = self.launcher.refusal()
        if refusal is not None:
            self.message.emit(refusal)
            return False
        repeats = self.repeats_box.value() if repeats is None else repeats
        try:
            runs_plan = with_repeats(planned, repeats)
        except FitGapError as exc:  # a seed near 2**31 - 1
            self.error.emit(str(exc))
            return False
        self.kind, self.param, self.plan = kind, param, list(planned)
        self.repeats, self.runs_plan = repeats, runs_plan
        self.rows, self._index_of, self._n_train = [], {}, {}
        self.arm_rows, self.summaries, self.notes = {}, [], []
        self.bands_cleared.emit()
        seeds = (
            f"seeds {planned[0][1].training.seed}–{planned[0][1].training.seed + repeats - 1}"
            if repeats > 1
            else "one seed"
        )
        self.title.setText(
            f"<b>{html.escape(title)}</b> — {len(planned)} arm{'s' if len(planned) != 1 else ''} × {repeats} "
            f"({len(runs_plan)} runs), same data, {seeds}"
        )
        self.hint.setVisible(False)
        self.progress_row.setVisible(True)
        self.table.setVisible(True)
        self.table.setRowCount(0)
        self.best_note.setText("")
        self.progress.setRange(0, len(runs_plan))
        self.progress.setValue(0)
        self.progress.setFormat("0 of %m runs finished")
        self.under_way.setText("")
        self.under_way.setVisible(False)
        sweep = kind in ("sweep", "learning")
        self.sweep_box.setVisible(sweep)
        self.filler.setVisible(not sweep)
        self._fit_table(len(planned))
        if sweep:
            self._style_sweep_plot(title)
        self.redraw_sweep()
        self.active = True
        logger.info("experiment %s: %d runs", title, len(planned))
        self.shown.emit()
        requests = [
            RunRequest(config, self.run_name(key, config), tag=(id(self), index))
            for index, (key, config) in enumerate(runs_plan)
        ]
        if not self.launcher.train_requests(requests):  # refused by the window
            self.active = False
            return False
        self.cancel_button.setEnabled(True)
        return True

    def _fit_table(self, rows: int) -> None:
        """As tall as the planned rows: the room below goes to the note and the plot."""
        lines = 2 if self.repeats > 1 else 1  # a mean, then "± half the interval"
        row_height = self.table.fontMetrics().lineSpacing() * lines + 8
        self.table.verticalHeader().setDefaultSectionSize(row_height)
        height = self.table.horizontalHeader().sizeHint().height()
        height += rows * row_height
        self.table.setFixedHeight(height + 2 * self.table.frameWidth() + 2)

    def label(self, key: Any) -> str:
        """A planned item's name in the legend, the table and the store."""
        if self.kind in ("remedies", "repeats"):
            return str(key)
        if self.kind == "learning":
            return f"training fraction {format_value(float(key))}"
        # format_value: hidden units read "128-64", never a Python list.
        return f"{lever_name(self.param or '')} {format_value(key)}"

    def run_name(self, key: Any, config: RunConfig) -> str:
        """A run's name: its arm, and its seed when the arm has several."""
        if self.repeats > 1:
            return f"{self.label(key)} (seed {config.training.seed})"
        return self.label(key)

    def x_label(self) -> str:
        if self.kind == "learning":
            return "training-set size (samples)"
        return lever_name(self.param or "")

    # -- following the runs ------------------------------------------------------------------------
    def _on_run_added(self, run: LiveRun) -> None:
        # The tag says which plan item this is (and that it is this panel's experiment).
        if not self.active or not isinstance(run.tag, tuple) or run.tag[0] != id(self):
            return
        self._index_of[run.run_id] = run.tag[1]
        self._show_under_way()

    def _on_epoch(self, run_id: int, _metrics: Any) -> None:
        if self.active and run_id in self._index_of:
            self._show_under_way()

    def _show_under_way(self) -> None:
        """The bar: runs finished (and how many train); the line: each run under way."""
        training = [
            run for run in self.live_runs.training() if run.run_id in self._index_of and self.active
        ]
        total = len(self.runs_plan)
        finished = f"{len(self.rows)} of {total} runs finished"
        self.progress.setFormat(finished + (f", {len(training)} training" if training else ""))
        lines = [
            f"{html.escape(run.label)}: training, epoch {run.epochs} of "
            f"{run.config.training.epochs}"
            for run in training
        ]
        self.under_way.setText("<br>".join(lines))
        self.under_way.setVisible(bool(lines))

    def _on_dataset(self, run_id: int, dataset) -> None:
        if run_id in self._index_of:
            self._n_train[run_id] = len(dataset.x_train)

    def _on_run_finished(self, run_id: int, run: LiveRun) -> None:
        index = self._index_of.get(run_id)
        result = run.result
        if index is None or result is None:
            return
        key = self.runs_plan[index][0]
        arm = index // self.repeats
        row = best_row(result, self.label(key), key, self._n_train.get(run_id))
        self.rows.append(row)
        arm_rows = self.arm_rows.setdefault(arm, [])
        arm_rows.append(row)
        # Runs trained in parallel finish out of seed order: an arm lists them by seed.
        arm_rows.sort(key=lambda r: (r.seed is None, r.seed or 0))
        self.progress.setValue(len(self.rows))
        self._show_under_way()
        self._show_summaries()
        self.redraw_sweep()
        self.row_added.emit(index, row)
        if self.repeats > 1 and len(arm_rows) == self.repeats:
            ids = [r.run_id for r in arm_rows if r.run_id is not None]
            self.arm_done.emit(self.label(key), ids)

    def on_training_ended(self) -> None:
        """The window's run lifecycle ended the sequence (completed, stopped or failed)."""
        if not self.active:
            return
        self.active = False
        self.cancel_button.setEnabled(False)
        self.under_way.setVisible(False)
        done, total = len(self.rows), len(self.runs_plan)
        stopped = done < total or any(r.status == "stopped" for r in self.rows)
        self.progress.setFormat(
            f"cancelled after {done} of {total} runs" if stopped else f"done: {total} runs"
        )

    def _show_summaries(self) -> None:
        """One table row per arm reached: means and intervals over its seeds so far."""
        groups = [
            (self.label(self.plan[arm][0]), rows) for arm, rows in sorted(self.arm_rows.items())
        ]
        self.summaries = summarize(groups)
        self._set_headers(not self.summaries or self.summaries[0].metric == TEST_METRIC)
        self.table.setRowCount(len(self.summaries))
        for r, summary in enumerate(self.summaries):
            for column, item in enumerate(self._summary_cells(summary)):
                if column:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(r, column, item)
        self._mark_best()
        self._fit_rows()

    def _fit_rows(self) -> None:
        """Rows as tall as their wrapped text ("+ early stopping (patience 5)": 3 lines)."""
        self.table.resizeRowsToContents()
        heights = sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        height = self.table.horizontalHeader().sizeHint().height() + heights
        self.table.setFixedHeight(
            max(self.table.height(), height + 2 * self.table.frameWidth() + 2)
        )

    def _set_headers(self, test: bool) -> None:
        """The delivered model's columns, or (no test part) the best epoch's, saying so."""
        labels, tips = (COLUMNS, TIPS) if test else (FALLBACK_COLUMNS, FALLBACK_TIPS)
        self.table.setHorizontalHeaderLabels(labels)
        for column, tip in enumerate(tips):
            self.table.horizontalHeaderItem(column).setToolTip(tip)
        self._hide_optional(test)

    def _hide_optional(self, test: bool) -> None:
        for column in OPTIONAL_COLUMNS:
            shown = column in self.shown_optional and (test or column != len(COLUMNS) - 1)
            self.table.setColumnHidden(column, not shown)

    def columns_menu(self) -> QMenu:
        """Show or hide the optional columns (the header's right-click menu)."""
        menu = QMenu(self)
        for column in OPTIONAL_COLUMNS:
            title = self.table.horizontalHeaderItem(column).text().replace("\n", " ")
            action = QAction(title or COLUMNS[column].replace("\n", " "), menu)
            action.setCheckable(True)
            action.setChecked(not self.table.isColumnHidden(column))
            action.toggled.connect(lambda on, c=column: self._show_optional(c, on))
            menu.addAction(action)
        return menu

    def _show_optional(self, column: int, on: bool) -> None:
        (self.shown_optional.add if on else self.shown_optional.discard)(column)
        self.table.setColumnHidden(column, not on)

    def _columns_menu(self, pos: QPoint) -> None:
        menu = self.columns_menu()
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.table.horizontalHeader().mapToGlobal(pos))

    def _summary_cells(self, arm: ArmSummary) -> list[QTableWidgetItem]:
        runs = "\n".join(_run_line(row) for row in arm.rows)
        name = arm.name
        if len(arm.rows) < self.repeats:
            name += f" ({len(arm.rows)} of {self.repeats} seeds)"
        versus, tip = "–", "The baseline: the other arms are compared with it"
        if arm.versus_baseline is not None:
            verdict = arm.versus_baseline.verdict
            versus = VERDICT_TEXT.get(verdict, verdict)
            tip = arm.sentence()
        test = arm.metric == TEST_METRIC
        numbers = (
            [arm.test_cross_entropy, arm.test_accuracy, arm.delivered_gap, arm.delivered_epoch]
            if test
            else [arm.val_cross_entropy, arm.val_accuracy, arm.gap, arm.best_epoch]
        )
        epoch = numbers[3]
        epoch_text = "–" if epoch.mean is None else format_value(round(epoch.mean, 1))
        judged_tip = (
            f"Delivered epoch {epoch_text} (mean over the seeds); the best epoch's "
            f"validation cross-entropy, chosen on validation: "
            f"{interval_text(arm.val_cross_entropy, format_loss).replace(chr(10), ' ')}"
            if test
            else f"Best epoch {epoch_text} (mean over the seeds)"
        )
        return [
            _cell(name, f"{arm.name}\n{runs}"),
            _cell(interval_text(numbers[0], format_loss), judged_tip),
            _cell(interval_text(numbers[1], format_accuracy)),
            _cell(interval_text(numbers[2], format_loss_change)),
            _cell(epoch_text),
            _cell(versus, tip),
            _cell(interval_text(arm.val_cross_entropy, format_loss) if test else ""),
        ]

    def _mark_best(self) -> None:
        """Bold the arm with the lowest mean judged cross-entropy (the delivered models'
        test cross-entropy; without a test part, the best validation cross-entropy);
        the paired verdicts in words under the table."""
        means = [
            (a.judged.mean, i) for i, a in enumerate(self.summaries) if a.judged.mean is not None
        ]
        notes = [html.escape(note, quote=False) for note in self.notes]
        if not means:
            self.best_note.setText("<br>".join(notes))
            return
        _, best = min(means)
        for r in range(self.table.rowCount()):
            for c in range(self.table.columnCount()):
                item = self.table.item(r, c)
                font = item.font()
                font.setBold(r == best)
                item.setFont(font)
        arm = self.summaries[best]
        test = arm.metric == TEST_METRIC
        seeds = f"mean of {len(arm.rows)} seeds, " if len(arm.rows) > 1 else ""
        what = (
            "test cross-entropy of the delivered model"
            if test
            else ("best validation cross-entropy (no test part)")
        )
        verdict = arm.versus_baseline.verdict if arm.versus_baseline is not None else None
        lines = [
            f"Lowest mean {what}: <b>{html.escape(arm.name, quote=False)}</b> "
            f"({seeds}{format_loss(arm.judged.mean)}, accuracy "
            f"{format_accuracy(arm.judged_accuracy.mean)})"
            # A lowest mean that seed noise could explain is no winner: say so.
            + {
                "indistinguishable": ", within seed noise of the baseline.",
                "too_few_seeds": ", too few seeds to tell it from the baseline.",
            }.get(verdict or "", ".")
        ]
        sentences = [a.sentence() for a in self.summaries if a.sentence()]
        if sentences:
            lines.append(
                "Versus the baseline, seed by seed (95 % interval):<br>"
                + "<br>".join(f"• {html.escape(t, quote=False)}" for t in sentences)
            )
        if test:
            lines.append(
                "Each run's delivered model (the restored best epoch's when early stopping "
                "restored it, else the last epoch's) is judged once on the test part, which "
                "nothing in the run decided with: validation chooses, test judges. The best "
                "epoch's validation cross-entropy, chosen on the same rows it is read from, "
                "and the delivered epoch are in the test cross-entropy's tooltip and in "
                "columns the header's right-click menu shows. Gap = validation − training "
                "cross-entropy at the delivered epoch, both measured at the epoch's end."
            )
        else:
            lines.append(
                "No test part (the data brings its own validation rows only): numbers are at "
                "each run's best epoch (lowest validation cross-entropy, no weight penalty), "
                "chosen and read on the same rows; gap = validation − training "
                "cross-entropy, both measured at the epoch's end."
            )
        self.best_note.setText("<br>".join(lines + notes))

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
            # The inference-mode training numbers (an old run: Keras's) and the cross-entropy.
            if metric == "loss":
                train.append(_first(row.train_eval_cross_entropy, row.loss))
                val.append(_first(row.val_cross_entropy, row.val_loss))
            else:
                train.append(_first(row.train_eval_accuracy, row.accuracy))
                val.append(row.val_accuracy)
        return xs, train, val

    def test_values(self) -> list[float | None]:
        """The delivered models' test metric per finished run (None: no test part)."""
        loss = self.metric.currentText() == "loss"
        return [row.test_cross_entropy if loss else row.test_accuracy for row in self.rows]

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
        metric = self.metric.currentText()
        words = "cross-entropy" if metric == "loss" else "accuracy"
        seeds = f", mean of {self.repeats} seeds" if self.repeats > 1 else ""
        self.sweep_plot.setLabel("left", f"{words}{seeds}")

        def series(ys: list[float | None]) -> tuple[list[float], list[float]]:
            """One point per value: the mean over its seeds."""
            by_x: dict[float, list[float]] = {}
            for x, y in zip(xs, ys, strict=True):
                if y is not None and math.isfinite(y):
                    by_x.setdefault(x, []).append(y)
            keys = sorted(by_x)
            return keys, [sum(by_x[x]) / len(by_x[x]) for x in keys]

        self.train_points.setData(*series(train))
        self.val_points.setData(*series(val))
        self.test_points.setData(*series(self.test_values()))

    def point_count(self) -> int:
        """Validation points on the sweep plot (tests use it)."""
        x = self.val_points.xData
        return 0 if x is None else len(x)
