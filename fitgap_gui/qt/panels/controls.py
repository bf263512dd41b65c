"""The controls panel: every lever of a RunConfig, grouped, with tooltips.

The form is built from the lever table (``core/levers.py``): each lever's group,
label, range, step, decimals, tooltip and the data sources it applies to.  Each
widget is then a typed attribute named after its lever (``dropout: QDoubleSpinBox``,
``lr_schedule: ScheduleControl``; ``ControlsPanel._bind``): a lever the table has
and the panel does not name, or a widget of another type, fails when the panel is made.
``ControlsPanel.config()`` builds a RunConfig through ``RunConfig.from_dict``, so the
window refuses exactly what the CLI refuses (with the same one-line message), and
``set_config`` shows any RunConfig.  Spin boxes carry the contract's ranges, so most
bad values cannot even be typed; controls that make no sense for the current choice
(the path without NPZ, patience without early stopping) are disabled, and a row
whose lever does not apply to the chosen data source is hidden.  The levers used
most (``MAIN_LEVERS``) show at the window's default size without scrolling; the rest
fold under "More levers".  The mouse wheel changes a control only when it has focus
(``wheel.guard_wheel``).  Choosing one's own data drops the demo's handicaps
(training fraction, label noise); the Data group says which handicaps are on.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import QPalette, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from fitgap_gui.core.config.levers import (
    GROUPS,
    LEVERS,
    Lever,
    handicap_reset,
    levers_in,
    source_switch,
    subset_words,
)
from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.config.sources import (
    image_sources,
    names,
    own_validation_sources,
    toy_sources,
)
from fitgap_gui.core.config.sources import source as data_source
from fitgap_gui.core.export.summary import handicaps_in_words
from fitgap_gui.qt.panels.lever_controls import (
    NumbersEdit,
    OptionalNumberEdit,
    ScheduleControl,
    SourceCombo,
    change_signal,
    parse_label_column,
    parse_numbers,
    show_value,
    widget_value,
)
from fitgap_gui.qt.panels.lever_controls import double_box as _double
from fitgap_gui.qt.panels.lever_controls import integer_box as _integer
from fitgap_gui.qt.panels.wheel import guard_wheel

TOY_SOURCES = toy_sources()
FILE_SOURCES = names("file")
#: Sources whose samples are images, where augmentation makes sense (an NPZ may be).
IMAGE_SOURCES = image_sources()
#: Sources that may bring their own validation set (validation_fraction applies).
OWN_VALIDATION = own_validation_sources()
#: Placeholders of the text fields (the rest of each lever is in core/levers.py).
PLACEHOLDERS = {
    "data.path": "file or folder",
    "data.label_column": "auto (label, target, class, y)",
    "data.sheet": "the first sheet",
    "model.hidden_units": "e.g. 512, 512 (empty: none)",
}
#: Check boxes whose text differs from the lever's label (the row has no label).
BOX_TEXT = {"model.augment_flip": "Random flips"}


def control_names(lv: Lever) -> tuple[str, ...]:
    """The panel attributes that show a lever (image size has two spin boxes)."""
    if lv.key == "early_stopping.enabled":
        return ("early_stopping",)  # the checkable group box
    if lv.key == "data.image_size":
        return ("image_height", "image_width")
    return (lv.name,)


#: Each control's tooltip, by attribute name (from the lever table).
TIPS = {name: lv.tooltip for lv in LEVERS for name in control_names(lv)}

_HIDDEN_PATTERN = QRegularExpression(r"^\s*(\d{1,5}\s*(,\s*\d{1,5}\s*)*,?\s*)?$")

_W = TypeVar("_W", bound=QWidget)

#: The levers shown while "More levers" is folded: what a lesson on overfitting turns
#: (and the data source's own rows, shown where they apply).  The rest fold away so
#: these fit the window's default size without scrolling.
MAIN_LEVERS = frozenset(
    {
        "data.source",
        "data.path",
        "data.label_column",
        "data.image_size",
        "data.grayscale",
        "data.noise",
        "data.n_samples",
        "data.train_fraction",
        "data.validation_split",
        "data.label_noise",
        "model.hidden_units",
        "model.kind",
        "model.dropout",
        "model.l2",
        "early_stopping.enabled",
        "early_stopping.patience",
        "training.learning_rate",
        "training.epochs",
    }
)


def _note() -> QLabel:
    """A quiet line under a control; hidden while it has nothing to say."""
    label = QLabel()
    label.setWordWrap(True)
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    label.hide()
    return label


def _combo(items: tuple[str, ...]) -> QComboBox:
    box = QComboBox()
    box.addItems(list(items))
    return box


def parse_hidden_units(text: str) -> list[int]:
    """``"512, 512"`` -> ``[512, 512]``; an empty text is no hidden layer."""
    return parse_numbers("model.hidden_units", text)


class _Built:
    """The widgets built from the lever table, by control name: each is handed out once,
    its type checked, as one of the panel's typed attributes."""

    def __init__(self, widgets: dict[str, QWidget]) -> None:
        self._widgets = widgets
        self._left = set(widgets)

    def take(self, name: str, kind: type[_W]) -> _W:
        widget = self._widgets[name]
        if not isinstance(widget, kind):
            raise TypeError(f"{name}'s control is a {type(widget).__name__}, not {kind.__name__}")
        self._left.discard(name)
        return widget

    def check_all_taken(self) -> None:
        if self._left:
            raise TypeError(f"levers without a panel attribute: {', '.join(sorted(self._left))}")


