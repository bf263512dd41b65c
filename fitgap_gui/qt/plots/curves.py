"""One run's curves on the four plots: created once, fed from the run's buffer.

``RunCurves`` holds a run's numbers (``RunBuffer``, buffer.py), one curve item per
column on its plot, a raw curve drawn faint behind each smoothed one, and the run's
markers (markers.py).  A live run draws with ``LiveCurve``s, which repaint only
their new segment; a stored run with downsampled ``PlotDataItem``s.  Finished and
stored runs are "frozen": 1-px pens, drawn from one cached image per plot
(plot_items.py), so a live epoch re-strokes only the live run.  A run's colour is
its palette slot in the panel's theme; training is solid, validation dashed; a
faint run (the previous run kept beside a new one) is drawn at a lower opacity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from fitgap_gui.core.results.records import EpochMetrics, RunResult
from fitgap_gui.qt.plots.buffer import COL, KERAS_COLUMNS, UNSMOOTHED, RunBuffer
from fitgap_gui.qt.plots.markers import RunMarkers
from fitgap_gui.qt.plots.plot_items import LiveCurve
from fitgap_gui.qt.plots.ranges import next_reach
from fitgap_gui.qt.plots.view import PlotsView

#: Pen widths: hairlines for every run.  A 1-px cosmetic pen avoids Qt's wide-line
#: stroker: with 2 px the live run alone took more than the whole paint budget.
LIVE_WIDTH, FROZEN_WIDTH = 1.0, 1.0
#: Opacity of a faint run (the previous run kept on screen beside a new one).
FAINT_OPACITY = 0.3


def curve_spec(label: str, *, measured: bool) -> list[tuple[str, str, str, Qt.PenStyle]]:
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
    """The curves and markers of one run on the four plots."""

    def __init__(
        self,
        view: PlotsView,
        run_id: int,
        label: str,
        colour_index: int,
        monitor: str,
        *,
        labelled: bool = True,
        live: bool = True,
    ) -> None:
        self.view = view
        self.run_id = run_id
        self.label = label
        self.colour_index = colour_index
        #: A new run drawn over a comparison's bands (PlotsPanel.style_run): in the
        #: theme's marker colour, above the bands, so it stands out from every arm.
        self.over_bands = False
        self.monitor = monitor
        self.buffer = RunBuffer()
        self.visible = True
        #: Finished or stored: drawn from the plots' cached layers, thin pens.
        self.frozen = False
        #: Drawn faint (lower alpha): the previous run kept beside a new one.
        self.faint = False
        #: Epochs this run was asked to train (0: unknown); the x axis shows them.
        self.planned = 0
        #: How far the x axis goes for this run while it trains (grows in steps).
        self.reach = 0
        self._bounds: dict[tuple[str, bool, int, bool], tuple[float, float] | None] = {}
        plots = view.plots
        #: (plot, column, legend name, pen style) of each curve, in ``curves`` order.
        self.spec = curve_spec(label, measured=True)
        self._spec_measured = True
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
            self.curves.append((item, COL[column]))
            self.raw_curves.append(raw)
            self._homes.append(plots[plot_name])
        self.markers = RunMarkers(view, self.buffer, colour_index, monitor, self._changed)
        self.restyle()
        self.set_labelled(labelled)

    @staticmethod
    def _add_live(plot: pg.PlotWidget) -> LiveCurve:
        item = LiveCurve()
        plot.addItem(item)
        return item

    # -- what the panel, the hover and the tests read -------------------------------------------------
    @property
    def count(self) -> int:
        return self.buffer.count

    @property
    def data(self) -> np.ndarray:
        return self.buffer.data

    @property
    def measured(self) -> bool | None:
        return self.buffer.measured

    @property
    def best_epoch(self) -> int | None:
        return self.markers.best_epoch

    @property
    def stopped_epoch(self) -> int | None:
        return self.markers.stopped_epoch

    @property
    def best_lines(self) -> list[pg.InfiniteLine]:
        return self.markers.best_lines

    @property
    def stop_lines(self) -> list[pg.InfiniteLine]:
        return self.markers.stop_lines

    @property
    def best_dot(self) -> pg.ScatterPlotItem:
        return self.markers.best_dot

    @property
    def drop_dot(self) -> pg.ScatterPlotItem:
        return self.markers.drop_dot

    @property
    def drops(self) -> list[tuple[int, float, float]]:
        return self.markers.drops

    @property
    def colour(self) -> str:
        if self.over_bands:  # beside a comparison's arms: the one colour no arm has
            return self.view.theme.marker
        palette = self.view.theme.palette
        return palette[self.colour_index % len(palette)]

    def x_extent(self) -> int:
        """The last epoch the x axes must show for this run: a live one's plan or reach."""
        return max(self.planned, self.count if self.frozen else self.reach, self.count)

    def set_labelled(self, on: bool) -> None:
        """Show the "best N" / "early stop at N" texts (only the newest live run has them:
        with several runs overlaid their texts would pile up on one another)."""
        self.labelled = on
        self.markers.set_labelled(on)

    # -- pens ------------------------------------------------------------------------------------
    def restyle(self) -> None:
        """Pens and label colours from the panel's theme (a run keeps its palette slot)."""
        theme, colour = self.view.theme, self.colour
        stroke = pg.mkColor(colour)
        faint = pg.mkColor(colour)
        faint.setAlpha(theme.faint_alpha)
        width = FROZEN_WIDTH if self.frozen else LIVE_WIDTH
        for (item, _), raw, (_plot, column, _name, style) in zip(
            self.curves, self.raw_curves, self.spec, strict=True
        ):
            # Keras's running means are context, not the measurement: drawn faint.
            item.setPen(
                pg.mkPen(faint if column in KERAS_COLUMNS else stroke, width=width, style=style)
            )
            raw.setPen(pg.mkPen(faint, width=1, style=style))  # wider + alpha: slow stroker
            item.setZValue(2 if self.over_bands else 0)  # the bands' means are at 1
        # Faint is an opacity, not pens: it outlives a theme switch, and the frozen
        # layer paints each item at its opacity.
        opacity = FAINT_OPACITY if self.faint else 1.0
        for item in self.items():
            item.setOpacity(opacity)
        self.markers.restyle(colour, theme, opacity)
        self._changed()

    def _changed(self) -> None:
        """A frozen run changed (data, pens, visibility): its layers draw again."""
        if self.frozen:
            for layer in self.view.layers.values():
                layer.invalidate()

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
            self.view.layer_of(home).freeze(item)
        self.markers.freeze()

    # -- data ---------------------------------------------------------------------------------
    def _noticed(self) -> None:
        """After new rows: an old run's hover names say what its curves are."""
        if self.buffer.measured is False and self._spec_measured:
            self._spec_measured = False
            self.spec = curve_spec(self.label, measured=False)

    def append(self, metrics: EpochMetrics) -> None:
        """One more epoch into the buffer; the curves get it at the panel's next flush."""
        self.buffer.append(metrics.epoch, metrics.metrics)
        self._noticed()
        if self.count > self.reach:
            self.reach = next_reach(self.count)

    def extend(self, history: Mapping[str, Sequence[float | None]]) -> None:
        """A whole stored history at once (one setData per curve)."""
        self.buffer.extend(history)
        self._noticed()
        self.redraw()

    def set_best_epoch(self, epoch: int | None) -> None:
        """The run's best epoch, as the live-run model or the result says (None: none yet).

        Its markers move at the next redraw of the run."""
        self.markers.best_epoch = epoch

    def bounds(self, plot_name: str, log: bool = False) -> tuple[float, float] | None:
        """The lowest and highest value of this run's curves on a plot (log10 values on
        a log plot), or None with nothing finite.  Smoothed values lie between them."""
        keras = self.view.keras_running
        key = (plot_name, log, self.count, keras)
        if key not in self._bounds:
            columns = [
                COL[col]
                for plot, col, _n, _s in self.spec
                if plot == plot_name and (keras or col not in KERAS_COLUMNS)
            ]
            found = self.buffer.extent(columns, log)
            if any(k[2] != self.count for k in self._bounds):
                self._bounds = {k: v for k, v in self._bounds.items() if k[2] == self.count}
            self._bounds[key] = found
        return self._bounds[key]

    def raw(self) -> np.ndarray:
        """The stored numbers (one row per epoch, ``COLUMNS``); view options never change them."""
        return self.buffer.rows()

    def shown(self, column: int) -> np.ndarray:
        """What the curve of ``column`` draws: the raw values, or smoothed ones."""
        return self.buffer.shown(column, self.view.smoothing)

    def redraw(self, only: str | None = None) -> None:
        """Set every curve's data from the buffer under the panel's view options.

        ``only`` names one plot: the paint tick updates the plots one at a time.
        """
        rows = self.buffer.rows()
        x = rows[:, 0]
        smoothing = self.view.smoothing > 0
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
                raw.setData(x, rows[:, column])
            elif raw.xData is not None and len(raw.xData):  # once, not at every paint
                raw.setData([], [])
            raw.setVisible(behind and shows)
        self.markers.place_best(self.visible, only)
        if only in (None, "loss"):
            self.markers.place_drops(self.curves[1][0].yData)  # the validation loss as drawn
        self._changed()

    def _has_raw(self, index: int) -> bool:
        """Whether curve ``index`` gets its raw curve drawn faint behind it when smoothed."""
        column = self.spec[index][1]
        return column not in KERAS_COLUMNS and column not in UNSMOOTHED

    def _is_keras(self, index: int) -> bool:
        return self.spec[index][1] in KERAS_COLUMNS

    def _shows(self, index: int) -> bool:
        """Whether curve ``index`` is drawn: Keras's running means only on request, and
        only beside the end-of-epoch curves (an old run's training curve already is one)."""
        if not self.visible:
            return False
        return not self._is_keras(index) or (self.view.keras_running and self.measured is True)

    # -- markers ----------------------------------------------------------------------------------
    def drop_at(self, epoch: int) -> str | None:
        """What the drop marker at ``epoch`` says, if the learning rate fell after it."""
        return self.markers.drop_at(epoch) if self.visible else None

    def finish(self, result: RunResult) -> str:
        """Final markers from the engine's own result; returns a line for the status bar."""
        if result.best_epoch is not None:
            self.markers.best_epoch = result.best_epoch
        self.markers.place_best(self.visible)
        self.markers.show_stop(result, self.visible)
        if result.stopped_epoch is not None:
            restored = (
                f", weights of epoch {result.best_epoch} restored"
                if result.restored_best and result.best_epoch is not None
                else ", last epoch's weights kept"
            )
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
            raw.setVisible(self._shows(index) and self.view.smoothing > 0 and self._has_raw(index))
        self.markers.set_visible(visible)
        self._changed()

    def remove(self) -> None:
        for item, home in zip(self.items(), self._homes * 2, strict=True):
            self.view.layer_of(home).thaw(item)
            home.removeItem(item)
        self.markers.remove()

    def values_at(self, plot_name: str, epoch: int) -> list[tuple[str, str, float, float]]:
        """(legend name, colour, raw value, shown value) of this run's curves on a plot."""
        if not self.visible or self.count == 0:
            return []
        epochs = self.buffer.column(0)
        index = int(np.searchsorted(epochs, epoch))
        if index >= self.count or epochs[index] != epoch:
            return []
        rows = []
        for (item, column), (plot, _col, name, _style) in zip(self.curves, self.spec, strict=True):
            if plot == plot_name and item.isVisible():
                raw = float(self.buffer.data[index, column])
                shown = float(item.yData[index])  # what is drawn: no smoothing per hover
                rows.append((name, self.colour, raw, shown))
        return rows
