"""The hover readout: the epoch under the mouse and every visible curve's value there.

Each plot's scene reports mouse moves through a pyqtgraph ``SignalProxy`` that
passes at most ``RATE_LIMIT`` moves a second, so a fast mouse over many long runs
never stalls the window.  The plot under the mouse gets a vertical line at the
nearest epoch and a box with that epoch's values (with the smoothed value beside
the raw one while smoothing is on), at the top or bottom, whichever keeps it off
the legend; leaving the plot area hides them.
"""

from __future__ import annotations

import html
from functools import partial
from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt

if TYPE_CHECKING:
    from .plots import PlotsPanel

#: Mouse moves handled per second (the rest are dropped by the proxy).
RATE_LIMIT = 30


def _number(value: float) -> str:
    return "—" if value != value else f"{value:.4g}"  # NaN != NaN


class HoverReadout:
    """A vertical line and a value box per plot, following the mouse."""

    def __init__(self, panel: PlotsPanel) -> None:
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
            # The box hangs on the view box itself, not on its data group, so that it
            # draws above the legend (a sibling of the data group) instead of under it.
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
        for curves in self.panel.runs.values():
            for label, colour, raw, shown in curves.values_at(name, epoch):
                value = _number(raw)
                if shown != raw:
                    value = f"{_number(shown)} (raw {value})"
                plain.append(f"{label}: {value}")
                rows.append(
                    f'<span style="color:{colour}">■</span> {html.escape(label)}: <b>{value}</b>'
                )
        if not rows:
            self.hide()
            return ""
        self._plain = "\n".join(plain)
        box, line = self.boxes[name], self.lines[name]
        box.setHtml(
            f'<div style="color:{self.panel.theme.foreground}">epoch <b>{epoch}</b><br>'
            + "<br>".join(rows)
            + "</div>"
        )
        self._place(name, epoch)
        line.setPos(epoch)
        line.setVisible(True)
        box.setVisible(True)
        return self._plain

    def _place(self, name: str, epoch: int) -> None:
        """Beside the line, on the side where the box fits, at the end away from the legend."""
        plot = self.panel.plots[name]
        view = plot.getViewBox()
        box = self.boxes[name]
        x = view.mapFromView(QPointF(epoch, view.viewRange()[1][0])).x()  # view-box pixels
        width, room = box.boundingRect().width(), view.width()
        right = x + 6 + width <= room  # else left of the line, kept inside the plot
        left_x = x + 6 if right else max(x - 6, width)
        for top in (True, False):
            box.setAnchor((0.0 if right else 1.0, 0.0 if top else 1.0))
            box.setPos(QPointF(left_x, 4 if top else view.height() - 4))
            legend = plot.plotItem.legend
            if legend is None or not legend.isVisible():
                return
            if not box.sceneBoundingRect().intersects(legend.sceneBoundingRect()):
                return
        box.setAnchor((0.0 if right else 1.0, 0.0))  # covers the legend either way: top
        box.setPos(QPointF(left_x, 4))

    def text(self) -> str:
        """The readout as plain text ("" when hidden), for tests and accessibility."""
        return self._plain if self.plot_name is not None else ""

    def refresh(self) -> None:
        """Redo the readout after the data or the view options changed."""
        if self.plot_name is not None and self.epoch is not None:
            self.show_at(self.plot_name, self.epoch)

    def hide(self) -> None:
        for item in (*self.lines.values(), *self.boxes.values()):
            item.setVisible(False)
        self.plot_name = None
        self._plain = ""
