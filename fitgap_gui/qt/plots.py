"""Live curves: loss, accuracy and the gap, one curve set per run, overlayable.

``PlotsPanel`` holds three pyqtgraph PlotWidgets.  Each run gets a ``RunCurves``
keyed by run id: its curves are created once and every epoch appends to a growing
numpy buffer and calls ``setData`` on the same items (cheap even with many long runs
on screen).  A run's colour comes from the Okabe-Ito palette (safe for colour-blind
eyes); training is solid, validation dashed.  The best epoch (by the early-stopping
monitor, even when early stopping is off) is a vertical line and a dot on the
monitored curve; an early stop is a second line with a label.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QWidget

from ..core.results import LOWER_IS_BETTER, EpochMetrics, RunResult

#: Okabe-Ito, without yellow (too faint on white) and black (kept for markers).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
MARKER_COLOUR = "#222222"

#: Buffer columns: epoch, then the metrics, then the two gaps.
COLUMNS = ("epoch", "loss", "val_loss", "accuracy", "val_accuracy", "loss_gap", "accuracy_gap")
_COL = {name: i for i, name in enumerate(COLUMNS)}

#: Which plot each monitored metric lives on.
_PLOT_OF = {"loss": "loss", "val_loss": "loss", "accuracy": "accuracy", "val_accuracy": "accuracy"}


def _pen(colour: str, *, dashed: bool = False, width: float = 2.0) -> pg.QtGui.QPen:
    style = Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine
    return pg.mkPen(colour, width=width, style=style)


class RunCurves:
    """The curves and markers of one run on the three plots."""

    def __init__(
        self, panel: PlotsPanel, run_id: int, label: str, colour: str, monitor: str
    ) -> None:
        self.panel = panel
        self.run_id = run_id
        self.label = label
        self.colour = colour
        self.monitor = monitor
        self.data = np.full((64, len(COLUMNS)), np.nan)
        self.count = 0
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.visible = True
        self._best_value: float | None = None
        plots = panel.plots
        spec = [
            ("loss", "loss", f"{label} training", False),
            ("loss", "val_loss", f"{label} validation", True),
            ("accuracy", "accuracy", f"{label} training", False),
            ("accuracy", "val_accuracy", f"{label} validation", True),
            ("gap", "loss_gap", f"{label} loss: val − train", False),
            ("gap", "accuracy_gap", f"{label} accuracy: train − val", True),
        ]
        self.curves: list[tuple[pg.PlotDataItem, int]] = []
        self._homes: list[pg.PlotWidget] = []
        for plot_name, column, name, dashed in spec:
            pen = _pen(colour, dashed=dashed)
            if column == "accuracy_gap":
                pen = pg.mkPen(colour, width=2.0, style=Qt.PenStyle.DotLine)
            item = plots[plot_name].plot([], [], pen=pen, name=name)
            self.curves.append((item, _COL[column]))
            self._homes.append(plots[plot_name])

        marker_pen = pg.mkPen(colour, width=1.5, style=Qt.PenStyle.DashDotLine)
        self.best_lines = [pg.InfiniteLine(angle=90, pen=marker_pen) for _ in plots]
        self.best_lines[0].label = pg.InfLineLabel(
            self.best_lines[0], text="best", position=0.93, color=colour, anchors=[(0, 0), (0, 0)]
        )
        stop_pen = pg.mkPen(MARKER_COLOUR, width=2, style=Qt.PenStyle.DashLine)
        self.stop_lines = [pg.InfiniteLine(angle=90, pen=stop_pen) for _ in plots]
        # The stop label goes low on the gap plot, left of its line: gaps open upwards
        # and its legend is top left, so that corner is the one most often empty.
        # Labels hang on their line's attribute, as pyqtgraph's own label= does: a
        # Python reference that outlives the line crashes when the child is freed twice.
        self.stop_lines[2].label = pg.InfLineLabel(
            self.stop_lines[2],
            text="",
            position=0.06,
            color=MARKER_COLOUR,
            anchors=[(1, 1), (1, 1)],
        )
        for line, plot in zip(
            self.best_lines + self.stop_lines, list(plots.values()) * 2, strict=True
        ):
            line.setVisible(False)
            plot.addItem(line, ignoreBounds=True)
        self.best_dot = pg.ScatterPlotItem(
            size=11, brush=pg.mkBrush(colour), pen=pg.mkPen(MARKER_COLOUR, width=1.5)
        )
        self.best_dot.setZValue(10)
        plots[_PLOT_OF[monitor]].addItem(self.best_dot)

    # -- data ---------------------------------------------------------------------------------
    def _grow(self, needed: int) -> None:
        if needed > len(self.data):
            bigger = np.full((max(needed, 2 * len(self.data)), len(COLUMNS)), np.nan)
            bigger[: self.count] = self.data[: self.count]
            self.data = bigger

    def _write_row(self, epoch: int, metrics: Mapping[str, float | None]) -> None:
        row = self.data[self.count]
        row[0] = epoch
        for name in ("loss", "val_loss", "accuracy", "val_accuracy"):
            value = metrics.get(name)
            row[_COL[name]] = np.nan if value is None else value
        row[_COL["loss_gap"]] = row[_COL["val_loss"]] - row[_COL["loss"]]
        row[_COL["accuracy_gap"]] = row[_COL["accuracy"]] - row[_COL["val_accuracy"]]
        self.count += 1
        value = metrics.get(self.monitor)
        if value is not None and math.isfinite(value) and self._is_better(value):
            self._best_value, self.best_epoch = value, epoch

    def _is_better(self, value: float) -> bool:
        if self._best_value is None:
            return True
        if self.monitor in LOWER_IS_BETTER:
            return value < self._best_value
        return value > self._best_value

    def _redraw(self) -> None:
        view = self.data[: self.count]
        x = view[:, 0]
        for item, column in self.curves:
            item.setData(x, view[:, column])
        self._place_best()

    def append(self, metrics: EpochMetrics) -> None:
        """One more epoch: append to the buffer and update the same curve items."""
        self._grow(self.count + 1)
        self._write_row(metrics.epoch, metrics.metrics)
        self._redraw()

    def extend(self, history: Mapping[str, Sequence[float | None]]) -> None:
        """A whole stored history at once (one setData per curve)."""
        n = max((len(v) for v in history.values()), default=0)
        self._grow(self.count + n)
        for i in range(n):
            row = {k: (v[i] if i < len(v) else None) for k, v in history.items()}
            self._write_row(self.count + 1, row)
        self._redraw()

    # -- markers ----------------------------------------------------------------------------------
    def _place_best(self) -> None:
        epoch = self.best_epoch
        if epoch is None or not 1 <= epoch <= self.count:
            self.best_dot.setData([], [])
            for line in self.best_lines:
                line.setVisible(False)
            return
        value = self.data[epoch - 1, _COL[self.monitor]]
        self.best_dot.setData([epoch], [value])
        for line in self.best_lines:
            line.setPos(epoch)
            line.setVisible(self.visible)
        self.best_lines[0].label.setFormat(f"best {epoch}")

    def finish(self, result: RunResult) -> str:
        """Final markers from the engine's own result; returns a line for the status bar."""
        if result.best_epoch is not None:
            self.best_epoch = result.best_epoch
        self._place_best()
        self.stopped_epoch = result.stopped_epoch
        if result.stopped_epoch is not None:
            for line in self.stop_lines:
                line.setPos(result.stopped_epoch)
                line.setVisible(self.visible)
            restored = (
                f", weights of epoch {result.best_epoch} restored"
                if result.restored_best and result.best_epoch is not None
                else ", last epoch's weights kept"
            )
            self.stop_lines[2].label.setFormat(f"early stop at {result.stopped_epoch}")
            return (
                f"Early stopping ended the run at epoch {result.stopped_epoch}{restored} "
                f"(best {self.monitor} at epoch {result.best_epoch})."
            )
        if result.best_epoch is not None:
            return f"Best {self.monitor} at epoch {result.best_epoch} of {result.epochs_run}."
        return ""

    # -- visibility ----------------------------------------------------------------------------------
    def set_visible(self, visible: bool) -> None:
        self.visible = visible
        for item, _ in self.curves:
            item.setVisible(visible)
        self.best_dot.setVisible(visible)
        has_best = self.best_epoch is not None
        for line in self.best_lines:
            line.setVisible(visible and has_best)
        for line in self.stop_lines:
            line.setVisible(visible and self.stopped_epoch is not None)

    def remove(self) -> None:
        plots = self.panel.plots
        for (item, _), home in zip(self.curves, self._homes, strict=True):
            home.removeItem(item)  # PlotItem.removeItem also takes it out of the legend
        for line, plot in zip(
            self.best_lines + self.stop_lines, list(plots.values()) * 2, strict=True
        ):
            plot.removeItem(line)
        plots[_PLOT_OF[self.monitor]].removeItem(self.best_dot)


