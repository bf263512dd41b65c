"""Live curves: loss, accuracy and the gap, one curve set per run, overlayable.

``PlotsPanel`` holds three pyqtgraph PlotWidgets.  Each run gets a ``RunCurves``
keyed by run id: its curves are created once and every epoch appends to a growing
numpy buffer and calls ``setData`` on the same items (cheap even with many long runs
on screen).  A run's colour comes from the Okabe-Ito palette (safe for colour-blind
eyes); training is solid, validation dashed.  The best epoch (by the early-stopping
monitor, even when early stopping is off) is a vertical line and a dot on the
monitored curve; an early stop is a second line with a label.

View options apply to every run's curves and never touch the stored numbers:
``set_smoothing`` draws a TensorBoard-style moving average with the raw curve faint
behind it, ``set_log_y`` puts the loss plot on a log scale, ``set_ignore_outliers``
scales the y axes to the 2nd-98th percentiles, ``set_gap_visible`` hides the gap
plot and ``apply_theme`` recolours everything for a light or dark background.
The hover readout lives in hover.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from ...core.results import LOWER_IS_BETTER, EpochMetrics, RunResult
from .hover import HoverReadout
from .theme import LIGHT, PlotTheme

#: Okabe-Ito, without yellow (too faint on white) and black (kept for markers).
PALETTE = LIGHT.palette
MARKER_COLOUR = LIGHT.marker
#: "Ignore outliers": the y axes show this share of the points (2nd-98th percentile).
INLIER_FRACTION = 0.96

#: Buffer columns: epoch, then the metrics, then the two gaps.
COLUMNS = ("epoch", "loss", "val_loss", "accuracy", "val_accuracy", "loss_gap", "accuracy_gap")
_COL = {name: i for i, name in enumerate(COLUMNS)}

#: Which plot each monitored metric lives on.
_PLOT_OF = {"loss": "loss", "val_loss": "loss", "accuracy": "accuracy", "val_accuracy": "accuracy"}


def _pen(colour: str, *, dashed: bool = False, width: float = 2.0) -> pg.QtGui.QPen:
    style = Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine
    return pg.mkPen(colour, width=width, style=style)


def ema_smooth(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's smoothing: an exponential moving average, debiased at the start.

    Like TensorBoard, the average starts at 0 and is divided by ``1 - weight**n``
    (n = finite points so far), so the first points are not dragged towards 0; a
    non-finite point stays as it is and does not enter the average.
    """
    values = np.asarray(values, dtype=float)
    if weight <= 0 or values.size == 0:
        return values.copy()
    from scipy.signal import lfilter  # imported on first use: a second's worth of modules

    out = values.copy()
    finite = np.isfinite(values)
    points = values[finite]
    if points.size:
        # last_n = weight * last_(n-1) + (1 - weight) * x_n, in C rather than a Python loop.
        average = lfilter([1.0 - weight], [1.0, -weight], points)
        out[finite] = average / (1.0 - weight ** np.arange(1, points.size + 1))
    return out