class ControlsPanel(QScrollArea):
    """Every lever of the config contract (core/levers.py), in group boxes in a scroll area.

    The widgets are built from the lever table and each is a typed attribute named
    after its lever (``dropout``, ``lr_schedule``; ``control_names``).
    """

    #: Any lever changed (the window may mark the last run as out of date).
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        # Never a sideways scroll: the form narrows its fields instead.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._setting = False  # set_config is showing a config: no handicap reset
        self._source = "digits"  # the source shown before the latest change
        #: The demo's handicaps, kept while the user's own data is chosen.
        self._demo_handicaps: dict[str, object] = {}
        #: Every lever's widget by control name, as the lever table built them.
        self._widgets: dict[str, QWidget] = {}
        #: Each lever's form row: (its form, the row's field) to show or hide it.
        self._rows: dict[str, tuple[QFormLayout, QWidget | QHBoxLayout]] = {}
        body = QWidget()
        column = QVBoxLayout(body)
        for group in GROUPS:
            column.addWidget(self._group(group))
        self.more_levers = QToolButton()
        self.more_levers.setCheckable(True)
        self.more_levers.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.more_levers.setAutoRaise(True)
        self.more_levers.toggled.connect(lambda _on: self._update_rows())
        column.addWidget(self.more_levers)
        column.addStretch(1)
        self.setWidget(body)
        self._bind(_Built(self._widgets))
        # Wide enough for every row, since there is no sideways scrolling.
        self.setMinimumWidth(
            body.minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width() + 4
        )
        for name, widget in self._widgets.items():
            widget.setToolTip(TIPS[name])
        # Keys this panel has no control for (yet) travel through set_config/config.
        self._base: dict = RunConfig().to_dict()
        self._connect_changes()
        self.source.currentIndexChanged.connect(self._on_source_changed)
        # The user's own choice of network: the window's note about it is stale.
        self.kind.activated.connect(lambda _index: self.network_note.hide())
        self._update_enabled()
        self._update_handicaps_note()
        guard_wheel(self)

    def _bind(self, built: _Built) -> None:
        """Each lever's widget as a typed attribute; a lever without one is an error."""
        take = built.take
        # Data
        self.source = take("source", SourceCombo)
        self.path = take("path", QLineEdit)
        self.label_column = take("label_column", QLineEdit)
        self.sheet = take("sheet", QLineEdit)
        self.missing = take("missing", QComboBox)
        self.max_categories = take("max_categories", QSpinBox)
        self.image_height = take("image_height", QSpinBox)
        self.image_width = take("image_width", QSpinBox)
        self.grayscale = take("grayscale", QCheckBox)
        self.noise = take("noise", QDoubleSpinBox)
        self.n_samples = take("n_samples", QSpinBox)
        self.train_fraction = take("train_fraction", QDoubleSpinBox)
        self.test_split = take("test_split", QDoubleSpinBox)
        self.validation_split = take("validation_split", QDoubleSpinBox)
        self.validation_fraction = take("validation_fraction", QDoubleSpinBox)
        self.label_noise = take("label_noise", QDoubleSpinBox)
        self.scale = take("scale", QComboBox)
        # Capacity
        self.hidden_units = take("hidden_units", QLineEdit)
        self.activation = take("activation", QComboBox)
        self.kind = take("kind", QComboBox)
        self.conv_filters = take("conv_filters", NumbersEdit)
        # Regularization
        self.dropout = take("dropout", QDoubleSpinBox)
        self.l2 = take("l2", QDoubleSpinBox)
        self.weight_decay = take("weight_decay", OptionalNumberEdit)
        self.l1 = take("l1", QDoubleSpinBox)
        self.batch_norm = take("batch_norm", QCheckBox)
        self.augment_flip = take("augment_flip", QCheckBox)
        self.augment_rotation = take("augment_rotation", QDoubleSpinBox)
        self.augment_translation = take("augment_translation", QDoubleSpinBox)
        # Early stopping (the checkable group box is the switch)
        self.early_stopping = take("early_stopping", QGroupBox)
        self.monitor = take("monitor", QComboBox)
        self.patience = take("patience", QSpinBox)
        self.min_delta = take("min_delta", QDoubleSpinBox)
        self.restore_best_weights = take("restore_best_weights", QCheckBox)
        # Training
        self.optimizer = take("optimizer", QComboBox)
        self.learning_rate = take("learning_rate", QDoubleSpinBox)
        self.lr_schedule = take("lr_schedule", ScheduleControl)
        self.batch_size = take("batch_size", QSpinBox)
        self.epochs = take("epochs", QSpinBox)
        self.seed = take("seed", QSpinBox)
        built.check_all_taken()

    def lever_widgets(self) -> dict[str, QWidget]:
        """Every lever's widget by control name (``control_names``), in the form's order."""
        return dict(self._widgets)

    # -- building (from the lever table) -------------------------------------------------------
    def _group(self, title: str) -> QGroupBox:
        group = QGroupBox(title)
        form = QFormLayout(group)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        if title == "Early stopping":
            # A checkable group box disables its children when unchecked: exactly the rule.
            group.setCheckable(True)
            self._widgets["early_stopping"] = group
        for lv in levers_in(title):
            if lv.key == "early_stopping.enabled":
                continue
            row = self._control(lv)
            self._rows[lv.key] = (form, row)
            if isinstance(row, QCheckBox):
                form.addRow(row)
            else:
                form.addRow(lv.label, row)
            if lv.key == "data.train_fraction":
                self.subset_note = _note()  # how many images, where the size is known
                form.addRow(self.subset_note)
            elif lv.key == "model.kind":
                self.network_note = _note()  # why the window changed the network
                form.addRow(self.network_note)
        if title == "Data":
            # Says which handicaps are on, so none trains unseen on the user's data.
            self.handicaps_note = QLabel()
            self.handicaps_note.setWordWrap(True)
            self.handicaps_note.setForegroundRole(QPalette.ColorRole.PlaceholderText)
            form.addRow(self.handicaps_note)
        return group

    def _control(self, lv: Lever) -> QWidget | QHBoxLayout:
        """The widget (or row of widgets) for one lever, kept by its ``control_names``."""
        widget: QWidget
        if lv.kind == "path":
            path = QLineEdit()
            path.setPlaceholderText(PLACEHOLDERS[lv.key])
            self._widgets[lv.name] = path
            self.browse = QPushButton("Browse…")
            self.browse.clicked.connect(self._choose_file)
            row = QHBoxLayout()
            row.setContentsMargins(0, 0, 0, 0)
            row.addWidget(path, 1)
            row.addWidget(self.browse)
            return row
        if lv.kind == "size":
            row = QHBoxLayout()
            row.setContentsMargins(0, 0, 0, 0)
            for index, name in enumerate(control_names(lv)):
                if index:
                    row.addWidget(QLabel("×"))
                spin = self._widgets[name] = _integer(int(lv.lo), int(lv.hi), int(lv.step))
                row.addWidget(spin)
            return row
        if lv.kind == "source":
            widget = SourceCombo()
        elif lv.kind in ("schedule", "optional_float", "filters"):
            kinds = {"schedule": ScheduleControl, "optional_float": OptionalNumberEdit}
            widget = kinds.get(lv.kind, NumbersEdit)(lv)
            widget.setValue(RunConfig().get(lv.key))  # a valid value before any config
        elif lv.kind == "float":
            box = _double(lv.lo, lv.hi, lv.step, lv.decimals)
            if lv.adaptive:
                box.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
            widget = box
        elif lv.kind == "int":
            widget = _integer(int(lv.lo), int(lv.hi), int(lv.step))
        elif lv.kind == "choice":
            widget = _combo(lv.choices)
        elif lv.kind == "bool":
            widget = QCheckBox(BOX_TEXT.get(lv.key, lv.label))
        else:  # "text", "units"
            line = QLineEdit()
            line.setPlaceholderText(PLACEHOLDERS[lv.key])
            if lv.kind == "units":
                line.setValidator(QRegularExpressionValidator(_HIDDEN_PATTERN, self))
            widget = line
        self._widgets[lv.name] = widget
        return widget

    def _connect_changes(self) -> None:
        for widget in self._widgets.values():
            change_signal(widget).connect(self._on_change)

    def _on_change(self, *_args) -> None:
        self._update_enabled()
        self._update_handicaps_note()
        self.changed.emit()

    def _update_handicaps_note(self) -> None:
        words = subset_words(
            self.source.currentData(),
            self.train_fraction.value(),
            self.validation_fraction.value(),
            self.validation_split.value(),
        )
        self.subset_note.setText(words)
        self.subset_note.setVisible(bool(words))
        on = handicaps_in_words(self.train_fraction.value(), self.label_noise.value())
        self.handicaps_note.setText(
            "Handicaps on: " + ", ".join(on) + "."
            if on
            else "No handicaps: every training row, labels as they are."
        )

    def _on_source_changed(self, _index: int) -> None:
        """The demo's handicaps stay with the built-in sets, never with the user's data."""
        new = self.source.currentData()
        old, self._source = self._source, new
        if self._setting or new is None:
            return
        reset = handicap_reset(old, new)
        if reset:
            self._remember_demo_handicaps()
            self.train_fraction.setValue(reset["data.train_fraction"])
            self.label_noise.setValue(reset["data.label_noise"])
        elif handicap_reset(new, old) and self._demo_handicaps:
            # Back from one's own data to a built-in set: the demo as it was.
            self.train_fraction.setValue(self._demo_handicaps["data.train_fraction"])
            self.label_noise.setValue(self._demo_handicaps["data.label_noise"])
        self._pick_network_and_subset(old, new)

    def _pick_network_and_subset(self, old: str, new: str) -> None:
        """The CNN for Keras's image sets, the MLP off images, CIFAR-10's subset."""
        changes, note = source_switch(
            old,
            new,
            self.kind.currentText(),
            self.train_fraction.value(),
            self.validation_fraction.value(),
        )
        self.kind.setCurrentText(changes["model.kind"])
        if "data.train_fraction" in changes:
            self.train_fraction.setValue(changes["data.train_fraction"])
        if "data.validation_fraction" in changes:
            self.validation_fraction.setValue(changes["data.validation_fraction"])
        self.network_note.setText(note)
        self.network_note.setVisible(bool(note))

    def _remember_demo_handicaps(self) -> None:
        """Keep the demo's handicaps, to put back when the user returns to a built-in set."""
        self._demo_handicaps = {
            "data.train_fraction": self.train_fraction.value(),
            "data.label_noise": self.label_noise.value(),
        }

    def _update_enabled(self) -> None:
        """A control is enabled only where its lever applies to the chosen source."""
        source = self.source.currentData()
        # Only levers tied to sources: early stopping's own group box enables the rest.
        for lv in LEVERS:
            if lv.sources is not None:
                for name in control_names(lv):
                    self._widgets[name].setEnabled(lv.applies_to(source))
        # Conv filters mean something only to the CNN.
        self.conv_filters.setEnabled(self.kind.isEnabled() and self.kind.currentText() == "cnn")
        self.browse.setEnabled(source in FILE_SOURCES)
        self._update_rows()

    def _update_rows(self) -> None:
        """Show a lever's row where it applies to the source, and, while "More levers"
        is folded, only the main ones."""
        source = self.source.currentData()
        more = self.more_levers.isChecked()
        folded = 0
        for lv in LEVERS:
            if lv.key not in self._rows:
                continue
            form, row = self._rows[lv.key]
            applies = lv.sources is None or lv.applies_to(source)
            main = lv.key in MAIN_LEVERS
            folded += applies and not main
            form.setRowVisible(row, applies and (more or main))
        self.more_levers.setArrowType(Qt.ArrowType.DownArrow if more else Qt.ArrowType.RightArrow)
        self.more_levers.setText("Fewer levers" if more else f"More levers ({folded} more)")

    def enable_only(self, allowed: Callable[[str], bool] | None) -> None:
        """Enable only the levers whose key ``allowed`` accepts (a paused run: those a
        branch may change); None puts back the usual enabling."""
        stopping = self.early_stopping.isChecked()
        for lv in LEVERS:
            on = allowed is None or allowed(lv.key)
            if lv.group == "Early stopping" and lv.key != "early_stopping.enabled":
                on = on and stopping  # an unchecked group box keeps its rows off
            for name in control_names(lv):
                self._widgets[name].setEnabled(on)
        if allowed is None:
            self._update_enabled()
        else:
            self.browse.setEnabled(False)

    def _choose_file(self) -> None:
        source = self.source.currentData()
        if source == "images":
            path = QFileDialog.getExistingDirectory(
                self, "Choose a folder with one sub-folder per class", self.path.text()
            )
        else:
            kinds = {"npz": "NumPy archives (*.npz)", "csv": "CSV files (*.csv *.txt)"}
            path, _ = QFileDialog.getOpenFileName(
                self, "Choose the data file", self.path.text(), kinds.get(source, "")
            )
        if path:
            self.path.setText(path)

    # -- the contract ------------------------------------------------------------------------
    def _read(self, lv: Lever) -> object:
        """The value a lever's control shows, as the config contract spells it."""
        if lv.kind == "source":
            return self.source.currentData()
        if lv.kind == "path":
            return self.path.text().strip() or None
        if lv.kind == "size":
            return [self.image_height.value(), self.image_width.value()]
        if lv.kind == "units":
            return parse_hidden_units(self.hidden_units.text())
        if lv.kind == "text" and lv.key == "data.sheet":
            return self.sheet.text().strip() or None
        if lv.kind == "text":
            return parse_label_column(self.label_column.text())
        if lv.kind == "filters" and self.kind.currentText() != "cnn" and self.conv_filters.error():
            # Unused by an MLP: a half-typed list must not block the run.
            return self._base[lv.section][lv.name]
        (name,) = control_names(lv)
        return widget_value(self._widgets[name])

    def _write(self, lv: Lever, value: Any) -> None:
        if lv.kind == "source":
            self.source.setCurrentIndex(max(self.source.findData(value), 0))
            self.source.refresh()
        elif lv.kind == "path":
            self.path.setText(str(value or ""))
        elif lv.kind == "size":
            self.image_height.setValue(value[0])
            self.image_width.setValue(value[1])
        elif lv.kind == "units":
            self.hidden_units.setText(", ".join(str(u) for u in value))
        elif lv.kind == "text":
            line = self.sheet if lv.key == "data.sheet" else self.label_column
            line.setText("" if value is None else str(value))
        else:
            (name,) = control_names(lv)
            show_value(self._widgets[name], value)

    def config(self) -> RunConfig:
        """The RunConfig the controls show; raises ConfigError naming a bad lever."""
        source = self.source.currentData()
        merged = copy.deepcopy(self._base)
        for lv in LEVERS:
            merged[lv.section][lv.name] = self._read(lv)
        if source not in FILE_SOURCES:
            merged["data"]["path"] = None  # a leftover path must not travel with digits
        if source not in OWN_VALIDATION:  # splits itself: a fraction would be refused
            merged["data"]["validation_fraction"] = 1.0
        if source not in IMAGE_SOURCES:  # augmentation would be refused on these
            merged["model"].update(
                augment_flip=False, augment_rotation=0.0, augment_translation=0.0
            )
        return RunConfig.from_dict(merged)

    def set_config(self, config: RunConfig) -> None:
        """Show ``config`` in the controls (values outside a box's range are clamped)."""
        self._base = config.to_dict()
        if handicap_reset(self._source, config.data.source):
            self._remember_demo_handicaps()  # e.g. File → Open data on top of the demo
        elif not data_source(config.data.source).own_data:
            self._demo_handicaps = {}  # a built-in set's config brings its own
        self._setting = True
        try:
            for lv in LEVERS:
                self._write(lv, config.get(lv.key))
        finally:
            self._setting = False
        self._source = config.data.source
        self.network_note.hide()  # a shown config's network is its own choice
        self._update_enabled()
        self._update_handicaps_note()
