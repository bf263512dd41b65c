"""Live curves: loss, accuracy, the gap and the learning rate, one curve set per run.

``PlotsPanel`` holds four pyqtgraph PlotWidgets (the learning rate's on a log scale, its
x range tied to the loss plot's). Each run gets a ``RunCurves`` keyed by run id: its
curves are created once. An epoch only appends to a growing numpy buffer and marks the
run dirty; a ~30 Hz timer (``_paint_step``) hands everything that arrived since the last
paint to the curves, one plot per step, so each plot repaints in an event of its own.
A live run draws with ``LiveCurve``s, which repaint only their
new segment; a stored run with downsampled ``PlotDataItem``s. Finished and stored runs
are "frozen": 1-px pens, drawn from one cached image per plot (plot_items.py), so a live
epoch re-strokes only the live run. The x axis spans the runs shown (and the epochs a
live run will train), growing in steps, so the axes do not re-layout every epoch. A
run's colour comes from the Okabe-Ito palette (safe for colour-blind eyes) and stays its
own; training is solid, validation dashed. One key row above the plots names the runs,
so no legend covers a curve; a run can be drawn faint (``set_run_faint``), as the
previous run kept beside a new one. The best epoch (by the early-stopping monitor, even
when early stopping is off) is a vertical line and a dot on the monitored curve; an
early stop is a second line with a label; each drop of the learning rate is a triangle
on the validation loss (lr.py). With no run yet, each plot says what will appear in it.

View options apply to every run's curves and never touch the stored numbers:
``set_smoothing`` draws a TensorBoard-style moving average with the raw curve faint
behind it (never for the learning rate), ``set_log_y`` puts the loss plot on a log
scale, ``set_ignore_outliers`` scales the y axes to the 2nd-98th percentiles,
``set_gap_visible`` and ``set_lr_visible`` hide the gap and the learning-rate plots and
``apply_theme`` recolours everything for a light or dark background.
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

from fitgap_gui.core.config.monitor import is_better
from fitgap_gui.core.results.records import EpochMetrics, RunResult, monitored
from fitgap_gui.qt.plots.bands import ArmBand
from fitgap_gui.qt.plots.hover import HoverReadout
from fitgap_gui.qt.plots.lr import drop_text, rate_drops
from fitgap_gui.qt.plots.plot_items import EpochAxis, FrozenLayer, LiveCurve, ValueAxis
from fitgap_gui.qt.plots.theme import LIGHT, PlotTheme

#: Okabe-Ito, without yellow (too faint on white) and black (kept for markers).
PALETTE = LIGHT.palette
MARKER_COLOUR = LIGHT.marker
#: "Ignore outliers": the y axes show this share of the points (2nd-98th percentile).
INLIER_FRACTION = 0.96
#: Milliseconds between two paints of new epochs: at most ~30 paints a second.
PAINT_INTERVAL_MS = 33
#: Milliseconds between the plots of one paint.  Each plot gets its new epochs and is
#: repainted in an event of its own, so the GUI thread is never held for all four at
#: once and a timer or a key press can come in between.  Zero: the next plot as soon
#: as the event loop has painted this one (a wait would let the caches go cold).
PLOT_STEP_MS = 0
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

#: Buffer columns: epoch, the drawn training and validation metrics, the two gaps,
#: then Keras's running-mean training loss and accuracy (a View option, drawn faint).
#: "loss"/"accuracy" hold the training set measured at the epoch's end in inference
#: mode (``train_eval_*``) and "val_loss" the validation cross-entropy without the
#: weight penalty; a run stored before those were measured falls back to Keras's
#: ``loss``/``accuracy``/``val_loss``, and its legend names say so.
COLUMNS = (
    "epoch", "loss", "val_loss", "accuracy", "val_accuracy", "loss_gap", "accuracy_gap",
    "keras_loss", "keras_accuracy", "learning_rate",
)  # fmt: skip
_COL = {name: i for i, name in enumerate(COLUMNS)}
#: Where each history key is drawn: (column, the key used when it is missing).
_SOURCES = {
    "loss": ("train_eval_cross_entropy", "loss"),
    "val_loss": ("val_cross_entropy", "val_loss"),
    "accuracy": ("train_eval_accuracy", "accuracy"),
    "val_accuracy": ("val_accuracy", "val_accuracy"),
    "keras_loss": ("loss", "loss"),
    "keras_accuracy": ("accuracy", "accuracy"),
    "learning_rate": ("learning_rate", "learning_rate"),
}
#: The column a monitored metric's best-epoch dot sits on.
_MONITOR_COL = {
    "loss": "keras_loss",
    "val_loss": "val_loss",
    "val_cross_entropy": "val_loss",
    "accuracy": "keras_accuracy",
    "val_accuracy": "val_accuracy",
}

#: Which plot each monitored metric lives on.
_PLOT_OF = {
    "loss": "loss",
    "val_loss": "loss",
    "val_cross_entropy": "loss",
    "accuracy": "accuracy",
    "val_accuracy": "accuracy",
}
#: The curves of Keras's running-mean training numbers (shown only on request).
_KERAS_COLUMNS = ("keras_loss", "keras_accuracy")
#: Curves drawn as they are, whatever the smoothing: a schedule is not noise.
_UNSMOOTHED = frozenset(("learning_rate",))


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


def _spec(label: str, *, measured: bool) -> list[tuple[str, str, str, Qt.PenStyle]]:
    """(plot, column, hover name, pen style) of a run's curves.

    The hover names say which training curve is which: the one measured at the
    epoch's end in inference mode (like validation), or Keras's running mean over
    the epoch (dropout on, weights changing), which an old stored run falls back to.
    """
    if measured:
        train_loss = f"{label} training cross-entropy (end of epoch)"
        val_loss = f"{label} validation cross-entropy (no penalty)"
        train_acc = f"{label} training accuracy (end of epoch)"
    else:
        train_loss = f"{label} training loss (Keras running mean; old run)"
        val_loss = f"{label} validation loss (Keras, with any penalty; old run)"
        train_acc = f"{label} training accuracy (Keras running mean; old run)"
    return [
        ("loss", "loss", train_loss, Qt.PenStyle.SolidLine),
        ("loss", "val_loss", val_loss, Qt.PenStyle.DashLine),
        ("accuracy", "accuracy", train_acc, Qt.PenStyle.SolidLine),
        ("accuracy", "val_accuracy", f"{label} validation accuracy", Qt.PenStyle.DashLine),
        ("gap", "loss_gap", f"{label} gap: val − train cross-entropy (nats)", Qt.PenStyle.SolidLine),
        ("gap", "accuracy_gap", f"{label} gap: train − val accuracy (fraction)", Qt.PenStyle.DotLine),
        ("loss", "keras_loss", f"{label} Keras running-mean training loss", Qt.PenStyle.DotLine),
        ("accuracy", "keras_accuracy", f"{label} Keras running-mean training accuracy", Qt.PenStyle.DotLine),
        ("lr", "learning_rate", f"{label} learning rate", Qt.PenStyle.SolidLine),
    ]  # fmt: skip


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
        live: bool = True,
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
        self._bounds: dict[tuple[str, bool, int, bool], tuple[float, float] | None] = {}
        #: (epoch, value, visible) the best-epoch markers of each plot were last placed at.
        self._placed: dict[str, tuple[int, float, bool]] = {}
        #: The history has the end-of-epoch training measurements (False: an old run
        #: drawn from Keras's running means; None: no epoch yet).
        self.measured: bool | None = None
        plots = panel.plots
        #: (plot, column, legend name, pen style) of each curve, in ``curves`` order.
        self.spec = _spec(label, measured=True)
        self.curves: list[tuple[pg.PlotDataItem | LiveCurve, int]] = []
        #: The raw curves drawn faint behind smoothed ones (empty while smoothing is off).
        self.raw_curves: list[pg.PlotDataItem | LiveCurve] = []
        self._homes: list[pg.PlotWidget] = []
        for plot_name, column, _name, _style in self.spec:
            # A live run grows a point per epoch: LiveCurve repaints only the new
            # segment.  A stored run is drawn whole, downsampled (PlotDataItem).
            raw, item = (
                (self._add_live(plots[plot_name]), self._add_live(plots[plot_name]))
                if live
                else (plots[plot_name].plot([], []), plots[plot_name].plot([], []))
            )
            raw.setZValue(-1)
            # No legend in the plots: the key row above them names the runs.
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
        plots[_PLOT_OF.get(monitor, "loss")].addItem(self.best_dot)
        #: Where the learning rate dropped: (epoch after which it fell, old, new).
        self.drops: list[tuple[int, float, float]] = []
        self._drops_placed: list[tuple[int, float, str]] = []
        # Down-pointing triangles on the validation loss, each with its drop as tooltip.
        self.drop_dot = pg.ScatterPlotItem(
            size=9, symbol="t", hoverable=True, tip=lambda x, y, data: data
        )
        self.drop_dot.setZValue(9)
        plots["loss"].addItem(self.drop_dot)
        self.restyle()
        self.set_labelled(labelled)

    @staticmethod
    def _add_live(plot: pg.PlotWidget) -> LiveCurve:
        item = LiveCurve()
        plot.addItem(item)
        return item

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
        for (item, _), raw, (_plot, column, _name, style) in zip(
            self.curves, self.raw_curves, self.spec, strict=True
        ):
            # Keras's running means are context, not the measurement: drawn faint.
            item.setPen(
                pg.mkPen(faint if column in _KERAS_COLUMNS else stroke, width=width, style=style)
            )
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
        self.drop_dot.setBrush(pg.mkBrush(stroke))
        self.drop_dot.setPen(pg.mkPen(theme.marker, width=1))
        # Faint is an opacity, not pens: it outlives a theme switch, and the frozen
        # layer paints each item at its opacity.
        opacity = FAINT_OPACITY if self.faint else 1.0
        markers = [self.best_dot, self.drop_dot, *self.best_lines, *self.stop_lines]
        for item in [*self.items(), *markers]:
            item.setOpacity(opacity)
        self.panel._invalidate_layers(self)

    def items(self) -> list[pg.PlotDataItem | LiveCurve]:
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
        self.panel.layers[_PLOT_OF.get(self.monitor, "loss")].freeze(self.best_dot)
        self.panel.layers["loss"].freeze(self.drop_dot)

    # -- data ---------------------------------------------------------------------------------
    def _grow(self, needed: int) -> None:
        if needed > len(self.data):
            bigger = np.full((max(needed, 2 * len(self.data)), len(COLUMNS)), np.nan)
            bigger[: self.count] = self.data[: self.count]
            self.data = bigger

    def _write_row(self, epoch: int, metrics: Mapping[str, float | None]) -> None:
        if self.measured is None:
            self.measured = "train_eval_cross_entropy" in metrics
            if not self.measured:
                self.spec = _spec(self.label, measured=False)
        row = self.data[self.count]
        row[0] = epoch
        for column, (key, fallback) in _SOURCES.items():
            value = metrics.get(key) if key in metrics else metrics.get(fallback)
            row[_COL[column]] = np.nan if value is None else value
        row[_COL["loss_gap"]] = row[_COL["val_loss"]] - row[_COL["loss"]]
        row[_COL["accuracy_gap"]] = row[_COL["accuracy"]] - row[_COL["val_accuracy"]]
        self.count += 1
        value = monitored(metrics, self.monitor)  # an old run without it: val_loss
        if value is not None and math.isfinite(value) and self._is_better(value):
            self._best_value, self.best_epoch = value, epoch

    def _is_better(self, value: float) -> bool:
        return is_better(self.monitor, value, self._best_value)  # Keras's rule, one place

    def bounds(self, plot_name: str, log: bool = False) -> tuple[float, float] | None:
        """The lowest and highest value of this run's curves on a plot (log10 values on
        a log plot), or None with nothing finite.  Smoothed values lie between them."""
        keras = self.panel.keras_running
        key = (plot_name, log, self.count, keras)
        if key not in self._bounds:
            columns = [
                _COL[col]
                for plot, col, _n, _s in self.spec
                if plot == plot_name and (keras or col not in _KERAS_COLUMNS)
            ]
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
        if weight <= 0 or COLUMNS[column] in _UNSMOOTHED:
            return values
        return ema_smooth(values, weight)

    def redraw(self, only: str | None = None) -> None:
        """Set every curve's data from the buffer under the panel's view options.

        ``only`` names one plot: the paint tick updates the plots one at a time.
        """
        view = self.data[: self.count]
        x = view[:, 0]
        smoothing = self.panel.smoothing > 0
        for index, ((item, column), raw) in enumerate(
            zip(self.curves, self.raw_curves, strict=True)
        ):
            if only is not None and self.spec[index][0] != only:
                continue
            shows = self._shows(index)
            if not shows and self._is_keras(index):
                # Hidden until the View option asks for them (it redraws every run then):
                # no setData at every paint for curves nobody sees.
                item.setVisible(False)
                raw.setVisible(False)
                continue
            item.setData(x, self.shown(column))
            item.setVisible(shows)
            behind = smoothing and self._has_raw(index)
            if behind:
                raw.setData(x, view[:, column])
            elif raw.xData is not None and len(raw.xData):  # once, not at every paint
                raw.setData([], [])
            raw.setVisible(behind and shows)
        self._place_best(only)
        if only in (None, "loss"):
            self._place_drops()
        self.panel._invalidate_layers(self)

    def _has_raw(self, index: int) -> bool:
        """Whether curve ``index`` gets its raw curve drawn faint behind it when smoothed."""
        column = self.spec[index][1]
        return column not in _KERAS_COLUMNS and column not in _UNSMOOTHED

    def _is_keras(self, index: int) -> bool:
        return self.spec[index][1] in _KERAS_COLUMNS

    def _shows(self, index: int) -> bool:
        """Whether curve ``index`` is drawn: Keras's running means only on request, and
        only beside the end-of-epoch curves (an old run's training curve already is one)."""
        if not self.visible:
            return False
        return not self._is_keras(index) or (self.panel.keras_running and self.measured is True)

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
    def _place_best(self, only: str | None = None) -> None:
        """The best epoch's line on each plot (``only``: on that one), its dot and label."""
        names = [name for name in self.panel.plots if only in (None, name)]
        dot_plot = _PLOT_OF.get(self.monitor, "loss")
        epoch = self.best_epoch
        if epoch is None or not 1 <= epoch <= self.count:
            for name in names:
                if self._placed.pop(name, None) is not None:
                    self.best_lines[self._plot_index(name)].setVisible(False)
                if name == dot_plot and len(self.best_dot.data):
                    self.best_dot.setData([], [])
            return
        value = self.data[epoch - 1, _COL[_MONITOR_COL.get(self.monitor, "val_loss")]]
        # A scatter item has no log mode of its own: on a log plot it needs log10 values.
        if self.panel.log_y and dot_plot == "loss" and value > 0:
            value = math.log10(value)
        placed = (epoch, value, self.visible)
        moved = False
        for name in names:
            if self._placed.get(name) == placed:
                continue  # most epochs are not a new best: leave the markers alone
            self._placed[name] = placed
            moved = True
            index = self._plot_index(name)
            line = self.best_lines[index]
            line.setPos(epoch)
            line.setVisible(self.visible)
            if name == dot_plot:
                self.best_dot.setData([epoch], [value])
            if index == 0:
                label = line.label
                label.setFormat(f"best {epoch}")
                # Near the right edge the text goes left of its line, or the plot cuts it off.
                side = 1 if epoch > 0.85 * self.panel.x_span() else 0
                if label.anchors[0][0] != side:
                    label.anchors = [(side, 0), (side, 0)]
                    label.updatePosition()
        if moved:
            self.panel._invalidate_layers(self)

    def _plot_index(self, name: str) -> int:
        """The position of plot ``name`` in the panel (and of its marker lines)."""
        return list(self.panel.plots).index(name)

    def _place_drops(self) -> None:
        """A marker on the validation loss after each epoch the learning rate fell."""
        drops = rate_drops(self.data[: self.count, _COL["learning_rate"]])
        drawn = self.curves[1][0].yData  # the validation loss as drawn (maybe smoothed)
        points = []
        for epoch, old, new in drops:
            value = float(drawn[epoch - 1]) if drawn is not None and len(drawn) >= epoch else 0.0
            if self.panel.log_y:  # a scatter item has no log mode of its own
                value = math.log10(value) if value > 0 else math.nan
            if math.isfinite(value):
                points.append((epoch, value, drop_text(epoch, old, new)))
        self.drops = drops
        if points == self._drops_placed:
            return  # most epochs drop nothing: leave the markers alone
        self._drops_placed = points
        self.drop_dot.setData(
            [p[0] for p in points], [p[1] for p in points], data=[p[2] for p in points]
        )
        self.panel._invalidate_layers(self)

    def drop_at(self, epoch: int) -> str | None:
        """What the drop marker at ``epoch`` says, if the learning rate fell after it."""
        for at, old, new in self.drops:
            if at == epoch and self.visible:
                return drop_text(at, old, new)
        return None

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
            return (
                f"Best epoch {result.best_epoch} of {result.epochs_run} "
                f"(lowest {self.monitor.replace('_', ' ')})."
            )
        return ""

    # -- visibility ----------------------------------------------------------------------------------
    def set_visible(self, visible: bool) -> None:
        self.visible = visible
        for index, ((item, _), raw) in enumerate(zip(self.curves, self.raw_curves, strict=True)):
            item.setVisible(self._shows(index))
            raw.setVisible(self._shows(index) and self.panel.smoothing > 0 and self._has_raw(index))
        self.best_dot.setVisible(visible)
        self.drop_dot.setVisible(visible)
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
        self.panel.layers[_PLOT_OF.get(self.monitor, "loss")].thaw(self.best_dot)
        plots[_PLOT_OF.get(self.monitor, "loss")].removeItem(self.best_dot)
        self.panel.layers["loss"].thaw(self.drop_dot)
        plots["loss"].removeItem(self.drop_dot)

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
        "loss": ("Loss", "cross-entropy (nats)"),
        "accuracy": ("Accuracy", "accuracy"),
        # pyqtgraph makes a title's width the plot's minimum width: a longer title
        # pushed the gap plot past the panel's edge and cut off its right side.
        "gap": (
            "Gap: val − train loss (solid), train − val accuracy (dotted)",
            "nats (solid) · fraction (dotted)",
        ),
        # No axis label: the title names it, and a short plot has no room for both.
        "lr": ("Learning rate (log scale; ▼ on the loss plot: a drop)", ""),
    }
    #: The line key, said once above the plots instead of in every title.
    KEY = (
        "solid: training (measured at the epoch's end, like validation)   ·   "
        "dashed: validation   ·   dash-dot line: best epoch"
    )
    #: What each empty plot says will appear in it.
    EMPTY = {
        "loss": "Press Train (Ctrl+R): training and validation loss will appear here, "
        "epoch by epoch",
        "accuracy": "Training and validation accuracy will appear here, epoch by epoch",
        "gap": "The gap between validation and training will appear here: "
        "when it opens up, the network is memorizing the training data",
        "lr": "The learning rate of each epoch will appear here, on a log scale",
    }

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme: PlotTheme = LIGHT
        self.smoothing = 0.0
        #: Draw Keras's running-mean training loss/accuracy too, faint (View option).
        self.keras_running = False
        #: Epochs the next live run will train (0: not said), see set_epoch_span.
        self.epoch_span = 0
        self.log_y = False
        self.ignore_outliers = False
        self.runs: dict[int, RunCurves] = {}
        #: Experiment arms drawn as a mean curve with a band over their seeds, by label.
        self.bands: dict[str, ArmBand] = {}
        self._next_colour = 0
        #: Runs with epochs not yet handed to their curves (the paint timer's work).
        self._dirty: set[int] = set()
        #: The paint under way: the plots still to update, one per timer step, with the
        #: runs they update and whether their y ranges are fitted afresh.
        self._pass_plots: list[str] = []
        self._pass_runs: set[int] = set()
        self._pass_exact = False
        self._pass_span = 0
        #: Plots the user zoomed or panned: their x axis is left alone until reset_zoom.
        self._zoomed: set[str] = set()
        #: The last epoch each plot's x axis was set to show (see _apply_span).
        self._x_last: dict[str, int] = {}
        #: The next flush fits y to the data instead of only growing it.
        self._y_exact = True
        self.plots: dict[str, pg.PlotWidget] = {
            "loss": self._make_plot("loss"),
            "accuracy": self._make_plot("accuracy"),
            "gap": self._make_plot("gap"),
            "lr": self._make_plot("lr"),
        }
        # The learning rate spans decades under a schedule: log scale, and one x axis
        # with the loss plot (zooming either zooms both).  Not pyqtgraph's setXLink: it
        # lines the plots up by pixels, and the two plots have different widths.
        self.plots["lr"].setLogMode(x=False, y=True)
        for source, target in (("loss", "lr"), ("lr", "loss")):
            self.plots[source].getViewBox().sigXRangeChanged.connect(
                lambda _view, span, target=target: self._follow_x(target, span)
            )
        # setLogMode turns pyqtgraph's autorange on; the panel sets the ranges itself.
        self.plots["lr"].getViewBox().enableAutoRange(x=False, y=False)
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
        grid.addWidget(self.plots["lr"], 2, 0, 1, 2)
        grid.setRowStretch(0, 6)  # loss and accuracy are read most: give them the height
        grid.setRowStretch(1, 4)
        grid.setRowStretch(2, 3)  # the learning rate: a small plot, steps read at a glance
        column.addLayout(grid, 1)
        self._paint_timer = QTimer(self)
        self._paint_timer.setSingleShot(True)
        self._paint_timer.setInterval(PAINT_INTERVAL_MS)
        self._paint_timer.timeout.connect(self._paint_step)
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
        # The loss and learning-rate plots share their x axis: a zoom on one is on both.
        linked = {"loss", "lr"} if name in ("loss", "lr") else {name}
        view.sigRangeChangedManually.connect(lambda *_a, s=linked: self._zoomed.update(s))
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

    def _follow_x(self, name: str, span: Sequence[float]) -> None:
        """Give plot ``name`` the x range ``span`` of the plot it is linked with."""
        view = self.plots[name].getViewBox()
        if [float(v) for v in span] != [float(v) for v in view.viewRange()[0]]:
            view.setXRange(*span, padding=0)

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
        for band in self.bands.values():
            band.restyle()
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
        bands = [band for band in self.bands.values() if band.visible]
        if bands:
            seeds = sorted({band.n for band in bands})
            parts.append(
                f'<span style="color:{theme.foreground}">line: mean of an arm\'s runs, '
                f"shaded band: min–max of {'/'.join(map(str, seeds))} seeds</span>"
            )
        for band in bands:
            parts.append(
                f'<span style="color:{band.colour}"><b>▬▬</b></span>&nbsp;'
                f'<span style="color:{theme.foreground}">'
                f"{html.escape(band.label).replace(' ', '&nbsp;')}</span>"
            )
        self.key_label.setText("&nbsp;&nbsp;&nbsp; ".join(parts))

    def set_smoothing(self, weight: float) -> None:
        """TensorBoard-style smoothing weight in [0, 1): 0 shows the raw curves only."""
        weight = min(max(float(weight), 0.0), 0.999)
        if weight == self.smoothing:
            return
        self.smoothing = weight
        self._redraw_all()

    def set_keras_running(self, on: bool) -> None:
        """Also draw Keras's running-mean training loss and accuracy, faint and dotted.

        They are averages over the epoch with dropout and augmentation on, while the
        weights change; the solid training curve is measured like validation."""
        if bool(on) == self.keras_running:
            return
        self.keras_running = bool(on)
        self._redraw_all()

    def set_log_y(self, on: bool) -> None:
        """A log-scale y axis on the loss plot (losses span decades when a net memorizes)."""
        self.log_y = bool(on)
        self.plots["loss"].setLogMode(x=False, y=self.log_y)
        # setLogMode turns pyqtgraph's autorange on, which scans every curve at every
        # paint; the panel sets the ranges itself (but "ignore outliers" needs it).
        self.plots["loss"].getViewBox().enableAutoRange(
            x=False, y=INLIER_FRACTION if self.ignore_outliers else False
        )
        self._apply_span(force=True)
        self.layers["loss"].invalidate()  # its grid follows the log ticks
        self._redraw_all()  # the best dot is placed in log10 units on a log plot

    def _redraw_all(self) -> None:
        self._dirty.clear()
        self._end_pass()
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

    def set_lr_visible(self, visible: bool) -> None:
        """Show or hide the learning-rate plot (the drop markers stay on the loss plot)."""
        self.plots["lr"].setVisible(bool(visible))

    def lr_visible(self) -> bool:
        return not self.plots["lr"].isHidden()

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
        shown: list = [c for c in self.runs.values() if c.visible]
        shown += [b for b in self.bands.values() if b.visible]
        if not shown:
            return max(self.epoch_span, MIN_SPAN)
        last = max(
            max(
                getattr(c, "planned", 0),
                c.count if getattr(c, "frozen", True) else c.reach,
                c.count,
            )
            for c in shown
        )
        return max(last, 2)

    def _apply_span(
        self, *, force: bool = False, only: str | None = None, last: int | None = None
    ) -> None:
        """Set the x axes (``only``: of that plot) to show epochs up to ``last``
        (by default ``x_span``, the epochs of the runs shown)."""
        last = self.x_span() if last is None else last
        for name, plot in self.plots.items():
            if only not in (None, name) or (self._x_last.get(name) == last and not force):
                continue
            self._x_last[name] = last
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
        curves = RunCurves(
            self, run_id, label, self._next_colour, monitor, labelled=live, live=live
        )
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
        """Buffer one epoch; the curves show it at the next paint tick (``_paint_step``)."""
        curves = self.runs.get(run_id)
        if curves is not None:
            curves.append(metrics)
            self._dirty.add(run_id)
            if not self._paint_timer.isActive():
                self._paint_timer.start(PAINT_INTERVAL_MS)

    def painting(self) -> bool:
        """Whether epochs are waiting to be handed to the curves (a paint is due)."""
        return bool(self._dirty or self._pass_plots)

    def flush(self) -> None:
        """Hand every epoch buffered so far to the curves of every plot, now.

        The paint timer does the same work one plot per step (``_paint_step``); the
        panel's other methods call this when they need the curves current.
        """
        self._paint_timer.stop()
        if self._dirty:
            self._begin_pass()
        while self._pass_plots:
            self._update_plot(self._pass_plots.pop(0))
        self._end_pass()

    def _paint_step(self) -> None:
        """The paint timer: the next plot of the paint under way, or a new paint.

        A paint hands every epoch that arrived since the last one to the curves, at
        most ~30 times a second, one plot per step ``PLOT_STEP_MS`` apart; each plot
        repaints between the steps.  Hidden plots are updated in passing.
        """
        if not self._pass_plots:
            if not self._dirty:
                return
            self._begin_pass()
        while self._pass_plots:
            name = self._pass_plots.pop(0)
            self._update_plot(name)
            if self.plots[name].isVisible():
                break
        if self._pass_plots:
            self._paint_timer.start(PLOT_STEP_MS)
            return
        self._end_pass()
        if self._dirty:  # epochs that came during this paint: the next one, a tick away
            self._paint_timer.start(PAINT_INTERVAL_MS)

    def _begin_pass(self) -> None:
        """A paint of the dirty runs on every plot (restarted if one is under way)."""
        self._pass_plots = list(self.plots)
        self._pass_runs |= self._dirty
        self._dirty.clear()
        self._pass_exact = self._pass_exact or self._y_exact
        self._y_exact = False
        self._pass_span = self.x_span()

    def _update_plot(self, name: str) -> None:
        changed = [self.runs[r] for r in sorted(self._pass_runs) if r in self.runs]
        for curves in changed:
            curves.redraw(only=name)
        self._apply_span(only=name, last=self._pass_span)
        self._fit_y(exact=self._pass_exact, changed=changed, only=name)

    def _end_pass(self) -> None:
        was_painting = bool(self._pass_runs)
        self._pass_plots.clear()
        self._pass_runs.clear()
        self._pass_exact = False
        if was_painting:
            self.hover.refresh()

    def _fit_y(
        self,
        *,
        exact: bool,
        changed: Sequence[RunCurves] | None = None,
        only: str | None = None,
    ) -> None:
        """Set the y ranges from the runs shown, at most once per paint.

        ``exact`` fits the data (a run added, removed or hidden, a view option);
        otherwise the range only grows, and then by a margin, so a live run moves
        the axes (their tick text, the frozen layer) every many epochs, not every one.
        A range that only grows need only look at the runs that ``changed`` (the
        live ones), not at every finished run at every paint.  ``only`` names the one
        plot to fit (a paint step).
        """
        if exact:
            if only is None:  # a paint step's exact fit was asked for at its start
                self._y_exact = False
            changed = None
        shown: list = [c for c in self.runs.values() if c.visible and c.count]
        shown += [b for b in self.bands.values() if b.visible and b.count]
        if changed is not None and shown:
            shown = [c for c in changed if c.visible and c.count]
        for name, plot in self.plots.items():
            if only not in (None, name):
                continue
            view = plot.getViewBox()
            if name in self._zoomed or view.autoRangeEnabled()[1] or not shown:
                continue  # the user's zoom, or "ignore outliers" (pyqtgraph's autorange)
            log = (self.log_y and name == "loss") or name == "lr"
            found = [b for c in shown if (b := c.bounds(name, log)) is not None]
            if not found:
                continue
            data_low, data_high = min(b[0] for b in found), max(b[1] for b in found)
            pad = (data_high - data_low) * 0.03 or max(abs(data_high) * 0.05, 0.05)
            if name == "lr":  # in decades: a constant rate sits mid-plot beside a tick
                pad = max(pad, 0.3)
            low, high = data_low - pad, data_high + pad
            if not exact:
                (now_low, now_high) = view.viewRange()[1]
                if now_low <= low and high <= now_high:
                    continue
                margin = (max(high, now_high) - min(low, now_low)) * GROW_MARGIN
                grown_low, grown_high = low < now_low, high > now_high
                low = low - margin if grown_low else now_low
                high = high + margin if grown_high else now_high
                if name != "gap" and not log:  # as below, on the side that grew only
                    if grown_low and data_low >= 0:
                        low = max(low, data_low - pad)
                    if grown_high and name == "accuracy" and data_high <= 1:
                        high = min(high, data_high + pad)
                view.setYRange(low, high, padding=0)
                continue
            if name != "gap" and not log:
                # A loss or an accuracy is never negative, an accuracy never above 1:
                # the growth margin must not show a range no value can reach.
                if data_low >= 0:
                    low = max(low, data_low - pad)
                if name == "accuracy" and data_high <= 1:
                    high = min(high, data_high + pad)
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
        self._pass_runs.discard(run_id)
        for label in [k for k, band in self.bands.items() if run_id in band.run_ids]:
            self.remove_band(label)  # a band without one of its runs would misstate the arm
        if curves is not None:
            curves.remove()
            self._update_empty_state()
            self._fit_y(exact=True)
            self.hover.refresh()

    def clear(self) -> None:
        self.clear_bands()
        for run_id in list(self.runs):
            self.remove_run(run_id)
        self._next_colour = 0
        self.epoch_span = 0  # the next run sets its own
        self.hover.hide()
        self._update_empty_state()

    # -- experiment arms as bands ------------------------------------------------------------------
    def show_band(self, label: str, run_ids: Sequence[int]) -> ArmBand | None:
        """Draw the runs ``run_ids`` (an arm's repeats) as their mean with a min-max band.

        The runs' own curves are hidden (they stay in the panel, and in the store);
        the band takes the colour of the arm's first run.  None when no run is here.
        """
        self.flush()
        members = [self.runs[r] for r in run_ids if r in self.runs and self.runs[r].count]
        if not members:
            return None
        self.remove_band(label)
        # One palette slot per arm, in plan order: the runs' own slots cycle the
        # palette every few runs, so arms would share colours.
        band = ArmBand(self, label, members, len(self.bands))
        self.bands[label] = band
        for curves in members:
            curves.set_visible(False)
        self._update_key()
        self._apply_span()
        self._fit_y(exact=True)
        return band

    def remove_band(self, label: str) -> None:
        band = self.bands.pop(label, None)
        if band is None:
            return
        band.remove()
        for run_id in band.run_ids:
            if run_id in self.runs:
                self.runs[run_id].set_visible(True)
        self._update_key()

    def clear_bands(self) -> None:
        for label in list(self.bands):
            self.remove_band(label)

    def point_count(self, run_id: int) -> int:
        """How many epochs a run's curves hold (tests and the status bar use it)."""
        self.flush()
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
