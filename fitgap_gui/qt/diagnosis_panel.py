"""The Diagnosis side tab: the verdict on the current run, live, with one-click advice.

``DiagnosisPanel`` keeps the history of the run that is training (from the window's
``epoch_done``), calls ``core.diagnosis.diagnose`` after every epoch and shows the
verdict in large coloured text, the one-line summary, the onset epoch and the
numbers behind it.  When the run ends it shows the diagnosis stored with the run.
Each advice item has an **Apply and run** button: it applies the item's config
changes to the controls and presses Train.  The onset of overfitting is marked on
the loss plot with a line of this module's own (the plots panel is not touched).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ..core.config import RunConfig
from ..core.diagnosis import diagnose
from ..core.errors import FitGapError
from ..core.formatting import format_accuracy_change, format_loss_change
from ..core.results import EpochMetrics, RunResult

if TYPE_CHECKING:
    from .main_window import MainWindow

#: Verdict -> (words shown, colour).  The colours read on light and dark backgrounds.
VERDICT_STYLE = {
    "overfitting": ("Overfitting", "#d1495b"),
    "underfitting": ("Underfitting", "#e08e0b"),
    "good_fit": ("Good fit", "#2e9e5b"),
    "inconclusive": ("Inconclusive", "#8a8f98"),
}
ONSET_COLOUR = "#d1495b"


def _num(value: Any, spec: str = ".4g") -> str:
    return "–" if value is None else format(value, spec)


def numbers_text(numbers: dict[str, Any]) -> list[str]:
    """The numbers behind a verdict as short lines of plain text."""
    lines = []
    best = numbers.get("best_epoch")
    if best is not None:
        lines.append(
            f"Best epoch {best} of {numbers.get('epochs')}"
            f" ({_num(numbers.get('epochs_past_best'), 'd')} epochs past the best)"
        )
    if "gap_at_best" in numbers:
        lines.append(
            f"Gap (val − train loss): {format_loss_change(numbers.get('gap_at_best'))} at the "
            f"best epoch, {format_loss_change(numbers.get('gap_at_last'))} at the last"
        )
    if "accuracy_gap_at_best" in numbers:
        lines.append(
            "Accuracy gap (train − val): "
            f"{format_accuracy_change(numbers.get('accuracy_gap_at_best'))} at the best epoch, "
            f"{format_accuracy_change(numbers.get('accuracy_gap_at_last'))} at the last"
        )
    if "val_loss_slope" in numbers:
        lines.append(
            "Validation loss slope, recent epochs: "
            f"{format_loss_change(numbers['val_loss_slope'])} per epoch"
        )
    stop = numbers.get("would_have_stopped")
    if stop:
        if stop.get("stopped_epoch") is not None and stop["stopped_epoch"] == stop["epochs_run"]:
            lines.append(
                f"Early stopping with patience {stop['patience']} stops this run at epoch "
                f"{stop['stopped_epoch']} (best epoch {stop['best_epoch']})"
            )
        elif stop.get("stopped_epoch") is None:
            lines.append(f"Early stopping with patience {stop['patience']} would not have fired")
        else:
            lines.append(
                f"Early stopping with patience {stop['patience']} would have stopped at epoch "
                f"{stop['stopped_epoch']} and saved {stop['epochs_saved']} epochs"
            )
    return lines


class AdviceItem(QFrame):
    """One piece of advice: title, why, and its Apply and run button."""

    def __init__(self, advice: dict[str, Any], on_apply) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.StyledPanel)
        column = QVBoxLayout(self)
        column.setContentsMargins(6, 4, 6, 4)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.why = QLabel()
        self.why.setWordWrap(True)
        self.button = QPushButton("Apply and run")
        self.button.clicked.connect(lambda: on_apply(self.advice))
        column.addWidget(self.title)
        column.addWidget(self.why)
        column.addWidget(self.button, 0, Qt.AlignmentFlag.AlignLeft)
        self.set_advice(advice)

    def set_advice(self, advice: dict[str, Any]) -> None:
        """Show another advice item in this frame (reused from epoch to epoch)."""
        self.advice = advice
        self.title.setText(f"<b>{advice['title']}</b>")
        self.why.setText(advice["why"])
        changes = ", ".join(f"{k} = {v}" for k, v in advice["changes"].items())
        self.button.setToolTip(f"Set {changes} in the controls and train")


class DiagnosisPanel(QWidget):
    """Verdict, summary, numbers and ranked advice for the run being trained."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.window = window
        self.run_id: int | None = None
        self.config: RunConfig | None = None
        self.n_classes: int | None = None
        self.history: dict[str, list[float]] = {}
        self.diagnosis: dict[str, Any] | None = None
        self.advice_items: list[AdviceItem] = []

        self.verdict = QLabel("No run yet")
        font = self.verdict.font()
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        self.verdict.setFont(font)
        self.summary = QLabel("Train a run: its diagnosis appears here, updated every epoch.")
        self.summary.setWordWrap(True)
        self.numbers = QLabel("")
        self.numbers.setWordWrap(True)
        self.numbers.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.advice_title = QLabel("")
        self.advice_box = QVBoxLayout()
        self.advice_box.setSpacing(6)

        inner = QWidget()
        column = QVBoxLayout(inner)
        for widget in (self.verdict, self.summary, self.numbers, self.advice_title):
            column.addWidget(widget)
        column.addLayout(self.advice_box)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        # The onset of overfitting on the loss plot: our own item, ignored by autoscale.
        self.onset_line = pg.InfiniteLine(
            angle=90,
            pen=pg.mkPen(ONSET_COLOUR, width=2, style=Qt.PenStyle.DotLine),
            label="onset",  # short: the line sits where curves are still steep
            labelOpts={"position": 0.08, "color": ONSET_COLOUR, "anchors": [(0, 1), (0, 1)]},
        )
        self.onset_line.setVisible(False)
        window.plots.plots["loss"].addItem(self.onset_line, ignoreBounds=True)

        window.run_started.connect(self._on_run_started)
        window.dataset_ready.connect(self._on_dataset)
        window.epoch_done.connect(self._on_epoch)
        window.run_finished.connect(self._on_finished)
        window.training_ended.connect(self._update_buttons)

    # -- following the run ---------------------------------------------------------------------
    def _on_run_started(self, run_id: int, config: RunConfig) -> None:
        self.run_id, self.config, self.n_classes = run_id, config, None
        self.history = {}
        self.onset_line.setVisible(False)
        self.show_diagnosis(None)

    def _on_dataset(self, run_id: int, dataset) -> None:
        if run_id == self.run_id:
            self.n_classes = dataset.n_classes

    def _on_epoch(self, run_id: int, metrics: EpochMetrics) -> None:
        if run_id != self.run_id:
            return
        for key, value in metrics.metrics.items():
            self.history.setdefault(key, []).append(value)
        self.show_diagnosis(diagnose(self.history, self.config, n_classes=self.n_classes).to_dict())

    def _on_finished(self, run_id: int, result: RunResult) -> None:
        if run_id != self.run_id:
            return
        diagnosis = result.diagnosis
        if diagnosis is None:  # a failed diagnosis must not hide the last live one
            diagnosis = diagnose(result.history, result.config, n_classes=self.n_classes).to_dict()
        self.show_diagnosis(diagnosis, final=True)

    # -- showing ---------------------------------------------------------------------------------
    def show_diagnosis(self, diagnosis: dict[str, Any] | None, final: bool = False) -> None:
        """Show a diagnosis dict (``Diagnosis.to_dict()``); None: waiting for epochs."""
        self.diagnosis = diagnosis
        if diagnosis is None:
            self._show_advice([])
            self.verdict.setText("Waiting for epochs…")
            self.verdict.setStyleSheet("")
            self.summary.setText(f"Run #{self.run_id}: the verdict appears after a few epochs.")
            self.numbers.setText("")
            self.advice_title.setText("")
            return
        words, colour = VERDICT_STYLE.get(diagnosis["verdict"], (diagnosis["verdict"], ""))
        self.verdict.setText(words)
        self.verdict.setStyleSheet(f"color: {colour};" if colour else "")
        when = "final" if final else "live"
        onset = diagnosis.get("onset_epoch")
        summary = diagnosis["summary"]
        self.summary.setText(
            f"Run #{self.run_id} ({when}): {summary[:1].upper()}{summary[1:]}."
            + (f"<br><b>Onset: epoch {onset}</b>" if onset else "")
        )
        lines = numbers_text(diagnosis.get("numbers") or {})
        self.numbers.setText("".join(f"<p style='margin: 2px 0'>• {line}</p>" for line in lines))
        if onset:
            self.onset_line.setValue(onset)
        self.onset_line.setVisible(bool(onset))
        advice = diagnosis.get("advice") or []
        self.advice_title.setText(
            "<b>What to try</b> (most likely to help first)" if advice else ""
        )
        self._show_advice(advice)
        self._update_buttons()

    def _show_advice(self, advice: list[dict[str, Any]]) -> None:
        # Called every epoch: reuse the frames, create or drop only the difference.
        while len(self.advice_items) > len(advice):
            item = self.advice_items.pop()
            item.setParent(None)
            item.deleteLater()
        for item, data in zip(self.advice_items, advice, strict=False):
            item.set_advice(data)
        for data in advice[len(self.advice_items) :]:
            widget = AdviceItem(data, self.apply_and_run)
            self.advice_box.addWidget(widget)
            self.advice_items.append(widget)

    def _update_buttons(self) -> None:
        # Apply and run starts a run: only when one can start.
        can_run = self.window.engine_loaded() and not self.window.is_training()
        for item in self.advice_items:
            item.button.setEnabled(can_run)

    def verdict_text(self) -> str:
        return self.verdict.text()

    # -- acting ------------------------------------------------------------------------------------
    def apply_and_run(self, advice: dict[str, Any]) -> None:
        """Apply an advice item's changes to the controls' config and train it."""
        try:
            config = self.window.controls.config().replace(advice["changes"])
        except FitGapError as exc:
            self.window.show_error(f"Cannot apply “{advice['title']}”: {exc}")
            return
        self.window.controls.set_config(config)
        self.window.train()


def install(window: MainWindow) -> DiagnosisPanel:
    """Add the Diagnosis side tab to the window."""
    panel = DiagnosisPanel(window)
    window.add_side_tab(panel, "Diagnosis")
    window.diagnosis_panel = panel
    return panel
