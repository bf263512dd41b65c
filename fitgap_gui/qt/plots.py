"""Live curves: loss, accuracy and the gap, one curve set per run, overlayable.

``PlotsPanel`` holds three pyqtgraph PlotWidgets.  Each run gets a ``RunCurves``
keyed by run id: its curves are created once.  An epoch only appends to a growing
numpy buffer and marks the run dirty; a ~30 Hz timer (``flush``) hands everything
that arrived since the last paint to ``setData`` at once.  Finished and stored runs
are "frozen": 1-px pens, drawn from one cached image per plot (plot_items.py), so a
live epoch re-strokes only the live run.  The x axis spans the runs shown (and the
epochs a live run will train), growing in steps, so the axes do not re-layout every
epoch.  A run's colour comes from the Okabe-Ito palette (safe for colour-blind
eyes) and stays its own; training is solid, validation dashed.  One key row above
the plots names the runs, so no legend covers a curve; a run can be drawn faint
(``set_run_faint``), as the previous run kept beside a new one.  The best epoch
(by the early-stopping monitor, even when early stopping is off) is a vertical
line and a dot on the monitored curve; an early stop is a second line with a label.
With no run yet, each plot says what will appear in it.

View options apply to every run's curves and never touch the stored numbers:
``set_smoothing`` draws a TensorBoard-style moving average with the raw curve faint
behind it, ``set_log_y`` puts the loss plot on a log scale, ``set_ignore_outliers``
scales the y axes to the 2nd-98th percentiles, ``set_gap_visible`` hides the gap
plot and ``apply_theme`` recolours everything for a light or dark background.
The hover readout lives in hover.py.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from ..core.results import LOWER_IS_BETTER, EpochMetrics, RunResult
from .hover import HoverReadout
from .plot_items import EpochAxis, FrozenLayer, ValueAxis
from .theme import LIGHT, PlotTheme

#: Okabe-Ito, without yellow (too faint on white) and black (kept for markers).
PALETTE = LIGHT.palette
MARKER_COLOUR = LIGHT.marker
#: "Ignore outliers": the y axes show this share of the points (2nd-98th percentile).
INLIER_FRACTION = 0.96
#: Milliseconds between two paints of new epochs: at most ~30 paints a second.
PAINT_INTERVAL_MS = 33
#: Pen widths: hairlines for every run.  A 1-px cosmetic pen avoids Qt's wide-line
#: stroker: with 2 px the live run alone took more than the whole paint budget.
LIVE_WIDTH, FROZEN_WIDTH = 1.0, 1.0
#: Opacity of a faint run (the previous run kept on screen beside a new one).
FAINT_OPACITY = 0.3
#: The x axis of an empty plot, or of a live run with no planned length, spans at
#: least this many epochs.
MIN_SPAN = 10
#: When a live run leaves the y range, the range grows by this share of its span
#: beyond the new point, so the axes and the cached layer change every few epochs.
GROW_MARGIN = 0.25
#: Width in pixels of the y axes: fixed, so new tick labels never re-lay out a plot.
Y_AXIS_WIDTH = 52

#: Buffer columns: epoch, then the metrics, then the two gaps.
COLUMNS = ("epoch", "loss", "val_loss", "accuracy", "val_accuracy", "loss_gap", "accuracy_gap")
_COL = {name: i for i, name in enumerate(COLUMNS)}

#: Which plot each monitored metric lives on.
_PLOT_OF = {"loss": "loss", "val_loss": "loss", "accuracy": "accuracy", "val_accuracy": "accuracy"}


def _reach(count: int) -> int:
    """Where the x axis of a live run that ran past it goes next: ~10 % ahead, rounded
    to a round number, so the axes change every many epochs instead of every epoch."""
    step = max(10 ** int(math.log10(max(count, 1))) // 2, 1)
    return max(MIN_SPAN, math.ceil(count * 1.1 / step) * step)


def _blend(colour: str, background: str, alpha: int) -> str:
    """``colour`` at ``alpha`` over ``background``, as one opaque colour (for text)."""
    front, back, a = QColor(colour), QColor(background), alpha / 255
    mixed = [
        round(f * a + b * (1 - a))
        for f, b in zip(front.getRgb()[:3], back.getRgb()[:3], strict=True)
    ]
    return QColor(*mixed).name()


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
        #: Finished or stored: drawn from the plots' cached layers, thin pens.
        self.frozen = False
        #: Drawn faint (lower alpha): the previous run kept beside a new one.
        self.faint = False
        #: Epochs this run was asked to train (0: unknown); the x axis shows them.
        self.planned = 0
        #: How far the x axis goes for this run while it trains (grows in steps).
        self.reach = 0
        self._best_value: float | None = None
        self._bounds: dict[tuple[str, bool, int], tuple[float, float] | None] = {}
        #: (epoch, value, visible) the best-epoch markers were last placed at.
        self._placed: tuple[int, float, bool] | None = None
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
        for plot_name, column, _name, _style in self.spec:
            raw = plots[plot_name].plot([], [])
            raw.setZValue(-1)
            # No legend in the plots: the key row above them names the runs.
            item = plots[plot_name].plot([], [])
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
        # The stop label goes low on the gap plot, left of its line: gaps open upwards,
        # so that corner is the one most often empty.
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
        stroke = pg.mkColor(colour)
        faint = pg.mkColor(colour)
        faint.setAlpha(theme.faint_alpha)
        width = FROZEN_WIDTH if self.frozen else LIVE_WIDTH
        for (item, _), raw, (_plot, _col, _name, style) in zip(
            self.curves, self.raw_curves, self.spec, strict=True
        ):
            item.setPen(pg.mkPen(stroke, width=width, style=style))
            raw.setPen(pg.mkPen(faint, width=1, style=style))  # wider + alpha: slow stroker
        best_pen = pg.mkPen(stroke, width=1.5, style=Qt.PenStyle.DashDotLine)
        for line in self.best_lines:
            line.setPen(best_pen)
        self.best_lines[0].label.setColor(colour)
        stop_pen = pg.mkPen(theme.marker, width=2, style=Qt.PenStyle.DashLine)
        for line in self.stop_lines:
            line.setPen(stop_pen)
        self.stop_lines[2].label.setColor(theme.marker)
        self.best_dot.setBrush(pg.mkBrush(stroke))
        self.best_dot.setPen(pg.mkPen(theme.marker, width=1.5))
        # Faint is an opacity, not pens: it outlives a theme switch, and the frozen
        # layer paints each item at its opacity.
        opacity = FAINT_OPACITY if self.faint else 1.0
        for item in [*self.items(), self.best_dot, *self.best_lines, *self.stop_lines]:
            item.setOpacity(opacity)
        self.panel._invalidate_layers(self)

    def items(self) -> list[pg.PlotDataItem]:
        """Every curve item of this run (shown and raw), in ``spec`` order."""
        return [item for item, _ in self.curves] + self.raw_curves

    def freeze(self) -> None:
        """Finished: thin pens, drawn from the plots' cached layers from now on."""
        if self.frozen:
            return
        self.frozen = True
        self.restyle()
        for item, home in zip(self.items(), self._homes * 2, strict=True):
            self.panel.layer_of(home).freeze(item)
        for line, layer in zip(
            self.best_lines + self.stop_lines, list(self.panel.layers.values()) * 2, strict=True
        ):
            layer.freeze(line)
        self.panel.layers[_PLOT_OF[self.monitor]].freeze(self.best_dot)

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

    def bounds(self, plot_name: str, log: bool = False) -> tuple[float, float] | None:
        """The lowest and highest value of this run's curves on a plot (log10 values on
        a log plot), or None with nothing finite.  Smoothed values lie between them."""
        key = (plot_name, log, self.count)
        if key not in self._bounds:
            columns = [_COL[col] for plot, col, _n, _s in self.spec if plot == plot_name]
            values = self.data[: self.count, columns]
            values = values[np.isfinite(values)]
            if log:
                values = np.log10(values[values > 0])
            found = (float(values.min()), float(values.max())) if values.size else None
            if any(k[2] != self.count for k in self._bounds):
                self._bounds = {k: v for k, v in self._bounds.items() if k[2] == self.count}
            self._bounds[key] = found
        return self._bounds[key]

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
            elif raw.xData is not None and len(raw.xData):  # once, not at every paint
                raw.setData([], [])
            raw.setVisible(smoothing and self.visible)
        self._place_best()
        self.panel._invalidate_layers(self)

    def append(self, metrics: EpochMetrics) -> None:
        """One more epoch into the buffer; the curves get it at the panel's next flush."""
        self._grow(self.count + 1)
        self._write_row(metrics.epoch, metrics.metrics)
        if self.count > self.reach:
            self.reach = _reach(self.count)

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
            self._placed = None
            self.best_dot.setData([], [])
            for line in self.best_lines:
                line.setVisible(False)
            return
        value = self.data[epoch - 1, _COL[self.monitor]]
        # A scatter item has no log mode of its own: on a log plot it needs log10 values.
        if self.panel.log_y and _PLOT_OF[self.monitor] == "loss" and value > 0:
            value = math.log10(value)
        if self._placed == (epoch, value, self.visible):
            return  # most epochs are not a new best: leave the markers alone
        self._placed = (epoch, value, self.visible)
        self.best_dot.setData([epoch], [value])
        for line in self.best_lines:
            line.setPos(epoch)
            line.setVisible(self.visible)
        self.best_lines[0].label.setFormat(f"best {epoch}")
        self.panel._invalidate_layers(self)

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
            self.panel._invalidate_layers(self)
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
        self.panel._invalidate_layers(self)

    def remove(self) -> None:
        plots = self.panel.plots
        for item, home in zip(self.items(), self._homes * 2, strict=True):
            self.panel.layer_of(home).thaw(item)
            home.removeItem(item)
        for line, plot, layer in zip(
            self.best_lines + self.stop_lines,
            list(plots.values()) * 2,
            list(self.panel.layers.values()) * 2,
            strict=True,
        ):
            layer.thaw(line)
            plot.removeItem(line)
        self.panel.layers[_PLOT_OF[self.monitor]].thaw(self.best_dot)
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