class RunCurves:
    """The curves and markers of one run on the three plots."""

    def __init__(
        self,
        panel: PlotsPanel,
        run_id: int,
        label: str,
        colour_index: int,
        monitor: str,
        *,
        labelled: bool = True,
    ) -> None:
        self.panel = panel
        self.run_id = run_id
        self.label = label
        self.colour_index = colour_index
        self.monitor = monitor
        self.data = np.full((64, len(COLUMNS)), np.nan)
        self.count = 0
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.visible = True
        self._best_value: float | None = None
        plots = panel.plots
        #: (plot, column, legend name, pen style) of each curve, in ``curves`` order.
        self.spec = [
            ("loss", "loss", f"{label} training", Qt.PenStyle.SolidLine),
            ("loss", "val_loss", f"{label} validation", Qt.PenStyle.DashLine),
            ("accuracy", "accuracy", f"{label} training", Qt.PenStyle.SolidLine),
            ("accuracy", "val_accuracy", f"{label} validation", Qt.PenStyle.DashLine),
            ("gap", "loss_gap", f"{label} loss: val − train", Qt.PenStyle.SolidLine),
            ("gap", "accuracy_gap", f"{label} accuracy: train − val", Qt.PenStyle.DotLine),
        ]
        self.curves: list[tuple[pg.PlotDataItem, int]] = []
        #: The raw curves drawn faint behind smoothed ones (empty while smoothing is off).
        self.raw_curves: list[pg.PlotDataItem] = []
        self._homes: list[pg.PlotWidget] = []
        for plot_name, column, _name, style in self.spec:
            raw = plots[plot_name].plot([], [])  # no name: stays out of the legend
            raw.setZValue(-1)
            # One legend entry per run (its solid curve); the titles give the line key.
            legend_name = label if style == Qt.PenStyle.SolidLine else None
            item = plots[plot_name].plot([], [], name=legend_name)
            self.curves.append((item, _COL[column]))
            self.raw_curves.append(raw)
            self._homes.append(plots[plot_name])

        self.best_lines = [pg.InfiniteLine(angle=90) for _ in plots]
        # Overlaid runs often share a best epoch: stagger their labels down the line.
        self.best_lines[0].label = pg.InfLineLabel(
            self.best_lines[0],
            text="best",
            position=0.93 - 0.08 * (colour_index % 5),
            anchors=[(0, 0), (0, 0)],
        )
        self.stop_lines = [pg.InfiniteLine(angle=90) for _ in plots]
        # The stop label goes low on the gap plot, left of its line: gaps open upwards
        # and its legend is top left, so that corner is the one most often empty.
        # Labels hang on their line's attribute, as pyqtgraph's own label= does: a
        # Python reference that outlives the line crashes when the child is freed twice.
        self.stop_lines[2].label = pg.InfLineLabel(
            self.stop_lines[2], text="", position=0.06, anchors=[(1, 1), (1, 1)]
        )
        for line, plot in zip(
            self.best_lines + self.stop_lines, list(plots.values()) * 2, strict=True
        ):
            line.setVisible(False)
            plot.addItem(line, ignoreBounds=True)
        self.best_dot = pg.ScatterPlotItem(size=11)
        self.best_dot.setZValue(10)
        plots[_PLOT_OF[monitor]].addItem(self.best_dot)
        self.restyle()
        self.set_labelled(labelled)

    def set_labelled(self, on: bool) -> None:
        """Show the "best N" / "early stop at N" texts (only the newest live run has them:
        with several runs overlaid their texts would pile up on one another)."""
        self.labelled = on
        self.best_lines[0].label.setVisible(on)
        self.stop_lines[2].label.setVisible(on)

    @property
    def colour(self) -> str:
        palette = self.panel.theme.palette
        return palette[self.colour_index % len(palette)]

    def restyle(self) -> None:
        """Pens and label colours from the panel's theme (a run keeps its palette slot)."""
        theme, colour = self.panel.theme, self.colour
        faint = pg.mkColor(colour)
        faint.setAlpha(theme.faint_alpha)
        for (item, _), raw, (_plot, _col, _name, style) in zip(
            self.curves, self.raw_curves, self.spec, strict=True
        ):
            item.setPen(pg.mkPen(colour, width=2.0, style=style))
            raw.setPen(pg.mkPen(faint, width=1, style=style))  # wider + alpha: slow stroker
        best_pen = pg.mkPen(colour, width=1.5, style=Qt.PenStyle.DashDotLine)
        for line in self.best_lines:
            line.setPen(best_pen)
        self.best_lines[0].label.setColor(colour)
        stop_pen = pg.mkPen(theme.marker, width=2, style=Qt.PenStyle.DashLine)
        for line in self.stop_lines:
            line.setPen(stop_pen)
        self.stop_lines[2].label.setColor(theme.marker)
        self.best_dot.setBrush(pg.mkBrush(colour))
        self.best_dot.setPen(pg.mkPen(theme.marker, width=1.5))

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

    def raw(self) -> np.ndarray:
        """The stored numbers (one row per epoch, ``COLUMNS``); view options never change them."""
        return self.data[: self.count]

    def shown(self, column: int) -> np.ndarray:
        """What the curve of ``column`` draws: the raw values, or smoothed ones."""
        values = self.data[: self.count, column]
        weight = self.panel.smoothing
        return ema_smooth(values, weight) if weight > 0 else values

    def redraw(self) -> None:
        """Set every curve's data from the buffer under the panel's view options."""
        view = self.data[: self.count]
        x = view[:, 0]
        smoothing = self.panel.smoothing > 0
        for (item, column), raw in zip(self.curves, self.raw_curves, strict=True):
            item.setData(x, self.shown(column))
            if smoothing:
                raw.setData(x, view[:, column])
            else:
                raw.setData([], [])
            raw.setVisible(smoothing and self.visible)
        self._place_best()

    def append(self, metrics: EpochMetrics) -> None:
        """One more epoch: append to the buffer and update the same curve items."""
        self._grow(self.count + 1)
        self._write_row(metrics.epoch, metrics.metrics)
        self.redraw()

    def extend(self, history: Mapping[str, Sequence[float | None]]) -> None:
        """A whole stored history at once (one setData per curve)."""
        n = max((len(v) for v in history.values()), default=0)
        self._grow(self.count + n)
        for i in range(n):
            row = {k: (v[i] if i < len(v) else None) for k, v in history.items()}
            self._write_row(self.count + 1, row)
        self.redraw()

    # -- markers ----------------------------------------------------------------------------------
    def _place_best(self) -> None:
        epoch = self.best_epoch
        if epoch is None or not 1 <= epoch <= self.count:
            self.best_dot.setData([], [])
            for line in self.best_lines:
                line.setVisible(False)
            return
        value = self.data[epoch - 1, _COL[self.monitor]]
        # A scatter item has no log mode of its own: on a log plot it needs log10 values.
        if self.panel.log_y and _PLOT_OF[self.monitor] == "loss" and value > 0:
            value = math.log10(value)
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
        for raw in self.raw_curves:
            raw.setVisible(visible and self.panel.smoothing > 0)
        self.best_dot.setVisible(visible)
        has_best = self.best_epoch is not None
        for line in self.best_lines:
            line.setVisible(visible and has_best)
        for line in self.stop_lines:
            line.setVisible(visible and self.stopped_epoch is not None)

    def remove(self) -> None:
        plots = self.panel.plots
        for (item, _), raw, home in zip(self.curves, self.raw_curves, self._homes, strict=True):
            home.removeItem(item)  # PlotItem.removeItem also takes it out of the legend
            home.removeItem(raw)
        for line, plot in zip(
            self.best_lines + self.stop_lines, list(plots.values()) * 2, strict=True
        ):
            plot.removeItem(line)
        plots[_PLOT_OF[self.monitor]].removeItem(self.best_dot)

    def values_at(self, plot_name: str, epoch: int) -> list[tuple[str, str, float, float]]:
        """(legend name, colour, raw value, shown value) of this run's curves on a plot."""
        if not self.visible or self.count == 0:
            return []
        epochs = self.data[: self.count, 0]
        index = int(np.searchsorted(epochs, epoch))
        if index >= self.count or epochs[index] != epoch:
            return []
        rows = []
        for (item, column), (plot, _col, name, _style) in zip(self.curves, self.spec, strict=True):
            if plot == plot_name and item.isVisible():
                raw = float(self.data[index, column])
                shown = float(item.yData[index])  # what is drawn: no smoothing per hover
                rows.append((name, self.colour, raw, shown))
        return rows