class PlotsPanel(QWidget):
    """Loss and accuracy side by side, the gap below; any number of runs overlaid."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plots: dict[str, pg.PlotWidget] = {
            # Losses fall, accuracies rise and gaps open upwards: each legend goes
            # into the corner its curves usually leave empty.
            "loss": self._make_plot("Loss", "loss", (-8, 8)),
            "accuracy": self._make_plot("Accuracy", "accuracy", (-8, -8)),
            "gap": self._make_plot("Gap (validation vs training)", "gap", (8, 8)),
        }
        self.plots["gap"].addItem(
            pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen("#888888", width=1)), ignoreBounds=True
        )
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.plots["loss"], 0, 0)
        grid.addWidget(self.plots["accuracy"], 0, 1)
        grid.addWidget(self.plots["gap"], 1, 0, 1, 2)
        self.runs: dict[int, RunCurves] = {}
        self._next_colour = 0

    @staticmethod
    def _make_plot(title: str, y_label: str, legend_at: tuple[int, int]) -> pg.PlotWidget:
        """A white plot with labelled axes; the legend sits where curves rarely go."""
        plot = pg.PlotWidget(background="w")
        plot.setTitle(title, color="#222222", size="11pt")
        plot.setLabel("bottom", "epoch")
        plot.setLabel("left", y_label)
        plot.showGrid(x=True, y=True, alpha=0.25)
        for axis in ("left", "bottom"):
            plot.getAxis(axis).setTextPen("#222222")
            plot.getAxis(axis).setPen("#555555")
            plot.getAxis(axis).enableAutoSIPrefix(False)
        legend = plot.addLegend(offset=legend_at, labelTextColor="#222222")
        legend.setBrush(pg.mkBrush(255, 255, 255, 210))
        legend.setPen(pg.mkPen("#bbbbbb"))
        plot.setMenuEnabled(False)
        # Many long runs overlaid: draw about one point per pixel, only what is in view.
        plot.plotItem.setDownsampling(auto=True, mode="peak")
        plot.plotItem.setClipToView(True)
        plot.getViewBox().setDefaultPadding(0.03)  # a stop line at the last epoch stays clear
        return plot

    # -- runs ------------------------------------------------------------------------------------
    def begin_run(self, run_id: int, label: str, monitor: str = "val_loss") -> RunCurves:
        """Create the curve set of a run (replacing one with the same id)."""
        if run_id in self.runs:
            self.remove_run(run_id)
        colour = PALETTE[self._next_colour % len(PALETTE)]
        self._next_colour += 1
        curves = RunCurves(self, run_id, label, colour, monitor)
        self.runs[run_id] = curves
        return curves

    def add_epoch(self, run_id: int, metrics: EpochMetrics) -> None:
        curves = self.runs.get(run_id)
        if curves is not None:
            curves.append(metrics)

    def finish_run(self, run_id: int, result: RunResult) -> str:
        curves = self.runs.get(run_id)
        return curves.finish(result) if curves is not None else ""

    def show_history(
        self,
        run_id: int,
        label: str,
        history: Mapping[str, Sequence[float | None]],
        result: RunResult | None = None,
        monitor: str = "val_loss",
    ) -> RunCurves:
        """Overlay a stored run's whole history (issue 3's runs list uses this)."""
        curves = self.begin_run(run_id, label, monitor)
        curves.extend(history)
        if result is not None:
            curves.finish(result)
        return curves

    def set_run_visible(self, run_id: int, visible: bool) -> None:
        if run_id in self.runs:
            self.runs[run_id].set_visible(visible)

    def remove_run(self, run_id: int) -> None:
        curves = self.runs.pop(run_id, None)
        if curves is not None:
            curves.remove()

    def clear(self) -> None:
        for run_id in list(self.runs):
            self.remove_run(run_id)
        self._next_colour = 0

    def point_count(self, run_id: int) -> int:
        """How many epochs a run's curves hold (tests and the status bar use it)."""
        curves = self.runs.get(run_id)
        if curves is None:
            return 0
        x = curves.curves[0][0].xData
        return 0 if x is None else len(x)