class _LeaveWatcher(QObject):
    """Hides the hover readout when the pointer leaves a plot (no move event says so)."""

    def __init__(self, panel: PlotsPanel) -> None:
        super().__init__(panel)
        self.panel = panel

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Leave:
            self.panel.hover.leave()
        return False


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
    KEY = "solid: training   ·   dashed: validation   ·   dash-dot line: best epoch"
    #: What each empty plot says will appear in it.
    EMPTY = {
        "loss": "Press Train (Ctrl+R): training and validation loss will appear here, "
        "epoch by epoch",
        "accuracy": "Training and validation accuracy will appear here, epoch by epoch",
        "gap": "The gap between validation and training will appear here: "
        "when it opens up, the network is memorizing the training data",
    }

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme: PlotTheme = LIGHT
        self.smoothing = 0.0
        #: Epochs the next live run will train (0: not said), see set_epoch_span.
        self.epoch_span = 0
        self.log_y = False
        self.ignore_outliers = False
        self.runs: dict[int, RunCurves] = {}
        self._next_colour = 0
        #: Runs with epochs not yet handed to their curves (the paint timer's work).
        self._dirty: set[int] = set()
        #: Plots the user zoomed or panned: their x axis is left alone until reset_zoom.
        self._zoomed: set[str] = set()
        self._x_last = -1
        #: The next flush fits y to the data instead of only growing it.
        self._y_exact = True
        self.plots: dict[str, pg.PlotWidget] = {
            "loss": self._make_plot("loss"),
            "accuracy": self._make_plot("accuracy"),
            "gap": self._make_plot("gap"),
        }
        self.layers = {name: FrozenLayer(plot.plotItem) for name, plot in self.plots.items()}
        self.empty_texts = {name: self._make_empty_text(name) for name in self.plots}
        self.zero_line = pg.InfiniteLine(pos=0, angle=0)
        self.plots["gap"].addItem(self.zero_line, ignoreBounds=True)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        #: Room for a bar of view controls above the plots (``add_top_widget``).
        self.top_bar = QVBoxLayout()
        self.top_bar.setContentsMargins(0, 0, 0, 0)
        column.addLayout(self.top_bar)
        #: The one key of the three plots: the line styles and a swatch per run shown.
        #: It sits above the plots, so it never covers a curve or a "best" label.
        self.key_label = QLabel()
        self.key_label.setWordWrap(True)
        self.key_label.setTextFormat(Qt.TextFormat.RichText)
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.top_bar.addWidget(self.key_label)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.plots["loss"], 0, 0)
        grid.addWidget(self.plots["accuracy"], 0, 1)
        grid.addWidget(self.plots["gap"], 1, 0, 1, 2)
        grid.setRowStretch(0, 3)  # loss and accuracy are read most: give them the height
        grid.setRowStretch(1, 2)
        column.addLayout(grid, 1)
        self._paint_timer = QTimer(self)
        self._paint_timer.setSingleShot(True)
        self._paint_timer.setInterval(PAINT_INTERVAL_MS)
        self._paint_timer.timeout.connect(self.flush)
        self.hover = HoverReadout(self)
        self._leave_watcher = _LeaveWatcher(self)
        for plot in self.plots.values():
            plot.viewport().installEventFilter(self._leave_watcher)
        self.apply_theme(LIGHT)
        self._update_empty_state()

    def _make_plot(self, name: str) -> pg.PlotWidget:
        """A plot with labelled axes, whole-epoch ticks and no legend inside it."""
        plot = pg.PlotWidget(axisItems={"bottom": EpochAxis("bottom"), "left": ValueAxis("left")})
        plot.setLabel("bottom", "epoch")
        plot.setLabel("left", self.TITLES[name][1])
        for axis in ("left", "bottom"):
            plot.getAxis(axis).enableAutoSIPrefix(False)
        plot.getAxis("left").setWidth(Y_AXIS_WIDTH)
        plot.setMenuEnabled(False)
        # Many long runs overlaid: draw about one point per pixel, only what is in view.
        plot.plotItem.setDownsampling(auto=True, mode="peak")
        plot.plotItem.setClipToView(True)
        view = plot.getViewBox()
        view.setDefaultPadding(0.03)  # a stop line at the last epoch stays clear
        # The panel sets both ranges (_apply_span, _fit_y): pyqtgraph's autorange
        # would scan every item's bounds at every paint.
        view.enableAutoRange(x=False, y=False)
        view.sigRangeChangedManually.connect(lambda *_a, name=name: self._zoomed.add(name))
        return plot

    def _make_empty_text(self, name: str) -> pg.TextItem:
        """The line an empty plot shows in its middle."""
        text = pg.TextItem(anchor=(0.5, 0.5))
        view = self.plots[name].getViewBox()
        text.setParentItem(view)  # view-box pixels: centred whatever the axes show
        text.setZValue(20)

        def centre(*_args: object) -> None:
            rect = view.boundingRect()
            text.setTextWidth(max(rect.width() * 0.8, 100))
            text.setPos(QPointF(rect.center()))

        view.sigResized.connect(centre)
        centre()
        return text

    def layer_of(self, plot: pg.PlotWidget) -> FrozenLayer:
        """The cached layer of frozen curves on ``plot``."""
        for name, candidate in self.plots.items():
            if candidate is plot:
                return self.layers[name]
        raise KeyError(plot)

    def _invalidate_layers(self, curves: RunCurves) -> None:
        """A frozen run changed (data, pens, visibility): its layers draw again."""
        if curves.frozen and hasattr(self, "layers"):
            for layer in self.layers.values():
                layer.invalidate()

    def add_top_widget(self, widget: QWidget) -> None:
        """Put a bar (the view options) right above the plots."""
        self.top_bar.addWidget(widget)

    # -- view options ----------------------------------------------------------------------------
    def apply_theme(self, theme: PlotTheme) -> None:
        """Colour plots, the key and every run's curves for a light or dark background."""
        self.theme = theme
        for name, plot in self.plots.items():
            plot.setBackground(theme.background)
            plot.setTitle(self.TITLES[name][0], color=theme.foreground, size="11pt")
            for axis in ("left", "bottom"):
                plot.getAxis(axis).setTextPen(theme.foreground)
                plot.getAxis(axis).setPen(theme.axis)
                plot.setLabel(axis, plot.getAxis(axis).labelText, color=theme.foreground)
            self.layers[name].set_colours(theme.background, theme.axis)
            self.empty_texts[name].setColor(theme.axis)
            self.empty_texts[name].setHtml(
                f'<div style="text-align:center; color:{theme.axis}; font-size:10pt">'
                f"{html.escape(self.EMPTY[name])}</div>"
            )
        self.zero_line.setPen(pg.mkPen(theme.zero_line, width=1))
        for curves in self.runs.values():
            curves.restyle()
        # An explicit colour and background: a label left to the application palette
        # kept the previous theme's text colour after a switch (light text on light).
        self.key_label.setStyleSheet(
            f"QLabel {{ color: {theme.foreground}; background: {theme.background};"
            " font-size: 8pt; padding: 2px 4px; }"
        )
        self._update_key()
        self.hover.restyle()
        self.theme_changed.emit(theme)

    def _update_key(self) -> None:
        """The key row: the line styles, then a swatch and the name of each run shown."""
        theme = self.theme
        parts = [f'<span style="color:{theme.foreground}">{html.escape(self.KEY)}</span>']
        for curves in self.runs.values():
            if not curves.visible:
                continue
            colour, text = curves.colour, theme.foreground
            if curves.faint:
                colour = _blend(colour, theme.background, round(FAINT_OPACITY * 255))
                text = _blend(text, theme.background, 150)
            parts.append(
                f'<span style="color:{colour}"><b>━━</b></span>&nbsp;'
                f'<span style="color:{text}">{html.escape(curves.label).replace(" ", "&nbsp;")}'
                "</span>"
            )
        self.key_label.setText("&nbsp;&nbsp;&nbsp; ".join(parts))

    def set_smoothing(self, weight: float) -> None:
        """TensorBoard-style smoothing weight in [0, 1): 0 shows the raw curves only."""
        weight = min(max(float(weight), 0.0), 0.999)
        if weight == self.smoothing:
            return
        self.smoothing = weight
        self._redraw_all()

    def set_log_y(self, on: bool) -> None:
        """A log-scale y axis on the loss plot (losses span decades when a net memorizes)."""
        self.log_y = bool(on)
        self.plots["loss"].setLogMode(x=False, y=self.log_y)
        self.layers["loss"].invalidate()  # its grid follows the log ticks
        self._redraw_all()  # the best dot is placed in log10 units on a log plot

    def _redraw_all(self) -> None:
        self._dirty.clear()
        for curves in self.runs.values():
            curves.redraw()
        self._fit_y(exact=True)
        self.hover.refresh()

    def set_ignore_outliers(self, on: bool) -> None:
        """Scale the y axes to the 2nd-98th percentile of the points, like TensorBoard."""
        self.ignore_outliers = bool(on)
        for plot in self.plots.values():
            view = plot.getViewBox()
            # Percentiles need every point: pyqtgraph's autorange does that (slower).
            view.enableAutoRange(y=INLIER_FRACTION if on else False)
            view.updateAutoRange()
        self._fit_y(exact=True)

    def set_gap_visible(self, visible: bool) -> None:
        self.plots["gap"].setVisible(bool(visible))

    def gap_visible(self) -> bool:
        return not self.plots["gap"].isHidden()

    def reset_zoom(self) -> None:
        """Back to the runs' x span and automatic y ranges (after zooming or panning)."""
        self.flush()
        self._zoomed.clear()
        self._apply_span(force=True)
        if self.ignore_outliers:
            for plot in self.plots.values():
                view = plot.getViewBox()
                view.enableAutoRange(y=INLIER_FRACTION)
                view.updateAutoRange()  # now, not at the next paint
        self._fit_y(exact=True)

    def set_epoch_span(self, epochs: int) -> None:
        """The epochs the live run will train: the x axes show them from its first epoch.

        A growing x range re-lays out and repaints every plot and its axis text at
        each epoch; a fixed one also shows up front how far the run will go.  The
        span belongs to the live run (the newest one begun, or the next): when that
        run is removed or hidden, the x axes shrink to the runs still shown.
        """
        self.epoch_span = max(int(epochs), 0)
        for curves in self.runs.values():  # a smaller span shrinks what runs planned
            curves.planned = min(curves.planned, self.epoch_span)
        live = self._live_run()
        if live is not None:
            live.planned = self.epoch_span
            live.reach = max(min(live.reach, self.epoch_span), live.count)
        self._apply_span()

    def _live_run(self) -> RunCurves | None:
        """The run training now (the newest one not finished), if any."""
        live = [c for c in self.runs.values() if not c.frozen]
        return live[-1] if live else None

    def x_span(self) -> int:
        """The last epoch the x axes show: the longest run shown, or a live run's plan."""
        shown = [c for c in self.runs.values() if c.visible]
        if not shown:
            return max(self.epoch_span, MIN_SPAN)
        last = max(max(c.planned, c.count if c.frozen else c.reach, c.count) for c in shown)
        return max(last, 2)

    def _apply_span(self, *, force: bool = False) -> None:
        last = self.x_span()
        if last == self._x_last and not force:
            return
        self._x_last = last
        for name, plot in self.plots.items():
            if name in self._zoomed and not force:
                continue
            view = plot.getViewBox()
            view.enableAutoRange(x=False)
            view.setXRange(0, last + 1, padding=0)  # a margin of one epoch each side

    def _update_empty_state(self) -> None:
        """With no run, each plot says what will appear in it, over whole-epoch axes."""
        empty = not self.runs
        for name, plot in self.plots.items():
            self.empty_texts[name].setVisible(empty)
            left = plot.getAxis("left")
            if left.style["showValues"] == empty:  # no 0-1 scale that means nothing yet
                left.setStyle(showValues=not empty)
            if empty:
                plot.getViewBox().setYRange(0, 1, padding=0)
        self._update_key()
        self._apply_span()

    # -- runs ------------------------------------------------------------------------------------
    def begin_run(
        self, run_id: int, label: str, monitor: str = "val_loss", *, live: bool = True
    ) -> RunCurves:
        """Create the curve set of a run (replacing one with the same id).

        A ``live`` run (the one training now) gets the marker texts and the x span
        of ``set_epoch_span``; stored runs overlaid beside it show their lines and dots
        only, so texts never pile up, and are frozen (drawn from the cached layers).
        """
        if run_id in self.runs:
            self.remove_run(run_id)
        if live:
            for other in self.runs.values():
                other.set_labelled(False)
        curves = RunCurves(self, run_id, label, self._next_colour, monitor, labelled=live)
        self._next_colour += 1
        self.runs[run_id] = curves
        if live:
            curves.planned = curves.reach = self.epoch_span
        else:
            curves.freeze()
        self._y_exact = True  # the first epochs set y afresh (not grown from the empty 0-1)
        self._update_empty_state()
        return curves

    def add_epoch(self, run_id: int, metrics: EpochMetrics) -> None:
        """Buffer one epoch; the curves show it at the next paint tick (``flush``)."""
        curves = self.runs.get(run_id)
        if curves is not None:
            curves.append(metrics)
            self._dirty.add(run_id)
            if not self._paint_timer.isActive():
                self._paint_timer.start()

    def flush(self) -> None:
        """Hand every epoch buffered since the last paint to the curves, at once.

        The paint timer calls this at most ~30 times a second; the panel's other
        methods call it when they need the curves current.
        """
        self._paint_timer.stop()
        if not self._dirty:
            return
        for run_id in sorted(self._dirty):
            curves = self.runs.get(run_id)
            if curves is not None:
                curves.redraw()
        self._dirty.clear()
        self._apply_span()
        self._fit_y(exact=self._y_exact)
        self.hover.refresh()

    def _fit_y(self, *, exact: bool) -> None:
        """Set the y ranges from the runs shown, at most once per paint.

        ``exact`` fits the data (a run added, removed or hidden, a view option);
        otherwise the range only grows, and then by a margin, so a live run moves
        the axes (their tick text, the frozen layer) every many epochs, not every one.
        """
        if exact:
            self._y_exact = False
        shown = [c for c in self.runs.values() if c.visible and c.count]
        for name, plot in self.plots.items():
            view = plot.getViewBox()
            if name in self._zoomed or view.autoRangeEnabled()[1] or not shown:
                continue  # the user's zoom, or "ignore outliers" (pyqtgraph's autorange)
            log = self.log_y and name == "loss"
            found = [b for c in shown if (b := c.bounds(name, log)) is not None]
            if not found:
                continue
            low, high = min(b[0] for b in found), max(b[1] for b in found)
            pad = (high - low) * 0.03 or max(abs(high) * 0.05, 0.05)
            low, high = low - pad, high + pad
            if not exact:
                (now_low, now_high) = view.viewRange()[1]
                if now_low <= low and high <= now_high:
                    continue
                margin = (max(high, now_high) - min(low, now_low)) * GROW_MARGIN
                low = min(now_low, low - margin) if low < now_low else now_low
                high = max(now_high, high + margin) if high > now_high else now_high
            view.setYRange(low, high, padding=0)

    def finish_run(self, run_id: int, result: RunResult) -> str:
        curves = self.runs.get(run_id)
        if curves is None:
            return ""
        self.flush()
        message = curves.finish(result)
        curves.freeze()
        self._apply_span()
        return message

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
        self._fit_y(exact=True)
        if result is not None:
            curves.finish(result)
        return curves

    def set_run_visible(self, run_id: int, visible: bool) -> None:
        if run_id in self.runs:
            self.runs[run_id].set_visible(visible)
            self._update_key()
            self._apply_span()
            self._fit_y(exact=True)

    def set_run_faint(self, run_id: int, faint: bool) -> None:
        """Draw a run faint (lower alpha), as the previous run kept beside a new one."""
        curves = self.runs.get(run_id)
        if curves is not None and curves.faint != bool(faint):
            curves.faint = bool(faint)
            curves.restyle()
            self._update_key()

    def remove_run(self, run_id: int) -> None:
        curves = self.runs.pop(run_id, None)
        self._dirty.discard(run_id)
        if curves is not None:
            curves.remove()
            self._update_empty_state()
            self._fit_y(exact=True)
            self.hover.refresh()

    def clear(self) -> None:
        for run_id in list(self.runs):
            self.remove_run(run_id)
        self._next_colour = 0
        self.epoch_span = 0  # the next run sets its own
        self.hover.hide()
        self._update_empty_state()

    def point_count(self, run_id: int) -> int:
        """How many epochs a run's curves hold (tests and the status bar use it)."""
        self.flush()
        curves = self.runs.get(run_id)
        if curves is None:
            return 0
        x = curves.curves[0][0].xData
        return 0 if x is None else len(x)

    # -- views of the live-run model (qt/live_runs.py) -------------------------------------------
    def style_run(self, run_id: int, colour_index: int, *, faint: bool = False) -> None:
        """Give a run its own palette slot; a previous run beside the new one is faint."""
        curves = self.runs.get(run_id)
        if curves is None:
            return
        curves.colour_index = colour_index
        curves.faint = bool(faint)
        curves.restyle()
        self._update_key()

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
