"""The hover readout: the epoch under the mouse and every visible curve's value there.

Each plot's scene reports mouse moves through a pyqtgraph ``SignalProxy`` that
passes at most ``RATE_LIMIT`` moves a second, so a fast mouse over many long runs
never stalls the window.  The plot under the mouse gets a vertical line at the
nearest epoch and a box with that epoch's values (with the smoothed value beside
the raw one while smoothing is on), one line per run.  The box stays inside the
plot: beside the line on the side where it fits, as wide as the plot at most, and
with more runs than lines fit, the last ones are summed up as "+ N more runs".
Leaving the plot area, or the plot widget (the panel watches for that), hides them.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from functools import partial
from typing import Protocol

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt

from fitgap_gui.qt.plots.bands import ArmBand
from fitgap_gui.qt.plots.curves import RunCurves
from fitgap_gui.qt.plots.theme import PlotTheme

#: Mouse moves handled per second (the rest are dropped by the proxy).
RATE_LIMIT = 30
#: Pixels kept free between the readout box and the plot's edges or the line.
MARGIN = 4


def _number(value: float) -> str:
    """One format for every value: four decimals (scientific only when that hides it)."""
    if value != value:  # NaN != NaN
        return "—"
    if value != 0 and not 1e-3 <= abs(value) < 1e5:
        return f"{value:.3e}"
    return f"{value:.4f}"


class HoverSource(Protocol):
    """What the readout reads: the plots, their theme, the runs and arms drawn on them."""

    plots: Mapping[str, pg.PlotWidget]
    theme: PlotTheme
    runs: Mapping[int, RunCurves]
    bands: Mapping[str, ArmBand]


class HoverReadout:
    """A vertical line and a value box per plot, following the mouse."""

    def __init__(self, panel: HoverSource) -> None:
        self.panel = panel
        self.epoch: int | None = None
        self.plot_name: str | None = None
        self._plain = ""
        self.lines: dict[str, pg.InfiniteLine] = {}
        self.boxes: dict[str, pg.TextItem] = {}
        self._proxies = []
        for name, plot in panel.plots.items():
            line = pg.InfiniteLine(angle=90, movable=False)
            line.setVisible(False)
            line.setZValue(50)
            plot.addItem(line, ignoreBounds=True)
            # The box hangs on the view box itself (pixels), not on its data group,
            # so it is placed and kept inside the plot in pixels.
            box = pg.TextItem(anchor=(0, 0))
            box.setParentItem(plot.getViewBox())
            box.setZValue(1000)
            box.setVisible(False)
            self.lines[name], self.boxes[name] = line, box
            self._proxies.append(
                pg.SignalProxy(
                    plot.scene().sigMouseMoved,
                    rateLimit=RATE_LIMIT,
                    slot=partial(self._on_moved, name),
                )
            )

    def restyle(self) -> None:
        theme = self.panel.theme
        for name in self.lines:
            self.lines[name].setPen(pg.mkPen(theme.axis, width=1, style=Qt.PenStyle.DotLine))
            self.boxes[name].fill = pg.mkBrush(*theme.readout_fill)
            self.boxes[name].border = pg.mkPen(theme.legend_pen)
            self.boxes[name].setColor(theme.foreground)
        self.refresh()

    def _on_moved(self, name: str, args: tuple) -> None:
        pos = args[0]
        view = self.panel.plots[name].getViewBox()
        if not view.sceneBoundingRect().contains(pos):
            self.hide()
            return
        point = view.mapSceneToView(pos)
        self.show_at(name, round(point.x()))

    def show_at(self, name: str, epoch: int) -> str:
        """Show the readout of plot ``name`` at ``epoch``; returns its plain text."""
        if self.plot_name not in (None, name):
            self.hide()
        self.plot_name, self.epoch = name, epoch
        rows = []
        plain = [f"epoch {epoch}"]
        header: list[str] = []
        # The runs shown, then the experiment arms drawn as a mean with a band.
        for curves in [*self.panel.runs.values(), *self.panel.bands.values()]:
            values, colour, names = [], curves.colour, []
            for label, _colour, raw, shown in curves.values_at(name, epoch):
                value = _number(raw)
                if shown != raw:
                    value = f"{_number(shown)} (raw {value})"
                plain.append(f"{label}: {value}")
                names.append(label.removeprefix(curves.label).strip())  # "training", ...
                values.append(f"<b>{value}</b>")
            if values:  # one short line per run: "name: training / validation"
                header = header or names
                rows.append(
                    f'<span style="color:{colour}">■</span> {html.escape(curves.label)}: '
                    + " / ".join(values)
                )
        if name == "loss":  # the learning rate's drops, marked on this plot
            for curves in self.panel.runs.values():
                drop = curves.drop_at(epoch)
                if drop is not None:
                    plain.append(f"{curves.label}: {drop}")
                    rows.append(
                        f'<span style="color:{curves.colour}">▼</span> '
                        f"{html.escape(curves.label)}: {html.escape(drop)}"
                    )
        if not rows:
            self.hide()
            return ""
        self._plain = "\n".join(plain)
        box, line = self.boxes[name], self.lines[name]
        self._fill(name, epoch, rows, header)
        self._place(name, epoch)
        line.setPos(epoch)
        line.setVisible(True)
        box.setVisible(True)
        return self._plain

    def _fill(self, name: str, epoch: int, rows: list[str], header: list[str]) -> None:
        """The box's text, cut to the lines that fit the plot's height and width."""
        view = self.panel.plots[name].getViewBox()
        box = self.boxes[name]
        box.setTextWidth(-1)
        room_w, room_h = view.width() - 2 * MARGIN, view.height() - 2 * MARGIN
        shown = rows
        while True:
            more = len(rows) - len(shown)
            lines = [f"epoch <b>{epoch}</b>: {html.escape(' / '.join(header))}", *shown]
            if more:
                lines.append(f"+ {more} more run{'s' if more > 1 else ''}")
            box.setHtml(
                f'<div style="color:{self.panel.theme.foreground}">' + "<br>".join(lines) + "</div>"
            )
            if box.boundingRect().width() > room_w:
                box.setTextWidth(max(room_w, 40))  # wrap rather than run out of the plot
            height = box.boundingRect().height()
            if height <= room_h or not shown:
                return
            # Too tall: drop as many runs as the overflow holds lines (at least one),
            # instead of laying the text out again once per dropped run.
            per_line = height / (len(lines) + 1)
            drop = max(1, math.ceil((height - room_h) / per_line) + (0 if more else 1))
            shown = shown[: max(len(shown) - drop, 0)]

    def _place(self, name: str, epoch: int) -> None:
        """Beside the line, on the side where the box fits, always inside the plot."""
        view = self.panel.plots[name].getViewBox()
        box = self.boxes[name]
        x = view.mapFromView(QPointF(epoch, view.viewRange()[1][0])).x()  # view-box pixels
        width, room = box.boundingRect().width(), view.width()
        right = x + MARGIN + width <= room - MARGIN  # else left of the line
        if right:
            box.setAnchor((0.0, 0.0))
            box.setPos(QPointF(max(x + MARGIN, MARGIN), MARGIN))
        else:
            box.setAnchor((1.0, 0.0))
            box.setPos(QPointF(min(max(x - MARGIN, width + MARGIN), room - MARGIN), MARGIN))

    def text(self) -> str:
        """The readout as plain text ("" when hidden), for tests and accessibility."""
        return self._plain if self.plot_name is not None else ""

    def refresh(self) -> None:
        """Redo the readout after the data or the view options changed."""
        if self.plot_name is not None and self.epoch is not None:
            self.show_at(self.plot_name, self.epoch)

    def leave(self) -> None:
        """The pointer left a plot: drop the moves still queued in the rate-limiting
        proxies (one would show the readout again) and hide it."""
        for proxy in self._proxies:
            proxy.timer.stop()
            proxy.args = None
        self.hide()

    def hide(self) -> None:
        for item in (*self.lines.values(), *self.boxes.values()):
            item.setVisible(False)
        self.plot_name = None
        self._plain = ""


class LeaveWatcher(QObject):
    """Hides the hover readout when the pointer leaves a plot (no move event says so)."""

    def __init__(self, readout: HoverReadout, parent: QObject) -> None:
        super().__init__(parent)
        self.readout = readout

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Leave:
            self.readout.leave()
        return False
