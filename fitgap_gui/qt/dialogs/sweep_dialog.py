"""Run → Sweep…: choose a validation curve (one lever, its values) or a learning curve.

The dialog only plans: on Run it hands the lever and the parsed values to the
Experiments panel (``start_sweep`` / ``start_learning_curve``), which trains them on
the worker.  Values are prefilled from ``core.experiments.default_values`` and
edited as text ("0, 0.2, 0.4"); a value the config refuses keeps the dialog open
with the message under the field.  ``choose``/``run`` drive it without a mouse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from fitgap_gui.core.config.levers import lever
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.experiments.plans import (
    LEARNING_CURVE_FRACTIONS,
    default_values,
    is_log_scale,
    parse_values,
    sweep_configs,
)

if TYPE_CHECKING:
    from fitgap_gui.qt.panels.experiments_panel import ExperimentsPanel

#: The levers a validation curve can sweep, as (config key, what the user reads).
LEVERS = (
    ("model.dropout", "Dropout"),
    ("model.l2", "L2 weight decay"),
    ("model.l1", "L1 weight decay"),
    ("model.hidden_units", "Hidden units per layer"),
    ("early_stopping.patience", "Early-stopping patience"),
    ("training.learning_rate", "Learning rate"),
    ("training.batch_size", "Batch size"),
)


TOOLTIP = Qt.ItemDataRole.ToolTipRole


def values_text(values: list) -> str:
    return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)


class SweepDialog(QDialog):
    """Validation curve or learning curve, with editable values."""

    def __init__(self, panel: ExperimentsPanel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.panel = panel
        self.setWindowTitle("Sweep")
        self.validation = QRadioButton("Validation curve: one lever, several values")
        self.learning = QRadioButton("Learning curve: more and more training data")
        self.validation.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.validation)
        group.addButton(self.learning)
        self.lever = QComboBox()
        for key, words in LEVERS:
            self.lever.addItem(words, key)
            # The lever's own tooltip, from the one lever table.
            self.lever.setItemData(self.lever.count() - 1, lever(key).tooltip, TOOLTIP)
        self.values = QLineEdit()
        self.values.setToolTip("Comma-separated values, one run each")
        self.fractions = QLineEdit(values_text(LEARNING_CURVE_FRACTIONS))
        self.fractions.setToolTip("Fractions of the training data, from about 0.1 to 1")
        self.scale_note = QLabel("")
        self.error = QLabel("")
        self.error.setStyleSheet("color: #d1495b;")
        self.error.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Lever:", self.lever)
        form.addRow("Values:", self.values)
        form.addRow("", self.scale_note)
        form.addRow("Training fractions:", self.fractions)
        # The Experiments tab's Repeats box, mirrored: one setting, remembered there.
        self.repeats = QSpinBox()
        self.repeats.setRange(panel.repeats_box.minimum(), panel.repeats_box.maximum())
        self.repeats.setSuffix(panel.repeats_box.suffix())
        self.repeats.setToolTip(panel.repeats_box.toolTip())
        self.repeats.setValue(panel.repeats_box.value())
        self.repeats.valueChanged.connect(panel.repeats_box.setValue)
        panel.repeats_box.valueChanged.connect(self.repeats.setValue)
        form.addRow("Repeats per value:", self.repeats)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Run")
        buttons.accepted.connect(self.run)
        buttons.rejected.connect(self.reject)
        column = QVBoxLayout(self)
        column.addWidget(self.validation)
        column.addWidget(self.learning)
        column.addLayout(form)
        column.addWidget(
            QLabel(
                "Every run uses the current settings and data; only this lever changes. "
                "Each value is trained with seeds s, s+1, … (Repeats)."
            )
        )
        column.addWidget(self.error)
        column.addWidget(buttons)

        self.lever.currentIndexChanged.connect(self._prefill)
        self.validation.toggled.connect(self._update_enabled)
        self._prefill()
        self._update_enabled()

    def _prefill(self) -> None:
        param = self.lever.currentData()
        self.values.setText(values_text(default_values(param)))
        self.scale_note.setText("plotted on a log axis" if is_log_scale(param) else "")
        self.error.setText("")

    def _update_enabled(self) -> None:
        on = self.validation.isChecked()
        for widget in (self.lever, self.values, self.scale_note):
            widget.setEnabled(on)
        self.fractions.setEnabled(not on)

    def choose(self, param: str | None, text: str | None = None) -> None:
        """Select a lever (None: the learning curve) and optionally its values' text."""
        if param is None:
            self.learning.setChecked(True)
            if text is not None:
                self.fractions.setText(text)
            return
        self.validation.setChecked(True)
        self.lever.setCurrentIndex(self.lever.findData(param))
        if text is not None:
            self.values.setText(text)

    def run(self) -> bool:
        """Check the values, close and start the sweep; False (dialog stays) on bad input."""
        base = self.panel.controls
        try:
            if self.validation.isChecked():
                param = self.lever.currentData()
                values = parse_values(self.values.text())
                sweep_configs(base.config(), param, values)  # refuse bad values here
            else:
                param = None
                values = [float(v) for v in parse_values(self.fractions.text())]
                sweep_configs(base.config(), "data.train_fraction", values)
        except (FitGapError, TypeError, ValueError) as exc:
            self.error.setText(str(exc))
            return False
        self.accept()
        if param is None:
            return self.panel.start_learning_curve(values)
        return self.panel.start_sweep(param, values)