class PlotsPanel(QWidget):
    """Loss and accuracy side by side, the gap below; any number of runs overlaid."""

    #: The PlotTheme after a light/dark switch: other panels' plots can follow it.
    theme_changed = Signal(object)

    TITLES = {
        "loss": ("Loss", "loss"),
        "accuracy": ("Accuracy", "accuracy"),
        "gap": ("Gap: val − train loss (solid), train − val accuracy (dotted)", "gap"),
    }
    #: The line key, said once above the plots instead of in every title.
    KEY = "solid: training   ·   dashed: validation   ·   dashed line: best epoch"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme: PlotTheme = LIGHT
        self.smoothing = 0.0
        #: Epochs the x axes show while a run trains (0: autorange), see set_epoch_span.
        self.epoch_span = 0
        self.log_y = False
        self.ignore_outliers = False
        self.plots: dict[str, pg.PlotWidget] = {
            # Losses fall, accuracies rise and gaps open upwards: each legend goes
            # into the corner its curves usually leave empty.
            "loss": self._make_plot("loss"),
            "accuracy": self._make_plot("accuracy"),
            "gap": self._make_plot("gap"),
        }
        self.zero_line = pg.InfiniteLine(pos=0, angle=0)
        self.plots["gap"].addItem(self.zero_line, ignoreBounds=True)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        #: Room for a bar of view controls above the plots (``add_top_widget``).
        self.top_bar = QVBoxLayout()
        self.top_bar.setContentsMargins(0, 0, 0, 0)
        column.addLayout(self.top_bar)
        self.key_label = QLabel(self.KEY)
        self.key_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.key_label.setStyleSheet("font-size: 8pt;")
        self.top_bar.addWidget(self.key_label)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.plots["loss"], 0, 0)
        grid.addWidget(self.plots["accuracy"], 0, 1)
        grid.addWidget(self.plots["gap"], 1, 0, 1, 2)
        grid.setRowStretch(0, 3)  # loss and accuracy are read most: give them the height
        grid.setRowStretch(1, 2)
        column.addLayout(grid, 1)
        self.runs: dict[int, RunCurves] = {}
        self._next_colour = 0
        self.hover = HoverReadout(self)
        self.apply_theme(LIGHT)

    #: Losses fall, accuracies rise and gaps open upwards: each legend goes into the
    #: corner its curves usually leave empty.
    LEGEND_AT = {"loss": (-8, 8), "accuracy": (-8, -8), "gap": (8, 8)}

    def _make_plot(self, name: str) -> pg.PlotWidget:
        """A plot with labelled axes; the legend sits where curves rarely go."""
        plot = pg.PlotWidget()
        plot.setLabel("bottom", "epoch")
        plot.setLabel("left", self.TITLES[name][1])
        plot.showGrid(x=True, y=True, alpha=0.25)
        for axis in ("left", "bottom"):
            plot.getAxis(axis).enableAutoSIPrefix(False)
        # The gap plot spans the full width: two legend columns keep its legend short.
        columns = 2 if name == "gap" else 1
        plot.addLegend(offset=self.LEGEND_AT[name], labelTextSize="8pt", colCount=columns)
        plot.setMenuEnabled(False)
        # Many long runs overlaid: draw about one point per pixel, only what is in view.
        plot.plotItem.setDownsampling(auto=True, mode="peak")
        plot.plotItem.setClipToView(True)
        plot.getViewBox().setDefaultPadding(0.03)  # a stop line at the last epoch stays clear
        return plot

    def add_top_widget(self, widget: QWidget) -> None:
        """Put a bar (the view options) right above the plots."""
        self.top_bar.addWidget(widget)

    # -- view options ----------------------------------------------------------------------------
    def apply_theme(self, theme: PlotTheme) -> None:
        """Colour plots, legends and every run's curves for a light or dark background."""
        self.theme = theme
        for name, plot in self.plots.items():
            plot.setBackground(theme.background)
            plot.setTitle(self.TITLES[name][0], color=theme.foreground, size="11pt")
            for axis in ("left", "bottom"):
                plot.getAxis(axis).setTextPen(theme.foreground)
                plot.getAxis(axis).setPen(theme.axis)
                plot.setLabel(axis, plot.getAxis(axis).labelText, color=theme.foreground)
            self._style_legend(plot.plotItem.legend)
        self.zero_line.setPen(pg.mkPen(theme.zero_line, width=1))
        for curves in self.runs.values():
            curves.restyle()
        self.hover.restyle()
        self.theme_changed.emit(theme)

    def _style_legend(self, legend: pg.LegendItem) -> None:
        theme = self.theme
        legend.setBrush(pg.mkBrush(*theme.legend_brush))
        legend.setPen(pg.mkPen(theme.legend_pen))
        legend.setLabelTextColor(theme.foreground)
        for _sample, label in legend.items:  # setLabelTextColor does not re-render them
            label.setText(label.text, color=theme.foreground)

    def set_smoothing(self, weight: float) -> None:
        """TensorBoard-style smoothing weight in [0, 1): 0 shows the raw curves only."""
        weight = min(max(float(weight), 0.0), 0.999)
        if weight == self.smoothing:
            return
        self.smoothing = weight
        for curves in self.runs.values():
            curves.redraw()
        self.hover.refresh()

    def set_log_y(self, on: bool) -> None:
        """A log-scale y axis on the loss plot (losses span decades when a net memorizes)."""
        self.log_y = bool(on)
        self.plots["loss"].setLogMode(x=False, y=self.log_y)
        for curves in self.runs.values():
            curves.redraw()  # the best dot is placed in log10 units on a log plot
        self.hover.refresh()

    def set_ignore_outliers(self, on: bool) -> None:
        """Scale the y axes to the 2nd-98th percentile of the points, like TensorBoard."""
        self.ignore_outliers = bool(on)
        for plot in self.plots.values():
            view = plot.getViewBox()
            view.enableAutoRange(y=INLIER_FRACTION if on else True)
            view.updateAutoRange()

    def set_gap_visible(self, visible: bool) -> None:
        self.plots["gap"].setVisible(bool(visible))

    def gap_visible(self) -> bool:
        return not self.plots["gap"].isHidden()

    def reset_zoom(self) -> None:
        """Back to automatic ranges on every plot (after zooming or panning)."""
        epochs = [c.data[c.count - 1, 0] for c in self.runs.values() if c.count]
        last = max([*epochs, self.epoch_span, 2])
        for plot in self.plots.values():
            view = plot.getViewBox()
            if epochs or self.epoch_span:  # curves clip to the view: show every epoch first
                view.setXRange(1, last)
            # With an epoch span the x axis stays put (see set_epoch_span).
            view.enableAutoRange(
                x=not self.epoch_span, y=INLIER_FRACTION if self.ignore_outliers else True
            )
            view.updateAutoRange()  # now, not at the next paint: the shortcut feels instant

    def set_epoch_span(self, epochs: int) -> None:
        """Fix the x axis to the epochs a run will train (0 gives x back to autorange).

        A growing x range re-lays out and repaints every plot and its axis text at
        each epoch (about half of the GUI thread's work per epoch, measured by
        benchmarks/bench_responsive.py); a fixed one also shows up front how far the
        run will go.  Stored runs overlaid later widen it when they are longer.
        """
        self.epoch_span = max(int(epochs), 0)
        self._apply_span()

    def _apply_span(self) -> None:
        if not self.epoch_span:
            return
        longest = max((c.count for c in self.runs.values()), default=0)
        last = max(self.epoch_span, longest, 2)
        for plot in self.plots.values():
            view = plot.getViewBox()
            view.enableAutoRange(x=False)
            view.setXRange(0, last + 1, padding=0)  # a margin of one epoch each side

    # -- runs ------------------------------------------------------------------------------------
    def begin_run(
        self, run_id: int, label: str, monitor: str = "val_loss", *, live: bool = True
    ) -> RunCurves:
        """Create the curve set of a run (replacing one with the same id).

        A ``live`` run (the one training now) gets the marker texts; stored runs
        overlaid beside it show their lines and dots only, so texts never pile up.
        """
        if run_id in self.runs:
            self.remove_run(run_id)
        if live:
            for other in self.runs.values():
                other.set_labelled(False)
        curves = RunCurves(self, run_id, label, self._next_colour, monitor, labelled=live)
        self._next_colour += 1
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
        """Overlay a stored run's whole history (the Runs tab uses this)."""
        curves = self.begin_run(run_id, label, monitor, live=False)
        curves.extend(history)
        self._apply_span()
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
        self.epoch_span = 0  # the next run sets its own
        self.hover.hide()

    def point_count(self, run_id: int) -> int:
        """How many epochs a run's curves hold (tests and the status bar use it)."""
        curves = self.runs.get(run_id)
        if curves is None:
            return 0
        x = curves.curves[0][0].xData
        return 0 if x is None else len(x)

    # -- views of the live-run model (qt/runtime/live_runs.py) -------------------------------------------
    def style_run(self, run_id: int, colour_index: int, *, faint: bool = False) -> None:
        """Give a run its own palette slot; a previous run beside the new one is faint."""
        curves = self.runs.get(run_id)
        if curves is None:
            return
        curves.colour_index = colour_index
        curves.restyle()  # opacity, not pens: a theme switch restyles pens and keeps it
        items = [i for i, _ in curves.curves] + curves.raw_curves + [curves.best_dot]
        for item in items + curves.best_lines + curves.stop_lines:
            item.setOpacity(0.3 if faint else 1.0)

    def show_onset(self, epoch: int | None) -> None:
        """The onset of overfitting on the loss plot (None hides it)."""
        if not hasattr(self, "onset_line"):
            colour = "#d1495b"
            self.onset_line = pg.InfiniteLine(
                angle=90, pen=pg.mkPen(colour, width=2, style=Qt.PenStyle.DotLine), label="onset",
                labelOpts={"position": 0.08, "color": colour, "anchors": [(0, 1), (0, 1)]},
            )  # fmt: skip
            self.plots["loss"].addItem(self.onset_line, ignoreBounds=True)
        if epoch:
            self.onset_line.setValue(epoch)
        self.onset_line.setVisible(bool(epoch))

    def show_countdown(self, text: str, stop_epoch: int | None) -> None:
        """Early stopping's live countdown on the loss plot, and where it would stop."""
        if not hasattr(self, "countdown_line"):
            self.countdown_line = pg.InfiniteLine(
                angle=90, pen=pg.mkPen("#8a8f98", width=1.5, style=Qt.PenStyle.DashDotDotLine),
                label="stops here", labelOpts={"position": 0.5, "color": "#8a8f98"},
            )  # fmt: skip
            # Bottom left of the view, in pixels: losses start high, so it is free early.
            view = self.plots["loss"].getViewBox()
            self.countdown_text = pg.TextItem(color="#8a8f98", anchor=(0, 1))
            self.countdown_text.setParentItem(view)
            view.sigResized.connect(lambda v: self.countdown_text.setPos(4, v.height() - 4))
            self.plots["loss"].addItem(self.countdown_line, ignoreBounds=True)
        self.countdown_text.setText(text)
        self.countdown_text.setPos(4, self.plots["loss"].getViewBox().height() - 4)
        self.countdown_text.setVisible(bool(text))
        if stop_epoch is not None:
            self.countdown_line.setValue(stop_epoch)
        self.countdown_line.setVisible(bool(text) and stop_epoch is not None)
