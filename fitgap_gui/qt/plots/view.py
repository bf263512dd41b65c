"""What a run's curves, markers and bands need of the panel that holds them.

``PlotsPanel`` (plots.py) is the one implementation.  The parts it is made of take
this narrow view of it instead of the panel's class, so none of them imports
plots.py and plots.py imports them all: one direction, no cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import pyqtgraph as pg

from fitgap_gui.qt.plots.plot_items import FrozenLayer
from fitgap_gui.qt.plots.theme import PlotTheme


class PlotsView(Protocol):
    """The plots, their cached layers and the view options every run is drawn under."""

    #: The four plots by name ("loss", "accuracy", "gap", "lr"), in layout order.
    plots: Mapping[str, pg.PlotWidget]
    #: The cached layer of frozen (finished and stored) runs of each plot.
    layers: Mapping[str, FrozenLayer]
    theme: PlotTheme
    #: TensorBoard-style smoothing weight (0: raw curves only).
    smoothing: float
    #: Draw Keras's running-mean training loss and accuracy too (View option).
    keras_running: bool

    @property
    def log_y(self) -> bool:
        """Whether the loss plot has a log-scale y axis."""
        ...

    def x_span(self) -> int:
        """The last epoch the x axes show."""
        ...

    def layer_of(self, plot: pg.PlotWidget) -> FrozenLayer:
        """The cached layer of frozen curves on ``plot``."""
        ...
