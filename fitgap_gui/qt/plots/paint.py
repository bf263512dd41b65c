"""When new epochs reach the curves: at most ~30 paints a second, one plot per step.

``PlotsPanel.add_epoch`` only buffers an epoch and marks its run dirty
(``PaintScheduler.mark``).  A 33 ms single-shot timer then starts a paint: every
epoch that arrived since the last one is handed to the curves, one plot per step,
with a zero-length timer between the steps, so each plot is updated and repainted
in an event of its own and the GUI thread is never held for all four at once (a
hidden plot is updated in passing).  ``flush`` does every step at once, for the
panel's methods that need the curves current (docs/ARCHITECTURE.md, "Performance").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

#: Milliseconds between two paints of new epochs: at most ~30 paints a second.
PAINT_INTERVAL_MS = 33
#: Milliseconds between the plots of one paint.  Each plot gets its new epochs and is
#: repainted in an event of its own, so the GUI thread is never held for all four at
#: once and a timer or a key press can come in between.  Zero: the next plot as soon
#: as the event loop has painted this one (a wait would let the caches go cold).
PLOT_STEP_MS = 0


class PaintTarget(Protocol):
    """What a paint updates: the panel's plots, one at a time."""

    def start_paint(self) -> tuple[bool, int]:
        """A paint begins: (fit y exactly, the last epoch the x axes show)."""
        ...

    def paint_plot(self, name: str, run_ids: list[int], exact: bool, span: int) -> None:
        """Hand the new epochs of ``run_ids`` to the curves of plot ``name``."""
        ...

    def paint_done(self) -> None:
        """Every plot of a paint that had runs to paint is updated."""
        ...


class PaintScheduler(QObject):
    """The paint timer and the paint under way."""

    def __init__(
        self, plots: Mapping[str, QWidget], target: PaintTarget, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.plots = plots
        self.target = target
        #: Runs with epochs not yet handed to their curves (the timer's work).
        self.dirty: set[int] = set()
        #: The paint under way: the plots still to update, one per timer step, with the
        #: runs they update and whether their y ranges are fitted afresh.
        self._plots: list[str] = []
        self._runs: set[int] = set()
        self._exact = False
        self._span = 0
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(PAINT_INTERVAL_MS)
        self.timer.timeout.connect(self.step)

    def mark(self, run_id: int) -> None:
        """Run ``run_id`` has new epochs: a paint within ``PAINT_INTERVAL_MS``."""
        self.dirty.add(run_id)
        if not self.timer.isActive():
            self.timer.start(PAINT_INTERVAL_MS)

    def pending(self) -> bool:
        """Whether epochs are waiting to be handed to the curves (a paint is due)."""
        return bool(self.dirty or self._plots)

    def forget(self, run_id: int) -> None:
        """A run left: nothing of it is painted."""
        self.dirty.discard(run_id)
        self._runs.discard(run_id)

    def cancel(self) -> None:
        """Everything is redrawn at once instead (a view option changed)."""
        self.dirty.clear()
        self._end()

    def flush(self) -> None:
        """Every step of the paint under way, and of a due one, now."""
        self.timer.stop()
        if self.dirty:
            self._begin()
        while self._plots:
            self._paint(self._plots.pop(0))
        self._end()

    def step(self) -> None:
        """The paint timer: the next plot of the paint under way, or a new paint.

        A paint hands every epoch that arrived since the last one to the curves, at
        most ~30 times a second, one plot per step ``PLOT_STEP_MS`` apart; each plot
        repaints between the steps.  Hidden plots are updated in passing.
        """
        if not self._plots:
            if not self.dirty:
                return
            self._begin()
        while self._plots:
            name = self._plots.pop(0)
            self._paint(name)
            if self.plots[name].isVisible():
                break
        if self._plots:
            self.timer.start(PLOT_STEP_MS)
            return
        self._end()
        if self.dirty:  # epochs that came during this paint: the next one, a tick away
            self.timer.start(PAINT_INTERVAL_MS)

    def _begin(self) -> None:
        """A paint of the dirty runs on every plot (restarted if one is under way)."""
        self._plots = list(self.plots)
        self._runs |= self.dirty
        self.dirty.clear()
        exact, self._span = self.target.start_paint()
        self._exact = self._exact or exact

    def _paint(self, name: str) -> None:
        self.target.paint_plot(name, sorted(self._runs), self._exact, self._span)

    def _end(self) -> None:
        was_painting = bool(self._runs)
        self._plots.clear()
        self._runs.clear()
        self._exact = False
        if was_painting:
            self.target.paint_done()
