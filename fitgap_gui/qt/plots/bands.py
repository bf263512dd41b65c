"""An experiment arm drawn as one mean curve with a band over its repeats (seeds).

With three or five seeds per arm, five arms are 15-25 overlapping lines; what the
reader needs is each arm's typical curve and how far the seeds spread.  ``ArmBand``
draws, on each of the four plots, the mean over the arm's runs of every curve
(training solid, validation dashed, gaps, the learning rate) and a ``pg.FillBetweenItem`` from the
lowest to the highest run at each epoch (min-max: with 3 repeats a 95 % interval
would be wider than the data), in the arm's colour at low alpha.  The runs' own
curves are hidden while the band shows (the hover still reads the band's mean).

The numbers come from the runs' plot buffers (``RunCurves.raw``, buffer.py): the end-of-epoch
training measurements and the validation cross-entropy, as the curves draw them.
An arm whose runs stopped at different epochs is averaged over the runs that
reached each epoch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from fitgap_gui.qt.plots.buffer import COL
from fitgap_gui.qt.plots.curves import RunCurves
from fitgap_gui.qt.plots.view import PlotsView

#: The band's fill opacity (0-255): low, so overlapping arms stay readable.
BAND_ALPHA = 45
#: (plot, buffer column, pen style, hover name) of each mean curve.
BAND_SPEC = (
    ("loss", "loss", Qt.PenStyle.SolidLine, "training cross-entropy (end of epoch)"),
    ("loss", "val_loss", Qt.PenStyle.DashLine, "validation cross-entropy"),
    ("accuracy", "accuracy", Qt.PenStyle.SolidLine, "training accuracy (end of epoch)"),
    ("accuracy", "val_accuracy", Qt.PenStyle.DashLine, "validation accuracy"),
    ("gap", "loss_gap", Qt.PenStyle.SolidLine, "gap: val − train cross-entropy (nats)"),
    ("gap", "accuracy_gap", Qt.PenStyle.DotLine, "gap: train − val accuracy (fraction)"),
    ("lr", "learning_rate", Qt.PenStyle.SolidLine, "learning rate"),
)


def band_statistics(columns: Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
    """(epochs, mean, low, high) over runs of unequal length; NaN where none has a value."""
    length = max((len(c) for c in columns), default=0)
    stack = np.full((len(columns), length), np.nan)
    for i, column in enumerate(columns):
        stack[i, : len(column)] = column
    finite = np.isfinite(stack)
    counts = finite.sum(axis=0)
    total = np.where(finite, stack, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, total / np.maximum(counts, 1), np.nan)
    low = np.where(counts > 0, np.where(finite, stack, np.inf).min(axis=0), np.nan)
    high = np.where(counts > 0, np.where(finite, stack, -np.inf).max(axis=0), np.nan)
    return np.arange(1, length + 1, dtype=float), mean, low, high


class ArmBand:
    """One arm's mean curves and min-max bands on the four plots."""

    def __init__(
        self, view: PlotsView, label: str, members: Sequence[RunCurves], colour_index: int
    ) -> None:
        self.view = view
        self.label = label
        self.run_ids = [c.run_id for c in members]
        self.colour_index = colour_index
        self.n = len(members)
        self.visible = True
        self.means: list[tuple[str, pg.PlotDataItem, str]] = []
        self.fills: list[tuple[pg.FillBetweenItem, pg.PlotDataItem, pg.PlotDataItem]] = []
        self.values: dict[str, np.ndarray] = {}
        for plot_name, column, _style, name in BAND_SPEC:
            epochs, mean, low, high = band_statistics([c.raw()[:, COL[column]] for c in members])
            self.epochs = epochs
            self.values[column] = mean
            self.values[f"{column}_low"], self.values[f"{column}_high"] = low, high
            plot = view.plots[plot_name]
            # Missing epochs are cut out of the edges, never drawn as a jump to 0.
            keep = np.isfinite(low) & np.isfinite(high)
            lower = pg.PlotDataItem(epochs[keep], low[keep])
            upper = pg.PlotDataItem(epochs[keep], high[keep])
            if plot_name == "lr":  # a log plot: the edges are not in it to be told so
                lower.setLogMode(False, True)
                upper.setLogMode(False, True)
            fill = pg.FillBetweenItem(lower, upper)
            fill.setZValue(-0.5)
            plot.addItem(fill)
            item = plot.plot(epochs, mean, connect="finite")
            item.setZValue(1)
            self.means.append((plot_name, item, f"{label} mean of {self.n} seeds, {name}"))
            self.fills.append((fill, lower, upper))
        self.restyle()

    @property
    def colour(self) -> str:
        palette = self.view.theme.palette
        return palette[self.colour_index % len(palette)]

    def restyle(self) -> None:
        stroke = pg.mkColor(self.colour)
        shade = pg.mkColor(self.colour)
        shade.setAlpha(BAND_ALPHA)
        for (_plot, item, _name), (_p, _c, style, _n) in zip(self.means, BAND_SPEC, strict=True):
            item.setPen(pg.mkPen(stroke, width=2, style=style))
        for fill, _lower, _upper in self.fills:
            fill.setBrush(pg.mkBrush(shade))
            fill.setPen(pg.mkPen(None))

    def set_visible(self, visible: bool) -> None:
        self.visible = visible
        for _plot, item, _name in self.means:
            item.setVisible(visible)
        for fill, _lower, _upper in self.fills:
            fill.setVisible(visible)

    def bounds(self, plot_name: str, log: bool = False) -> tuple[float, float] | None:
        """Lowest and highest edge of this arm's bands on a plot (log10 on a log plot)."""
        columns = [col for plot, col, _s, _n in BAND_SPEC if plot == plot_name]
        values = np.concatenate(
            [self.values[f"{c}_{edge}"] for c in columns for edge in ("low", "high")]
        )
        values = values[np.isfinite(values)]
        if log:
            values = np.log10(values[values > 0])
        return (float(values.min()), float(values.max())) if values.size else None

    @property
    def count(self) -> int:
        return len(self.epochs)

    def x_extent(self) -> int:
        """The last epoch the x axes must show for this arm."""
        return self.count

    def values_at(self, plot_name: str, epoch: int) -> list[tuple[str, str, float, float]]:
        """(hover name, colour, mean, mean) of the band's curves on a plot at ``epoch``."""
        if not self.visible or not 1 <= epoch <= self.count:
            return []
        rows = []
        for plot, item, name in self.means:
            value = float(item.yData[epoch - 1])
            if plot == plot_name and np.isfinite(value):
                rows.append((name, self.colour, value, value))
        return rows

    def remove(self) -> None:
        for plot_name, item, _name in self.means:
            self.view.plots[plot_name].removeItem(item)
        for (fill, _lower, _upper), (plot_name, _c, _s, _n) in zip(
            self.fills, BAND_SPEC, strict=True
        ):
            self.view.plots[plot_name].removeItem(fill)
        self.means, self.fills = [], []
