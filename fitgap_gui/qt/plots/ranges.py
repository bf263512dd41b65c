"""The plots' x and y ranges: set by the panel, never by pyqtgraph's autorange.

pyqtgraph's autorange scans every item's bounds at every paint; with 20 long runs
overlaid that is the paint budget gone.  ``Ranges`` sets them itself
(docs/ARCHITECTURE.md, "Performance"):

- x spans the runs shown (and the epochs a live run will train, ``epoch_span``),
  growing in steps (``next_reach``), so the axes do not re-lay out every epoch.
  The loss and learning-rate plots share one x range (zooming either zooms both).
- y is fitted to the data when runs are added, removed or hidden or a view option
  changes; while a live run grows it only grows, by ``GROW_MARGIN`` beyond the new
  point, so the axes and the cached layers change every few epochs.  A loss or an
  accuracy range never shows values no loss or accuracy can take.
- A plot the user zoomed or panned is left alone until ``reset_zoom``.
- The loss plot can have a log-scale y axis (``set_log_y``); the learning rate's
  always has one.  "Ignore outliers" (``set_ignore_outliers``) hands y back to
  pyqtgraph's autorange at the 2nd-98th percentiles, which needs every point.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

import pyqtgraph as pg

#: "Ignore outliers": the y axes show this share of the points (2nd-98th percentile).
INLIER_FRACTION = 0.96
#: When a live run leaves the y range, the range grows by this share of its span
#: beyond the new point, so the axes and the cached layer change every few epochs.
GROW_MARGIN = 0.25
#: The x axis of an empty plot, or of a live run with no planned length, spans at
#: least this many epochs.
MIN_SPAN = 10


def next_reach(count: int) -> int:
    """Where the x axis of a live run that ran past it goes next: ~10 % ahead, rounded
    to a round number, so the axes change every many epochs instead of every epoch."""
    step = max(10 ** int(math.log10(max(count, 1))) // 2, 1)
    return max(MIN_SPAN, math.ceil(count * 1.1 / step) * step)


class Ranged(Protocol):
    """What the ranges read of a run's curves or an arm's band."""

    visible: bool

    @property
    def count(self) -> int: ...

    def bounds(self, plot_name: str, log: bool = False) -> tuple[float, float] | None: ...

    def x_extent(self) -> int: ...


class Ranges:
    """The x and y ranges of the panel's plots."""

    def __init__(
        self, plots: Mapping[str, pg.PlotWidget], series: Callable[[], Iterable[Ranged]]
    ) -> None:
        self.plots = plots
        #: Every run's curves and every arm's band, shown or not.
        self.series = series
        #: Epochs the next live run will train (0: not said), see PlotsPanel.set_epoch_span.
        self.epoch_span = 0
        self.log_y = False
        self.ignore_outliers = False
        #: Plots the user zoomed or panned: their x axis is left alone until reset_zoom.
        self.zoomed: set[str] = set()
        #: The last epoch each plot's x axis was set to show (see apply_span).
        self._x_last: dict[str, int] = {}
        #: The next paint fits y to the data instead of only growing it.
        self.y_exact = True
        for name, plot in plots.items():
            view = plot.getViewBox()
            # The panel sets both ranges (apply_span, fit_y): pyqtgraph's autorange
            # would scan every item's bounds at every paint.
            view.enableAutoRange(x=False, y=False)
            # The loss and learning-rate plots share their x axis: a zoom on one is on both.
            linked = {"loss", "lr"} if name in ("loss", "lr") else {name}
            view.sigRangeChangedManually.connect(lambda *_a, s=linked: self.zoomed.update(s))
        # The learning rate spans decades under a schedule: log scale, and one x axis
        # with the loss plot.  Not pyqtgraph's setXLink: it lines the plots up by
        # pixels, and the two plots have different widths.
        plots["lr"].setLogMode(x=False, y=True)
        for source, target in (("loss", "lr"), ("lr", "loss")):
            plots[source].getViewBox().sigXRangeChanged.connect(
                lambda _view, span, target=target: self._follow_x(target, span)
            )
        # setLogMode turns pyqtgraph's autorange on; the panel sets the ranges itself.
        plots["lr"].getViewBox().enableAutoRange(x=False, y=False)

    def _follow_x(self, name: str, span: Sequence[float]) -> None:
        """Give plot ``name`` the x range ``span`` of the plot it is linked with."""
        view = self.plots[name].getViewBox()
        if [float(v) for v in span] != [float(v) for v in view.viewRange()[0]]:
            view.setXRange(*span, padding=0)

    # -- x -----------------------------------------------------------------------------------------
    def x_span(self) -> int:
        """The last epoch the x axes show: the longest run shown, or a live run's plan."""
        shown = [c for c in self.series() if c.visible]
        if not shown:
            return max(self.epoch_span, MIN_SPAN)
        return max(max(c.x_extent() for c in shown), 2)

    def apply_span(
        self, *, force: bool = False, only: str | None = None, last: int | None = None
    ) -> None:
        """Set the x axes (``only``: of that plot) to show epochs up to ``last``
        (by default ``x_span``, the epochs of the runs shown)."""
        last = self.x_span() if last is None else last
        for name, plot in self.plots.items():
            if only not in (None, name) or (self._x_last.get(name) == last and not force):
                continue
            self._x_last[name] = last
            if name in self.zoomed and not force:
                continue
            view = plot.getViewBox()
            view.enableAutoRange(x=False)
            view.setXRange(0, last + 1, padding=0)  # a margin of one epoch each side

    # -- y -----------------------------------------------------------------------------------------
    def take_exact(self) -> bool:
        """Whether the next fit is to be exact; asked once, at the start of a paint."""
        exact, self.y_exact = self.y_exact, False
        return exact

    def fit_y(
        self,
        *,
        exact: bool,
        changed: Sequence[Ranged] | None = None,
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
                self.y_exact = False
            changed = None
        shown = [c for c in self.series() if c.visible and c.count]
        if changed is not None and shown:
            shown = [c for c in changed if c.visible and c.count]
        for name, plot in self.plots.items():
            if only not in (None, name):
                continue
            view = plot.getViewBox()
            if name in self.zoomed or view.autoRangeEnabled()[1] or not shown:
                continue  # the user's zoom, or "ignore outliers" (pyqtgraph's autorange)
            self._fit_plot(name, view, shown, exact)

    def _fit_plot(self, name: str, view: pg.ViewBox, shown: Sequence[Ranged], exact: bool) -> None:
        log = (self.log_y and name == "loss") or name == "lr"
        found = [b for c in shown if (b := c.bounds(name, log)) is not None]
        if not found:
            return
        data_low, data_high = min(b[0] for b in found), max(b[1] for b in found)
        pad = (data_high - data_low) * 0.03 or max(abs(data_high) * 0.05, 0.05)
        if name == "lr":  # in decades: a constant rate sits mid-plot beside a tick
            pad = max(pad, 0.3)
        low, high = data_low - pad, data_high + pad
        if not exact:
            (now_low, now_high) = view.viewRange()[1]
            # A side grows when the padded data leave it by more than half a pad: the
            # pad widens with the data's span, and growing for that alone moved the
            # axes (and redrew the cached layers) at every epoch.  The data stay in
            # view either way.
            slack = pad / 2
            grown_low, grown_high = low < now_low - slack, high > now_high + slack
            if not (grown_low or grown_high):
                return
            margin = (max(high, now_high) - min(low, now_low)) * GROW_MARGIN
            low = low - margin if grown_low else now_low
            high = high + margin if grown_high else now_high
            if name != "gap" and not log:
                # A loss or an accuracy is never negative, an accuracy never above 1:
                # the growth margin stops a pad short of what no value can reach.
                if grown_low and data_low >= 0:
                    low = max(low, -pad)
                if grown_high and name == "accuracy" and data_high <= 1:
                    high = min(high, 1 + pad)
        view.setYRange(low, high, padding=0)

    # -- view options --------------------------------------------------------------------------
    def set_log_y(self, on: bool) -> None:
        """A log-scale y axis on the loss plot."""
        self.log_y = bool(on)
        self.plots["loss"].setLogMode(x=False, y=self.log_y)
        # setLogMode turns pyqtgraph's autorange on, which scans every curve at every
        # paint; the panel sets the ranges itself (but "ignore outliers" needs it).
        self.plots["loss"].getViewBox().enableAutoRange(
            x=False, y=INLIER_FRACTION if self.ignore_outliers else False
        )
        self.apply_span(force=True)

    def set_ignore_outliers(self, on: bool) -> None:
        """Scale the y axes to the 2nd-98th percentile of the points, like TensorBoard."""
        self.ignore_outliers = bool(on)
        for plot in self.plots.values():
            view = plot.getViewBox()
            # Percentiles need every point: pyqtgraph's autorange does that (slower).
            view.enableAutoRange(y=INLIER_FRACTION if on else False)
            view.updateAutoRange()
        self.fit_y(exact=True)

    def reset_zoom(self) -> None:
        """Back to the runs' x span and automatic y ranges (after zooming or panning)."""
        self.zoomed.clear()
        self.apply_span(force=True)
        if self.ignore_outliers:
            for plot in self.plots.values():
                view = plot.getViewBox()
                view.enableAutoRange(y=INLIER_FRACTION)
                view.updateAutoRange()  # now, not at the next paint
        self.fit_y(exact=True)
