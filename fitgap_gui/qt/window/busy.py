"""A busy indicator in the status bar while FitGap works without epochs to count.

Two waits have no progress to show: importing TensorFlow after the window opens,
and loading the data and building the model between Train and the first epoch.
During both an indeterminate progress bar runs at the right of the status bar
and the message says what is happening; Stop (Esc) cancels a run that is still
loading its data.
"""

from __future__ import annotations

from PySide6.QtWidgets import QProgressBar

from fitgap_gui.core.formatting import run_label
from fitgap_gui.core.run.live import LiveRun
from fitgap_gui.qt.window.host import BusyHost


class BusyIndicator:
    """Shows the status bar's busy bar from engine start or run start to the first epoch."""

    def __init__(self, host: BusyHost) -> None:
        self.host = host
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # indeterminate: a moving block
        self.bar.setMaximumWidth(140)
        self.bar.setMaximumHeight(14)
        self.bar.setTextVisible(False)
        self.bar.setToolTip("FitGap is loading; this takes a few seconds")
        host.statusBar().addPermanentWidget(self.bar)
        self._waiting_run: int | None = None
        self.bar.setVisible(not host.engine_loaded())
        host.engine_ready.connect(self._idle)
        host.live_runs.run_added.connect(self._on_run_added)
        host.live_runs.dataset_ready.connect(self._on_dataset)
        host.live_runs.epoch_appended.connect(self._on_epoch)
        host.training_ended.connect(self._idle)
        host.error_shown.connect(lambda _message: self._idle())

    def is_busy(self) -> bool:
        return not self.bar.isHidden()

    def _on_run_added(self, run: LiveRun) -> None:
        if run.origin != "live":
            return
        run_id = self._waiting_run = run.run_id
        self.bar.setVisible(True)
        self.host.statusBar().showMessage(
            f"{run_label(run_id, capital=True)}: loading data… (Esc stops)"
        )

    def _on_dataset(self, run_id: int, dataset) -> None:
        if run_id == self._waiting_run:
            self.host.statusBar().showMessage(
                f"{run_label(run_id, capital=True)}: {len(dataset.x_train)} training and {len(dataset.x_val)} "
                f"validation samples of {dataset.name}; building the model and training "
                "the first epoch…"
            )

    def _on_epoch(self, run_id: int, _metrics) -> None:
        if run_id == self._waiting_run:
            self._waiting_run = None
            self.bar.setVisible(False)

    def _idle(self) -> None:
        self._waiting_run = None
        self.bar.setVisible(False)
