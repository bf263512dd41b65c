"""A run's markers: its best epoch, where early stopping ended it, where the rate dropped.

The best epoch (by the early-stopping monitor, even when early stopping is off) is a
vertical dash-dot line on every plot and a dot on the monitored curve; the newest
live run's line says "best N".  The best epoch is the live-run model's
(``LiveRun.best_epoch``, handed over by ``PlotsAdapter``), or a stored run's result:
the plots never work it out again.  An early stop is a second line on every plot with
a label on the gap plot; each drop of the learning rate is a triangle on the
validation loss (lr.py) with its drop as tooltip.  Markers are moved only when what
they show changed: most epochs are neither a new best nor a drop.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from fitgap_gui.core.results.records import RunResult
from fitgap_gui.qt.plots.buffer import COL, RunBuffer
from fitgap_gui.qt.plots.lr import drop_text, rate_drops
from fitgap_gui.qt.plots.theme import PlotTheme
from fitgap_gui.qt.plots.view import PlotsView

#: The column a monitored metric's best-epoch dot sits on.
MONITOR_COL = {
    "loss": "keras_loss",
    "val_loss": "val_loss",
    "val_cross_entropy": "val_loss",
    "accuracy": "keras_accuracy",
    "val_accuracy": "val_accuracy",
}
#: Which plot each monitored metric lives on.
PLOT_OF = {
    "loss": "loss",
    "val_loss": "loss",
    "val_cross_entropy": "loss",
    "accuracy": "accuracy",
    "val_accuracy": "accuracy",
}


class RunMarkers:
    """The best-epoch lines and dot, the early-stop lines and the drop triangles of a run."""

    def __init__(
        self,
        view: PlotsView,
        buffer: RunBuffer,
        colour_index: int,
        monitor: str,
        changed: Callable[[], None],
    ) -> None:
        self.view = view
        self.buffer = buffer
        self.monitor = monitor
        #: Called when a marker moved (a frozen run's cached layers must draw again).
        self.changed = changed
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        #: Where the learning rate dropped: (epoch after which it fell, old, new).
        self.drops: list[tuple[int, float, float]] = []
        #: (epoch, value, visible) the best-epoch markers of each plot were last placed at.
        self._placed: dict[str, tuple[int, float, bool]] = {}
        self._drops_placed: list[tuple[int, float, str]] = []
        plots = view.plots
        self.dot_plot = PLOT_OF.get(monitor, "loss")
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
        plots[self.dot_plot].addItem(self.best_dot)
        # Down-pointing triangles on the validation loss, each with its drop as tooltip.
        self.drop_dot = pg.ScatterPlotItem(
            size=9, symbol="t", hoverable=True, tip=lambda x, y, data: data
        )
        self.drop_dot.setZValue(9)
        plots["loss"].addItem(self.drop_dot)

    def items(self) -> list[pg.GraphicsObject]:
        return [self.best_dot, self.drop_dot, *self.best_lines, *self.stop_lines]

    def set_labelled(self, on: bool) -> None:
        self.best_lines[0].label.setVisible(on)
        self.stop_lines[2].label.setVisible(on)

    def restyle(self, colour: str, theme: PlotTheme, opacity: float) -> None:
        stroke = pg.mkColor(colour)
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
        for item in self.items():
            item.setOpacity(opacity)

    # -- the best epoch ------------------------------------------------------------------------
    def place_best(self, visible: bool, only: str | None = None) -> None:
        """The best epoch's line on each plot (``only``: on that one), its dot and label."""
        names = [name for name in self.view.plots if only in (None, name)]
        epoch = self.best_epoch
        if epoch is None or not 1 <= epoch <= self.buffer.count:
            for name in names:
                if self._placed.pop(name, None) is not None:
                    self.best_lines[self._plot_index(name)].setVisible(False)
                if name == self.dot_plot and len(self.best_dot.data):
                    self.best_dot.setData([], [])
            return
        value = self.buffer.data[epoch - 1, COL[MONITOR_COL.get(self.monitor, "val_loss")]]
        # A scatter item has no log mode of its own: on a log plot it needs log10 values.
        if self.view.log_y and self.dot_plot == "loss" and value > 0:
            value = math.log10(value)
        placed = (epoch, value, visible)
        moved = False
        for name in names:
            if self._placed.get(name) == placed:
                continue  # most epochs are not a new best: leave the markers alone
            self._placed[name] = placed
            moved = True
            index = self._plot_index(name)
            line = self.best_lines[index]
            line.setPos(epoch)
            line.setVisible(visible)
            if name == self.dot_plot:
                self.best_dot.setData([epoch], [value])
            if index == 0:
                label = line.label
                label.setFormat(f"best {epoch}")
                # Near the right edge the text goes left of its line, or the plot cuts it off.
                side = 1 if epoch > 0.85 * self.view.x_span() else 0
                if label.anchors[0][0] != side:
                    label.anchors = [(side, 0), (side, 0)]
                    label.updatePosition()
        if moved:
            self.changed()

    def _plot_index(self, name: str) -> int:
        """The position of plot ``name`` in the panel (and of its marker lines)."""
        return list(self.view.plots).index(name)

    # -- learning-rate drops -------------------------------------------------------------------
    def place_drops(self, drawn: np.ndarray | None) -> None:
        """A marker on the validation loss (``drawn``: as drawn, maybe smoothed) after
        each epoch the learning rate fell."""
        drops = rate_drops(self.buffer.column(COL["learning_rate"]))
        points = []
        for epoch, old, new in drops:
            value = float(drawn[epoch - 1]) if drawn is not None and len(drawn) >= epoch else 0.0
            if self.view.log_y:  # a scatter item has no log mode of its own
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
        self.changed()

    def drop_at(self, epoch: int) -> str | None:
        """What the drop marker at ``epoch`` says, if the learning rate fell after it."""
        for at, old, new in self.drops:
            if at == epoch:
                return drop_text(at, old, new)
        return None

    # -- the end ---------------------------------------------------------------------------------
    def show_stop(self, result: RunResult, visible: bool) -> None:
        """Early stopping's line on every plot and its label, from the engine's result."""
        self.stopped_epoch = result.stopped_epoch
        if result.stopped_epoch is None:
            return
        for line in self.stop_lines:
            line.setPos(result.stopped_epoch)
            line.setVisible(visible)
        self.stop_lines[2].label.setFormat(f"early stop at {result.stopped_epoch}")
        self.changed()

    def set_visible(self, visible: bool) -> None:
        self.best_dot.setVisible(visible)
        self.drop_dot.setVisible(visible)
        for line in self.best_lines:
            line.setVisible(visible and self.best_epoch is not None)
        for line in self.stop_lines:
            line.setVisible(visible and self.stopped_epoch is not None)

    def freeze(self) -> None:
        """Drawn from the plots' cached layers from now on."""
        layers = self.view.layers
        for line, layer in zip(
            self.best_lines + self.stop_lines, list(layers.values()) * 2, strict=True
        ):
            layer.freeze(line)
        layers[self.dot_plot].freeze(self.best_dot)
        layers["loss"].freeze(self.drop_dot)

    def remove(self) -> None:
        plots, layers = self.view.plots, self.view.layers
        for line, plot, layer in zip(
            self.best_lines + self.stop_lines,
            list(plots.values()) * 2,
            list(layers.values()) * 2,
            strict=True,
        ):
            layer.thaw(line)
            plot.removeItem(line)
        layers[self.dot_plot].thaw(self.best_dot)
        plots[self.dot_plot].removeItem(self.best_dot)
        layers["loss"].thaw(self.drop_dot)
        plots["loss"].removeItem(self.drop_dot)
