"""The live run's early-stopping countdown and the onset of overfitting, on the loss plot.

Both are views of the live-run model (``PlotsAdapter`` and the diagnosis feed
them): the countdown is a text in the bottom-left corner of the loss plot ("early
stopping: 3 of 5 without improvement") with a line where the run would stop if
nothing improves; the onset of overfitting is a dotted line labelled "onset".
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt

#: The countdown's colour: a neutral grey, readable on the light and the dark theme.
COUNTDOWN_COLOUR = "#8a8f98"
#: The onset line's colour.
ONSET_COLOUR = "#d1495b"


class LossPlotNotes:
    """The countdown text, its stop line and the onset line of one loss plot."""

    def __init__(self, plot: pg.PlotWidget) -> None:
        self.plot = plot
        self.onset_line = pg.InfiniteLine(
            angle=90, pen=pg.mkPen(ONSET_COLOUR, width=2, style=Qt.PenStyle.DotLine), label="onset",
            labelOpts={"position": 0.08, "color": ONSET_COLOUR, "anchors": [(0, 1), (0, 1)]},
        )  # fmt: skip
        self.onset_line.setVisible(False)
        plot.addItem(self.onset_line, ignoreBounds=True)
        self.countdown_line = pg.InfiniteLine(
            angle=90, pen=pg.mkPen(COUNTDOWN_COLOUR, width=1.5, style=Qt.PenStyle.DashDotDotLine),
            label="stops here", labelOpts={"position": 0.5, "color": COUNTDOWN_COLOUR},
        )  # fmt: skip
        self.countdown_line.setVisible(False)
        # Top right of the view, in pixels: while a run trains, the x axis reaches the
        # epochs it asked for, so the right of the plot is empty (bottom left held the
        # falling curves and was cut at the plot's edge).
        view = plot.getViewBox()
        self.countdown_text = pg.TextItem(color=COUNTDOWN_COLOUR, anchor=(1, 0))
        self.countdown_text.setParentItem(view)
        self.countdown_text.setVisible(False)
        view.sigResized.connect(lambda _v: self._place_countdown())
        plot.addItem(self.countdown_line, ignoreBounds=True)

    def _place_countdown(self) -> None:
        """Top right, its lines wrapped to half the view's width: never cut at its edge."""
        view = self.plot.getViewBox()
        self.countdown_text.textItem.setTextWidth(max(60.0, view.width() / 2))
        self.countdown_text.updateTextPos()
        self.countdown_text.setPos(view.width() - 4, 4)

    def show_onset(self, epoch: int | None) -> None:
        """The onset of overfitting (None hides it)."""
        if epoch:
            self.onset_line.setValue(epoch)
        self.onset_line.setVisible(bool(epoch))

    def show_countdown(self, text: str, stop_epoch: int | None) -> None:
        """Early stopping's live countdown, and where it would stop ("" hides it)."""
        self.countdown_text.setText(text)
        self._place_countdown()
        self.countdown_text.setVisible(bool(text))
        if stop_epoch is not None:
            self.countdown_line.setValue(stop_epoch)
        self.countdown_line.setVisible(bool(text) and stop_epoch is not None)
