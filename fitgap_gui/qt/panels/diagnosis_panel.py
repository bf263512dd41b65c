"""The Diagnosis side tab: the verdict on the run in focus, live, with one-click advice.

``DiagnosisPanel`` follows the live-run model: the run in focus is the one training
(its diagnosis is recomputed by the model after every epoch) or a stored run the
user selected in the Runs tab.  It shows the verdict in large coloured text, the
one-line summary, the onset epoch and the numbers behind it.  Each advice item has
an **Apply and run** button: it applies the item's config changes to the controls
and asks the window to train (``apply_requested``).  The onset epoch goes out as
``onset_changed``; the window draws it on the loss plot.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.formatting import format_accuracy_change, format_loss_change, run_label
from fitgap_gui.core.results.records import EpochMetrics
from fitgap_gui.core.run.live import LiveRun
from fitgap_gui.qt.panels.config_access import ConfigEditor
from fitgap_gui.qt.runtime.live_runs import LiveRuns

#: Verdict -> (words shown, colour).  The colours read on light and dark backgrounds.
VERDICT_STYLE = {
    "overfitting": ("Overfitting", "#d1495b"),
    "underfitting": ("Underfitting", "#e08e0b"),
    "good_fit": ("Good fit", "#2e9e5b"),
    "inconclusive": ("Inconclusive", "#8a8f98"),
}


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
            f"Gap (val − train cross-entropy, nats): {format_loss_change(numbers.get('gap_at_best'))} at the "
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
            "Validation cross-entropy slope, recent epochs: "
            f"{format_loss_change(numbers['val_loss_slope'])} per epoch"
        )
    stop = numbers.get("would_have_stopped")
    if stop and stop.get("patience_from"):
        lines.append(f"Patience {stop['patience']}: {stop['patience_from']}")
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
    """Verdict, summary, numbers and ranked advice for the run in focus."""

    #: The onset epoch of the shown diagnosis (0: none), for the loss plot's line.
    onset_changed = Signal(int)
    #: Apply and run: the config to put into the controls and train.
    apply_requested = Signal(object)
    #: A one-line error for the window to show.
    error = Signal(str)

    def __init__(self, live_runs: LiveRuns, controls: ConfigEditor) -> None:
        super().__init__()
        self.live_runs = live_runs
        #: The controls, only as far as this panel uses them (qt/panels/config_access.py).
        self.controls = controls
        self.run_id: int | None = None
        self.diagnosis: dict[str, Any] | None = None
        self.advice_items: list[AdviceItem] = []
        self._can_train = False

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

        live_runs.focus_changed.connect(self._on_focus)
        live_runs.epoch_appended.connect(self._on_epoch)
        live_runs.run_finished.connect(self._on_finished)
        live_runs.start_failed.connect(self._on_start_failed)

    @property
    def history(self) -> dict[str, list[float | None]]:
        """The history of the run shown (held by the live-run model, not copied here)."""
        run = self.live_runs.get(self.run_id)
        return run.history if run is not None else {}

    # -- following the model -------------------------------------------------------------------
    def _on_focus(self, run: LiveRun | None) -> None:
        if run is None:
            return  # keep what is shown until another run takes the focus
        self.run_id = run.run_id
        self.show_diagnosis(run.diagnosis, final=run.status != "running")

    def _on_epoch(self, run_id: int, _metrics: EpochMetrics) -> None:
        run = self.live_runs.get(run_id)
        if run_id == self.run_id and run is not None:
            self.show_diagnosis(run.diagnosis)

    def _on_finished(self, run_id: int, run: LiveRun) -> None:
        if run_id == self.run_id:
            self.show_diagnosis(run.diagnosis, final=True)

    def _on_start_failed(self, message: str) -> None:
        self.run_id = None
        self.show_diagnosis(None)
        self.verdict.setText("Not started")
        self.summary.setText(f"The run could not start: {message}")

    # -- showing ---------------------------------------------------------------------------------
    def _who(self) -> str:
        """The run shown, as the Runs tab and the status bar name it: "Run 7 (baseline)"."""
        if self.run_id is None:
            return "The run"
        who = run_label(self.run_id, capital=True)
        run = self.live_runs.get(self.run_id)
        if run is not None and run.label != run_label(self.run_id):
            who += f" ({run.label})"
        return who

    def show_diagnosis(self, diagnosis: dict[str, Any] | None, final: bool = False) -> None:
        """Show a diagnosis dict (``Diagnosis.to_dict()``); None: waiting for epochs."""
        self.diagnosis = diagnosis
        if diagnosis is None:
            self._show_advice([])
            self.verdict.setText("Waiting for epochs…")
            self.verdict.setStyleSheet("")
            self.summary.setText(f"{self._who()}: the verdict appears after a few epochs.")
            self.numbers.setText("")
            self.advice_title.setText("")
            self.onset_changed.emit(0)
            return
        words, colour = VERDICT_STYLE.get(diagnosis["verdict"], (diagnosis["verdict"], ""))
        self.verdict.setText(words)
        self.verdict.setStyleSheet(f"color: {colour};" if colour else "")
        when = "final" if final else "live"
        onset = diagnosis.get("onset_epoch")
        summary = diagnosis["summary"]
        self.summary.setText(
            f"{self._who()} ({when}): {summary[:1].upper()}{summary[1:]}."
            + (f"<br><b>Onset: epoch {onset}</b>" if onset else "")
        )
        lines = numbers_text(diagnosis.get("numbers") or {})
        self.numbers.setText("".join(f"<p style='margin: 2px 0'>• {line}</p>" for line in lines))
        self.onset_changed.emit(int(onset or 0))
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

    def set_can_train(self, can: bool) -> None:
        """The window says whether a run can start now (engine loaded, none training)."""
        self._can_train = can
        self._update_buttons()

    def _update_buttons(self) -> None:
        # Apply and run starts a run: only when one can start.
        for item in self.advice_items:
            item.button.setEnabled(self._can_train)

    def verdict_text(self) -> str:
        return self.verdict.text()

    # -- acting ------------------------------------------------------------------------------------
    def apply_and_run(self, advice: dict[str, Any]) -> None:
        """Apply an advice item's changes to the controls' config and ask for a run."""
        try:
            config = self.controls.config().replace(advice["changes"])
        except FitGapError as exc:
            self.error.emit(f"Cannot apply “{advice['title']}”: {exc}")
            return
        self.controls.set_config(config)
        self.apply_requested.emit(config)
