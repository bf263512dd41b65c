"""Controls for levers whose value is not one number: a schedule, an optional number, a list.

The controls panel (``controls.py``) builds the data source picker (``SourceCombo``:
Keras's sets usable once cached) and one of these for a lever of kind
``schedule`` (``training.lr_schedule``: a kind plus that kind's own settings, shown
only for the chosen kind), ``optional_float`` (``training.weight_decay``: empty means
null, the optimizer's default) and ``filters`` (``model.conv_filters``: "16, 32").
Each has ``value()``, ``setValue()`` and a ``valueChanged`` signal like a spin box
(``widget_value``, ``show_value`` and ``change_signal`` reach any lever's one widget),
and the text fields check what is typed with the config contract itself
(``RunConfig.replace``), so a bad entry gets the contract's one-line message inline
under the field, and ``value()`` raises that same ConfigError.  Wording and ranges
come from ``core/levers.py``.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRegularExpression, Qt, Signal, SignalInstance
from PySide6.QtGui import QRegularExpressionValidator, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from fitgap_gui.core.config.levers import SCHEDULE_KINDS, SCHEDULE_PARAMS, Lever
from fitgap_gui.core.config.schema import LR_SCHEDULE_KEYS, RunConfig
from fitgap_gui.core.data.readers.keras_cache import source_states
from fitgap_gui.core.errors import ConfigError

_NUMBER_PATTERN = QRegularExpression(r"^\s*[0-9]*\.?[0-9]*([eE][-+]?[0-9]*)?\s*$")
_LIST_PATTERN = QRegularExpression(r"^[\s0-9,]*$")


def parse_numbers(key: str, text: str) -> list[int]:
    """``"16, 32"`` -> ``[16, 32]`` (empty: ``[]``); ConfigError naming ``key`` if not numbers."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        return [int(p) for p in parts]
    except ValueError:
        raise ConfigError(
            f"{key} must be whole numbers separated by commas, not {text!r}"
        ) from None


def parse_label_column(text: str) -> str | int | None:
    """``data.label_column`` as typed: empty lets the reader find it (None), a number is
    a column position, anything else a column name."""
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text


def double_box(lo: float, hi: float, step: float, decimals: int) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(lo, hi)
    box.setSingleStep(step)
    box.setDecimals(decimals)
    box.setKeyboardTracking(False)
    return box


def integer_box(lo: int, hi: int, step: int = 1) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setSingleStep(step)
    box.setKeyboardTracking(False)
    return box


def spin_box(lv: Lever) -> QSpinBox | QDoubleSpinBox:
    """A spin box with the lever's range, step, decimals and tooltip."""
    box: QSpinBox | QDoubleSpinBox
    if lv.kind == "int":
        box = integer_box(int(lv.lo), int(lv.hi), int(lv.step))
    else:
        box = double_box(lv.lo, lv.hi, lv.step, lv.decimals)
        if lv.adaptive:
            box.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
    box.setToolTip(lv.tooltip)
    return box


class SourceCombo(QComboBox):
    """The data source picker: Keras datasets are usable only once they are in the cache.

    The list is re-read each time it opens, since the user may have just put a file
    into ``~/.keras/datasets``.
    """

    def __init__(self) -> None:
        super().__init__()
        for state in source_states():
            self.addItem(state.label, state.name)
        self.refresh()

    def refresh(self) -> None:
        model = self.model()
        for index, state in enumerate(source_states()):
            self.setItemText(index, state.label)
            self.setItemData(index, state.tooltip or None, Qt.ItemDataRole.ToolTipRole)
            item = model.item(index) if isinstance(model, QStandardItemModel) else None
            if item is not None:
                # The current entry stays enabled so a loaded config still shows.
                item.setEnabled(state.ready or index == self.currentIndex())

    def showPopup(self) -> None:
        self.refresh()
        super().showPopup()


def _message_label() -> QLabel:
    """The inline message under a text field: hidden while the text is fine."""
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet("color: #c0392b;")  # the one error colour of a form row
    label.hide()
    return label


class _CheckedLine(QWidget):
    """A line edit whose text the config contract checks as it is typed."""

    valueChanged = Signal()

    def __init__(self, lv: Lever, placeholder: str, pattern: QRegularExpression) -> None:
        super().__init__()
        self.key = lv.key
        self.line = QLineEdit()
        self.line.setPlaceholderText(placeholder)
        self.line.setValidator(QRegularExpressionValidator(pattern, self))
        self.message = _message_label()
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(self.line)
        column.addWidget(self.message)
        self.line.textChanged.connect(self._on_text)

    def _parse(self, text: str) -> Any:
        raise NotImplementedError

    def _text(self, value: Any) -> str:
        raise NotImplementedError

    def value(self) -> Any:
        """The value as the contract has it; ConfigError (the contract's line) if bad."""
        value = self._parse(self.line.text())
        RunConfig().replace({self.key: value})  # the contract's own check and message
        return value

    def setValue(self, value: Any) -> None:
        self.line.setText(self._text(value))

    def error(self) -> str:
        """The contract's message for the text shown, or "" when it is fine."""
        try:
            self.value()
        except ConfigError as exc:
            return str(exc)
        return ""

    def setToolTip(self, text: str) -> None:
        super().setToolTip(text)
        self.line.setToolTip(text)

    def _on_text(self, _text: str) -> None:
        error = self.error()
        self.message.setText(error)
        self.message.setVisible(bool(error))
        self.valueChanged.emit()


