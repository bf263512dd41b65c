"""Live curves: loss, accuracy, the gap and the learning rate, one curve set per run.

``PlotsPanel`` lays out four pyqtgraph PlotWidgets (the learning rate's on a log
scale, its x range tied to the loss plot's) under one key row that names the runs,
so no legend covers a curve, and offers the methods the window, ``PlotsAdapter``
(qt/runtime/live_runs.py), the benchmarks and the tests call.  The work is done by
its parts, one module each:

- curves.py: ``RunCurves``, a run's curve items, keyed by run id and created once
  (its numbers in buffer.py, with the smoothing; its markers in markers.py: the
  best epoch, taken from the live-run model, the early stop, the rate's drops);
- paint.py: ``PaintScheduler``; an epoch only buffers, a ~30 Hz timer hands
  everything new to the curves, one plot per step;
- ranges.py: ``Ranges``, the x-range policy, the y fit, log scale and outliers;
- bands.py: an experiment arm as a mean curve with a min-max band;
- hover.py: the readout under the mouse;
- countdown.py: early stopping's countdown and the onset line on the loss plot;
- texts.py: the plots' titles, the key row and what an empty plot says.

View options apply to every run's curves and never touch the stored numbers:
``set_smoothing`` draws a TensorBoard-style moving average with the raw curve faint
behind it (never for the learning rate), ``set_log_y`` puts the loss plot on a log
scale, ``set_ignore_outliers`` scales the y axes to the 2nd-98th percentiles,
``set_gap_visible`` and ``set_lr_visible`` hide the gap and the learning-rate plots and
``apply_theme`` recolours everything for a light or dark background.  A run can be
drawn faint (``set_run_faint``), as the previous run kept beside a new one.  With no
run yet, each plot says what will appear in it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from fitgap_gui.core.results.records import EpochMetrics, RunResult
from fitgap_gui.qt.plots.bands import ArmBand
from fitgap_gui.qt.plots.countdown import LossPlotNotes
from fitgap_gui.qt.plots.curves import RunCurves
from fitgap_gui.qt.plots.hover import HoverReadout, LeaveWatcher
from fitgap_gui.qt.plots.paint import PaintScheduler
from fitgap_gui.qt.plots.plot_items import EpochAxis, FrozenLayer, ValueAxis
from fitgap_gui.qt.plots.ranges import Ranged, Ranges
from fitgap_gui.qt.plots.texts import TITLES, empty_text, key_html, style_empty_text
from fitgap_gui.qt.plots.theme import LIGHT, PlotTheme

#: Width in pixels of the y axes: fixed, so new tick labels never re-lay out a plot.
Y_AXIS_WIDTH = 52


#: The least height of a plot, in pixels (title, tick labels, axis title, 3 ticks).
PLOT_MIN_HEIGHT = 150


class PlotsPanel(QWidget):
    """Loss and accuracy side by side, the gap below; any number of runs overlaid."""

    #: The PlotTheme after a light/dark switch: other panels' plots can follow it.
    theme_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme: PlotTheme = LIGHT
        self.smoothing = 0.0
        #: Draw Keras's running-mean training loss/accuracy too, faint (View option).
        self.keras_running = False
        self.runs: dict[int, RunCurves] = {}
        #: Experiment arms drawn as a mean curve with a band over their seeds, by label.
        self.bands: dict[str, ArmBand] = {}
        self._next_colour = 0
        self.plots: dict[str, pg.PlotWidget] = {
            "loss": self._make_plot("loss"),
            "accuracy": self._make_plot("accuracy"),
            "gap": self._make_plot("gap"),
            "lr": self._make_plot("lr"),
        }
        self.ranges = Ranges(self.plots, self._series)
        self.layers = {name: FrozenLayer(plot.plotItem) for name, plot in self.plots.items()}
        self.empty_texts = {name: empty_text(plot) for name, plot in self.plots.items()}
        self.zero_line = pg.InfiniteLine(pos=0, angle=0)
        self.plots["gap"].addItem(self.zero_line, ignoreBounds=True)
        self.notes = LossPlotNotes(self.plots["loss"])
        #: Early stopping's countdown (a text and a line) and the onset of overfitting.
        self.countdown_text = self.notes.countdown_text
        self.countdown_line = self.notes.countdown_line
        self.onset_line = self.notes.onset_line
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
        self.scheduler = PaintScheduler(self.plots, self, self)
        self.hover = HoverReadout(self)
        self._leave_watcher = LeaveWatcher(self.hover, self)
        for plot in self.plots.values():
            plot.viewport().installEventFilter(self._leave_watcher)
        self.apply_theme(LIGHT)
        self._update_empty_state()

    def _make_plot(self, name: str) -> pg.PlotWidget:
        """A plot with labelled axes, whole-epoch ticks and no legend inside it."""
        plot = pg.PlotWidget(axisItems={"bottom": EpochAxis("bottom"), "left": ValueAxis("left")})
        plot.setLabel("bottom", "epoch")
        plot.setLabel("left", TITLES[name][1])
        for axis in ("left", "bottom"):
            plot.getAxis(axis).enableAutoSIPrefix(False)
        plot.getAxis("left").setWidth(Y_AXIS_WIDTH)
        plot.setMenuEnabled(False)
        # Many long runs overlaid: draw about one point per pixel, only what is in view.
        plot.plotItem.setDownsampling(auto=True, mode="peak")
        plot.plotItem.setClipToView(True)
        # A stop line at the last epoch stays clear of the edge.
        plot.getViewBox().setDefaultPadding(0.03)
        # Tall enough for its title, axis labels and a few ticks: the window's minimum
        # size never squeezes a plot into an unreadable strip.
        plot.setMinimumHeight(PLOT_MIN_HEIGHT)
        return plot

    def layer_of(self, plot: pg.PlotWidget) -> FrozenLayer:
        """The cached layer of frozen curves on ``plot``."""
        for name, candidate in self.plots.items():
            if candidate is plot:
                return self.layers[name]
        raise KeyError(plot)

    def add_top_widget(self, widget: QWidget) -> None:
        """Put a bar (the view options) right above the plots."""
        self.top_bar.addWidget(widget)

    # -- view options ----------------------------------------------------------------------------
    def apply_theme(self, theme: PlotTheme) -> None:
        """Colour plots, the key and every run's curves for a light or dark background."""
        self.theme = theme
        for name, plot in self.plots.items():
            plot.setBackground(theme.background)
            plot.setTitle(TITLES[name][0], color=theme.foreground, size="11pt")
            for axis in ("left", "bottom"):
                plot.getAxis(axis).setTextPen(theme.foreground)
                plot.getAxis(axis).setPen(theme.axis)
                plot.setLabel(axis, plot.getAxis(axis).labelText, color=theme.foreground)
            self.layers[name].set_colours(theme.background, theme.axis)
            style_empty_text(self.empty_texts[name], name, theme)
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
        self.key_label.setText(key_html(self.theme, self.runs.values(), self.bands.values()))

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

    @property
    def log_y(self) -> bool:
        """Whether the loss plot has a log-scale y axis (``set_log_y``)."""
        return self.ranges.log_y

    @property
    def ignore_outliers(self) -> bool:
        """Whether the y axes show the 2nd-98th percentiles (``set_ignore_outliers``)."""
        return self.ranges.ignore_outliers

    def set_log_y(self, on: bool) -> None:
        """A log-scale y axis on the loss plot (losses span decades when a net memorizes)."""
        self.ranges.set_log_y(on)
        self.layers["loss"].invalidate()  # its grid follows the log ticks
        self._redraw_all()  # the best dot is placed in log10 units on a log plot

    def _redraw_all(self) -> None:
        self.scheduler.cancel()
        for curves in self.runs.values():
            curves.redraw()
        self.ranges.fit_y(exact=True)
        self.hover.refresh()

    def set_ignore_outliers(self, on: bool) -> None:
        """Scale the y axes to the 2nd-98th percentile of the points, like TensorBoard."""
        self.ranges.set_ignore_outliers(on)

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
        self.ranges.reset_zoom()

    # -- the x span ---------------------------------------------------------------------------
    @property
    def epoch_span(self) -> int:
        """Epochs the next live run will train (0: not said), see ``set_epoch_span``."""
        return self.ranges.epoch_span

    def set_epoch_span(self, epochs: int) -> None:
        """The epochs the live run will train: the x axes show them from its first epoch.

        A growing x range re-lays out and repaints every plot and its axis text at
        each epoch; a fixed one also shows up front how far the run will go.  The
        span belongs to the live run (the newest one begun, or the next): when that
        run is removed or hidden, the x axes shrink to the runs still shown.
        """
        span = self.ranges.epoch_span = max(int(epochs), 0)
        for curves in self.runs.values():  # a smaller span shrinks what runs planned
            curves.planned = min(curves.planned, span)
        live = self._live_run()
        if live is not None:
            live.planned = span
            live.reach = max(min(live.reach, span), live.count)
        self.ranges.apply_span()

    def _live_run(self) -> RunCurves | None:
        """The run training now (the newest one not finished), if any."""
        live = [c for c in self.runs.values() if not c.frozen]
        return live[-1] if live else None

    def _series(self) -> list[Ranged]:
        """Every run's curves and every arm's band (what the ranges are fitted to)."""
        return [*self.runs.values(), *self.bands.values()]

    def x_span(self) -> int:
        """The last epoch the x axes show: the longest run shown, or a live run's plan."""
        return self.ranges.x_span()

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
        self.ranges.apply_span()

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
        self.ranges.y_exact = True  # the first epochs set y afresh (not grown from 0-1)
        self._update_empty_state()
        return curves

    def add_epoch(self, run_id: int, metrics: EpochMetrics, best_epoch: int | None = None) -> None:
        """Buffer one epoch; the curves show it at the next paint (paint.py).

        ``best_epoch`` is the run's best epoch so far as the live-run model says
        (``LiveRun.best_epoch``); None leaves the marker where it is.
        """
        curves = self.runs.get(run_id)
        if curves is not None:
            curves.append(metrics)
            if best_epoch is not None:
                curves.set_best_epoch(best_epoch)
            self.scheduler.mark(run_id)

    def painting(self) -> bool:
        """Whether epochs are waiting to be handed to the curves (a paint is due)."""
        return self.scheduler.pending()

    def flush(self) -> None:
        """Hand every epoch buffered so far to the curves of every plot, now.

        The paint timer does the same work one plot per step (paint.py); the
        panel's other methods call this when they need the curves current.
        """
        self.scheduler.flush()

    # -- a paint, as the scheduler runs it (paint.PaintTarget) ---------------------------------
    def start_paint(self) -> tuple[bool, int]:
        return self.ranges.take_exact(), self.x_span()

    def paint_plot(self, name: str, run_ids: list[int], exact: bool, span: int) -> None:
        changed = [self.runs[r] for r in run_ids if r in self.runs]
        for curves in changed:
            curves.redraw(only=name)
        self.ranges.apply_span(only=name, last=span)
        self.ranges.fit_y(exact=exact, changed=changed, only=name)

    def paint_done(self) -> None:
        self.hover.refresh()

    # -- the end of a run, stored runs, visibility -------------------------------------------------
    def finish_run(self, run_id: int, result: RunResult) -> str:
        curves = self.runs.get(run_id)
        if curves is None:
            return ""
        self.flush()
        message = curves.finish(result)
        curves.freeze()
        # Done: the x axes show the epochs it ran, not the ones it asked for (a run
        # early-stopped at epoch 12 of 60 is not drawn on a 0-60 axis).
        curves.planned = min(curves.planned, curves.count)
        self.ranges.apply_span()
        return message

    def show_history(
        self,
        run_id: int,
        label: str,
        history: Mapping[str, Sequence[float | None]],
        result: RunResult | None = None,
        monitor: str = "val_loss",
        best_epoch: int | None = None,
    ) -> RunCurves:
        """Overlay a stored run's whole history (the Runs tab uses this).

        Its best epoch is ``result``'s, else ``best_epoch`` (the live-run model's).
        """
        curves = self.begin_run(run_id, label, monitor, live=False)
        curves.set_best_epoch(best_epoch)
        curves.extend(history)
        self.ranges.apply_span()
        self.ranges.fit_y(exact=True)
        if result is not None:
            curves.finish(result)
        return curves

    def set_run_visible(self, run_id: int, visible: bool) -> None:
        if run_id in self.runs:
            self.runs[run_id].set_visible(visible)
            self._update_key()
            self.ranges.apply_span()
            self.ranges.fit_y(exact=True)

    def set_run_faint(self, run_id: int, faint: bool) -> None:
        """Draw a run faint (lower alpha), as the previous run kept beside a new one."""
        curves = self.runs.get(run_id)
        if curves is not None and curves.faint != bool(faint):
            curves.faint = bool(faint)
            curves.restyle()
            self._update_key()

    def remove_run(self, run_id: int) -> None:
        curves = self.runs.pop(run_id, None)
        self.scheduler.forget(run_id)
        for label in [k for k, band in self.bands.items() if run_id in band.run_ids]:
            self.remove_band(label)  # a band without one of its runs would misstate the arm
        if curves is not None:
            curves.remove()
            self._update_empty_state()
            self.ranges.fit_y(exact=True)
            self.hover.refresh()

    def clear(self) -> None:
        self.clear_bands()
        for run_id in list(self.runs):
            self.remove_run(run_id)
        self._next_colour = 0
        self.ranges.epoch_span = 0  # the next run sets its own
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
        self.ranges.apply_span()
        self.ranges.fit_y(exact=True)
        return band

    def remove_band(self, label: str) -> None:
        band = self.bands.pop(label, None)
        if band is None:
            return
        band.remove()
        for run_id in band.run_ids:
            if run_id in self.runs:
                self.runs[run_id].set_visible(True)
        if not self.bands:  # no arm left to stand out from: the runs' own colours
            for curves in self.runs.values():
                if curves.over_bands:
                    curves.over_bands = False
                    curves.restyle()
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
        in_band = any(run_id in band.run_ids for band in self.bands.values())
        # A new run beside a comparison's bands: a colour no arm has, drawn above them.
        curves.over_bands = bool(self.bands) and not in_band and not curves.frozen
        curves.restyle()
        self._update_key()

    def show_onset(self, epoch: int | None) -> None:
        """The onset of overfitting on the loss plot (None hides it)."""
        self.notes.show_onset(epoch)

    def show_countdown(self, text: str, stop_epoch: int | None) -> None:
        """Early stopping's live countdown on the loss plot, and where it would stop."""
        self.notes.show_countdown(text, stop_epoch)
