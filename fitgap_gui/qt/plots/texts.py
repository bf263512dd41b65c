"""What the plots panel says: plot titles, the key row above the plots, empty plots' texts.

One key row above the plots names the line styles and each run shown (a swatch in
its colour, faint for a faint run) and each experiment arm drawn as a band, so no
legend inside a plot covers a curve or a "best" label.  With no run yet, each plot
says in its middle what will appear in it.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor

from fitgap_gui.qt.plots.bands import ArmBand
from fitgap_gui.qt.plots.curves import FAINT_OPACITY, RunCurves
from fitgap_gui.qt.plots.theme import PlotTheme

#: (title, y-axis label) of each plot.
TITLES = {
    "loss": ("Loss", "cross-entropy (nats)"),
    "accuracy": ("Accuracy", "accuracy"),
    # pyqtgraph makes a title's width the plot's minimum width: a longer title
    # pushed the gap plot past the panel's edge and cut off its right side.
    "gap": (
        "Gap: val − train loss (solid), train − val accuracy (dotted)",
        "nats · fraction",  # which is which: the title (solid, dotted)
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
    "loss": "Press Train (Ctrl+R): training and validation loss will appear here, epoch by epoch",
    "accuracy": "Training and validation accuracy will appear here, epoch by epoch",
    "gap": "The gap between validation and training will appear here: "
    "when it opens up, the network is memorizing the training data",
    "lr": "The learning rate of each epoch will appear here, on a log scale",
}


def blend(colour: str, background: str, alpha: int) -> str:
    """``colour`` at ``alpha`` over ``background``, as one opaque colour (for text)."""
    front, back, a = QColor(colour), QColor(background), alpha / 255
    mixed = [
        round(f * a + b * (1 - a))
        for f, b in zip(front.getRgb()[:3], back.getRgb()[:3], strict=True)
    ]
    return QColor(*mixed).name()


def key_html(theme: PlotTheme, runs: Iterable[RunCurves], bands: Iterable[ArmBand]) -> str:
    """The key row: the line styles, then a swatch and the name of each run shown."""
    parts = [f'<span style="color:{theme.foreground}">{html.escape(KEY)}</span>']
    for curves in runs:
        if not curves.visible:
            continue
        colour, text = curves.colour, theme.foreground
        if curves.faint:
            colour = blend(colour, theme.background, round(FAINT_OPACITY * 255))
            text = blend(text, theme.background, 150)
        parts.append(
            f'<span style="color:{colour}"><b>━━</b></span>&nbsp;'
            f'<span style="color:{text}">{html.escape(curves.label).replace(" ", "&nbsp;")}'
            "</span>"
        )
    shown = [band for band in bands if band.visible]
    if shown:
        seeds = sorted({band.n for band in shown})
        parts.append(
            f'<span style="color:{theme.foreground}">line: mean of an arm\'s runs, '
            f"shaded band: min–max of {'/'.join(map(str, seeds))} seeds</span>"
        )
    for band in shown:
        parts.append(
            f'<span style="color:{band.colour}"><b>▬▬</b></span>&nbsp;'
            f'<span style="color:{theme.foreground}">'
            f"{html.escape(band.label).replace(' ', '&nbsp;')}</span>"
        )
    return "&nbsp;&nbsp;&nbsp; ".join(parts)


def empty_text(plot: pg.PlotWidget) -> pg.TextItem:
    """The line an empty plot shows in its middle (its words: ``style_empty_text``)."""
    text = pg.TextItem(anchor=(0.5, 0.5))
    view = plot.getViewBox()
    text.setParentItem(view)  # view-box pixels: centred whatever the axes show
    text.setZValue(20)

    def centre(*_args: object) -> None:
        rect = view.boundingRect()
        text.setTextWidth(max(rect.width() * 0.8, 100))
        text.setPos(QPointF(rect.center()))

    view.sigResized.connect(centre)
    centre()
    return text


def style_empty_text(text: pg.TextItem, name: str, theme: PlotTheme) -> None:
    """What empty plot ``name`` says, in ``theme``'s colours."""
    text.setColor(theme.axis)
    text.setHtml(
        f'<div style="text-align:center; color:{theme.axis}; font-size:10pt">'
        f"{html.escape(EMPTY[name])}</div>"
    )