class OptionalNumberEdit(_CheckedLine):
    """A number, or empty for null (``training.weight_decay``: the optimizer's default)."""

    def __init__(self, lv: Lever, placeholder: str = "optimizer default") -> None:
        super().__init__(lv, placeholder, _NUMBER_PATTERN)

    def _parse(self, text: str) -> float | None:
        text = text.strip()
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"{self.key} must be a number or empty, not {text!r}") from None

    def _text(self, value: float | None) -> str:
        return "" if value is None else repr(float(value))  # repr: the exact float back


class NumbersEdit(_CheckedLine):
    """Whole numbers separated by commas (``model.conv_filters``: "16, 32")."""

    def __init__(self, lv: Lever, placeholder: str = "e.g. 16, 32") -> None:
        super().__init__(lv, placeholder, _LIST_PATTERN)

    def _parse(self, text: str) -> list[int]:
        return parse_numbers(self.key, text)

    def _text(self, value: list[int]) -> str:
        return ", ".join(str(v) for v in value)


class ScheduleControl(QWidget):
    """The learning-rate schedule: a kind, and that kind's settings only.

    A value shown by ``setValue`` comes back exactly from ``value()`` while its spin box
    is untouched, even where the box rounds it to its decimals for display.
    """

    valueChanged = Signal()

    def __init__(self, lv: Lever) -> None:
        super().__init__()
        self.kind = QComboBox()
        for index, (kind, label, tip) in enumerate(SCHEDULE_KINDS):
            self.kind.addItem(label, kind)
            self.kind.setItemData(index, tip, Qt.ItemDataRole.ToolTipRole)
        self.kind.setToolTip(lv.tooltip)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(self.kind)
        self._form = form
        #: Each kind's spin boxes, by setting name.
        self.boxes: dict[str, dict[str, QSpinBox | QDoubleSpinBox]] = {}
        #: (value set, value the box showed) per box: an untouched box gives back the first.
        self._shown: dict[tuple[str, str], tuple[Any, Any]] = {}
        for kind, params in SCHEDULE_PARAMS.items():
            self.boxes[kind] = {}
            for param in params:
                box = spin_box(param)
                box.valueChanged.connect(self._on_change)
                name = param.key.rsplit(".", 1)[-1]
                self.boxes[kind][name] = box
                form.addRow(param.label, box)
        self.kind.currentIndexChanged.connect(self._on_change)
        self.setValue({"kind": "constant"})

    def setToolTip(self, text: str) -> None:
        super().setToolTip(text)
        self.kind.setToolTip(text)

    def current_kind(self) -> str:
        return str(self.kind.currentData())

    def _on_change(self, *_args: object) -> None:
        self._show_rows()
        self.valueChanged.emit()

    def _show_rows(self) -> None:
        chosen = self.current_kind()
        for kind, boxes in self.boxes.items():
            for box in boxes.values():
                self._form.setRowVisible(box, kind == chosen)

    def value(self) -> dict[str, Any]:
        kind = self.current_kind()
        out: dict[str, Any] = {"kind": kind}
        for name, box in self.boxes[kind].items():
            given, shown = self._shown.get((kind, name), (None, None))
            out[name] = given if given is not None and box.value() == shown else box.value()
        return out

    def setValue(self, value: dict[str, Any]) -> None:
        """Show a schedule; the other kinds' boxes keep their values (or the defaults)."""
        kind = value.get("kind", "constant")
        for name, (default, _check) in LR_SCHEDULE_KEYS[kind].items():
            box = self.boxes[kind][name]
            given = value.get(name, default)
            box.blockSignals(True)
            box.setValue(given)
            box.blockSignals(False)
            self._shown[(kind, name)] = (given, box.value())
        for other, boxes in self.boxes.items():  # never-shown kinds start at their defaults
            for name, box in boxes.items():
                if (other, name) not in self._shown:
                    default = LR_SCHEDULE_KEYS[other][name][0]
                    box.blockSignals(True)
                    box.setValue(default)
                    box.blockSignals(False)
                    self._shown[(other, name)] = (default, box.value())
        self.kind.blockSignals(True)
        self.kind.setCurrentIndex(max(self.kind.findData(kind), 0))
        self.kind.blockSignals(False)
        self._show_rows()
        self.valueChanged.emit()


# -- any lever's one widget: its value and its change signal ----------------------------------
#: Controls whose value is ``value()`` / ``setValue()``.
VALUED = (QSpinBox, QDoubleSpinBox, ScheduleControl, OptionalNumberEdit, NumbersEdit)


def change_signal(widget: QWidget) -> SignalInstance:
    """The one signal that says a control's value changed (a spin box's text is not it)."""
    if isinstance(widget, VALUED):
        return widget.valueChanged
    if isinstance(widget, QComboBox):
        return widget.currentIndexChanged
    if isinstance(widget, QLineEdit):
        return widget.textChanged
    if isinstance(widget, (QCheckBox, QGroupBox)):
        return widget.toggled
    raise TypeError(f"no change signal for a {type(widget).__name__}")


def widget_value(widget: QWidget) -> object:
    """The value a one-widget lever's control shows."""
    if isinstance(widget, (QCheckBox, QGroupBox)):
        return widget.isChecked()
    if isinstance(widget, QComboBox):
        return widget.currentText()
    if isinstance(widget, VALUED):
        return widget.value()
    raise TypeError(f"no value in a {type(widget).__name__}")


def show_value(widget: QWidget, value: Any) -> None:
    """Show ``value`` in a one-widget lever's control."""
    if isinstance(widget, (QCheckBox, QGroupBox)):
        widget.setChecked(bool(value))
    elif isinstance(widget, QComboBox):
        widget.setCurrentText(str(value))
    elif isinstance(widget, VALUED):
        widget.setValue(value)
    else:
        raise TypeError(f"no value in a {type(widget).__name__}")
