"""The controls panel: every lever of a RunConfig, grouped, with tooltips.

``ControlsPanel.config()`` builds a RunConfig through ``RunConfig.from_dict``, so the
window refuses exactly what the CLI refuses (with the same one-line message), and
``set_config`` shows any RunConfig.  Spin boxes carry the contract's ranges, so most
bad values cannot even be typed; controls that make no sense for the current choice
(the path without NPZ, patience without early stopping) are disabled.
"""

from __future__ import annotations

import copy

from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator
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
    QVBoxLayout,
    QWidget,
)

from ..core.config import ACTIVATIONS, MONITORS, OPTIMIZERS, SCALES, RunConfig
from ..core.errors import ConfigError

#: What the source picker offers: (label, data.source).
SOURCES = [
    ("digits (8x8 images)", "digits"),
    ("moons (2-D)", "moons"),
    ("circles (2-D)", "circles"),
    ("spirals (2-D)", "spirals"),
    ("xor (2-D)", "xor"),
    ("MNIST (Keras cache)", "mnist"),
    ("Fashion-MNIST (Keras cache)", "fashion_mnist"),
    ("CIFAR-10 (Keras cache)", "cifar10"),
    ("NPZ file…", "npz"),
    ("CSV file…", "csv"),
    ("Image folder…", "images"),
]
TOY_SOURCES = ("moons", "circles", "spirals", "xor")
FILE_SOURCES = ("npz", "csv", "images")
#: Sources whose samples are images, where augmentation makes sense (an NPZ may be).
IMAGE_SOURCES = ("digits", "mnist", "fashion_mnist", "cifar10", "images", "npz")

TIPS = {
    "source": "What to learn. digits is small enough to overfit in seconds; the 2-D toy "
    "sets show the gap with a noise level you choose; an NPZ file holds your own "
    "pre-split arrays (x_train, y_train, x_val, y_val).",
    "path": "The data file or folder: an NPZ with keys x_train, y_train, x_val, y_val "
    "(integer labels), a CSV with a label column, or a folder with one sub-folder per class.",
    "label_column": "CSV only: the column that holds the class, by name or 0-based number "
    "(empty: a column called label, target, class or y).",
    "image_height": "Image folders only: every image is resized to this height (pixels). "
    "Smaller images train faster and give the network less to memorize. Typical 16-64.",
    "image_width": "Image folders only: every image is resized to this width (pixels). "
    "Typical 16-64.",
    "grayscale": "Image folders only: read images as one grey channel (a third of the inputs).",
    "noise": "Noise of the 2-D toy set. More noise makes the classes overlap, so a big "
    "network memorizes noise and overfits. Typical 0.1-0.5.",
    "n_samples": "How many points the 2-D toy set draws (before the split). Fewer points "
    "overfit sooner. Typical 200-2000.",
    "train_fraction": "Share of the training rows the model may learn from. Less data is "
    "the quickest way to overfit; more data is the surest cure. Typical 0.1-1.0.",
    "validation_split": "Share of the data held out to measure the gap (ignored for a "
    "pre-split NPZ file). Typical 0.1-0.3.",
    "label_noise": "Share of training labels flipped to a wrong class. A network that fits "
    "them has memorized noise: validation loss rises. Typical 0-0.3.",
    "scale": "Input scaling, fitted on the training rows only. Scaled inputs train more "
    "smoothly; it does not by itself prevent overfitting.",
    "hidden_units": "Width of each hidden layer, comma-separated, e.g. 512, 512 (empty: no "
    "hidden layer). More units and layers mean more capacity to memorize; shrink "
    "them to fight overfitting. Typical 16-512 per layer, 1-3 layers.",
    "activation": "The hidden layers' activation. relu is the usual choice; it changes "
    "how fast training goes more than how much it overfits.",
    "dropout": "Keras Dropout after each hidden layer: drops this share of units at "
    "random while training, so the network cannot rely on any one of them. "
    "Typical 0.2-0.5.",
    "l2": "L2 weight penalty on the hidden layers' kernels (keras.regularizers.l2): "
    "keeps weights small and the fit smooth. Typical 1e-5 to 1e-2.",
    "augment_flip": "Image data only: Keras RandomFlip (horizontal) while training. Every "
    "epoch sees slightly different images, so memorizing them is harder.",
    "augment_rotation": "Image data only: Keras RandomRotation factor (a fraction of a full "
    "turn) while training. Typical 0.02-0.1.",
    "augment_translation": "Image data only: Keras RandomTranslation factor (a fraction of the "
    "image size) while training. Typical 0.05-0.15.",
    "l1": "L1 weight penalty on the hidden layers' kernels (keras.regularizers.l1): "
    "drives many weights to exactly zero. Typical 1e-6 to 1e-3.",
    "early_stopping": "Keras EarlyStopping: stop when the monitored metric has not "
    "improved for 'patience' epochs, before the network memorizes the training set.",
    "monitor": "The metric early stopping watches and the best epoch is marked by. "
    "val_loss is the usual choice.",
    "patience": "Epochs without improvement before stopping. Short patience stops near "
    "the gap's onset; long patience tolerates noisy curves. Typical 3-20.",
    "min_delta": "The smallest change that counts as an improvement. Typical 0-0.001.",
    "restore_best_weights": "At the end, put back the weights of the best epoch instead "
    "of keeping the last epoch's (overfitted) ones.",
    "optimizer": "The optimizer. adam is a robust default; plain sgd overfits more slowly.",
    "learning_rate": "Step size. Too high diverges; lower rates overfit more slowly but "
    "do not stop it. Typical 1e-4 to 1e-2 for adam.",
    "batch_size": "Samples per gradient step. Small batches add noise that regularizes a "
    "little. Typical 16-256.",
    "epochs": "The most epochs to train. The gap usually opens after some epochs; "
    "training longer shows it, early stopping cuts it. Typical 20-200.",
    "seed": "Random seed: the same seed and settings give the same run, so a lever's "
    "effect is not confused with chance.",
}

_HIDDEN_PATTERN = QRegularExpression(r"^\s*(\d{1,5}\s*(,\s*\d{1,5}\s*)*,?\s*)?$")


def _double(lo: float, hi: float, step: float, decimals: int) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(lo, hi)
    box.setSingleStep(step)
    box.setDecimals(decimals)
    box.setKeyboardTracking(False)
    return box


def _integer(lo: int, hi: int, step: int = 1) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setSingleStep(step)
    box.setKeyboardTracking(False)
    return box


def _combo(items: tuple[str, ...]) -> QComboBox:
    box = QComboBox()
    box.addItems(list(items))
    return box


def _label_column(text: str) -> str | int | None:
    """Empty: let the reader find it; a number is a column position; else a name."""
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text


def parse_hidden_units(text: str) -> list[int]:
    """``"512, 512"`` -> ``[512, 512]``; an empty text is no hidden layer."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        return [int(p) for p in parts]
    except ValueError:
        raise ConfigError(
            f"model.hidden_units must be whole numbers separated by commas, not {text!r}"
        ) from None


class ControlsPanel(QScrollArea):
    """Every lever of the config contract, in group boxes inside a scroll area."""

    #: Any lever changed (the window may mark the last run as out of date).
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        # Never a sideways scroll: the form narrows its fields instead.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        column = QVBoxLayout(body)
        column.addWidget(self._data_group())
        column.addWidget(self._capacity_group())
        column.addWidget(self._regularization_group())
        column.addWidget(self._early_stopping_group())
        column.addWidget(self._training_group())
        column.addStretch(1)
        self.setWidget(body)
        # Wide enough for every row, since there is no sideways scrolling.
        self.setMinimumWidth(
            body.minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width() + 4
        )
        for name, widget in self._levers().items():
            widget.setToolTip(TIPS[name])
        # Keys this panel has no control for (yet) travel through set_config/config.
        self._base: dict = RunConfig().to_dict()
        self._connect_changes()
        self._update_enabled()

    # -- building ---------------------------------------------------------------------------
    def _form(self, title: str) -> tuple[QGroupBox, QFormLayout]:
        group = QGroupBox(title)
        form = QFormLayout(group)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        return group, form

    def _data_group(self) -> QGroupBox:
        group, form = self._form("Data")
        self.source = QComboBox()
        for label, source in SOURCES:
            self.source.addItem(label, source)
        self.path = QLineEdit()
        self.path.setPlaceholderText("file or folder")
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._choose_file)
        path_row = QHBoxLayout()
        path_row.setContentsMargins(0, 0, 0, 0)
        path_row.addWidget(self.path, 1)
        path_row.addWidget(self.browse)
        self.noise = _double(0.0, 5.0, 0.05, 2)
        self.n_samples = _integer(20, 1_000_000, 100)
        self.train_fraction = _double(0.01, 1.0, 0.05, 2)
        self.validation_split = _double(0.05, 0.95, 0.05, 2)
        self.label_noise = _double(0.0, 0.95, 0.05, 2)
        self.scale = _combo(SCALES)
        self.label_column = QLineEdit()
        self.label_column.setPlaceholderText("auto (label, target, class, y)")
        self.image_height = _integer(4, 1024, 4)
        self.image_width = _integer(4, 1024, 4)
        self.grayscale = QCheckBox("Grayscale")
        size_row = QHBoxLayout()
        size_row.setContentsMargins(0, 0, 0, 0)
        size_row.addWidget(self.image_height)
        size_row.addWidget(QLabel("×"))
        size_row.addWidget(self.image_width)
        form.addRow("Source", self.source)
        form.addRow("File", path_row)
        form.addRow("Label column", self.label_column)
        form.addRow("Image size", size_row)
        form.addRow("", self.grayscale)
        form.addRow("Toy-set noise", self.noise)
        form.addRow("Toy-set samples", self.n_samples)
        form.addRow("Training fraction", self.train_fraction)
        form.addRow("Validation split", self.validation_split)
        form.addRow("Label noise", self.label_noise)
        form.addRow("Scale inputs", self.scale)
        return group

    def _capacity_group(self) -> QGroupBox:
        group, form = self._form("Capacity")
        self.hidden_units = QLineEdit()
        self.hidden_units.setValidator(QRegularExpressionValidator(_HIDDEN_PATTERN, self))
        self.hidden_units.setPlaceholderText("e.g. 512, 512 (empty: none)")
        self.activation = _combo(ACTIVATIONS)
        form.addRow("Hidden units", self.hidden_units)
        form.addRow("Activation", self.activation)
        return group

    def _regularization_group(self) -> QGroupBox:
        group, form = self._form("Regularization")
        self.dropout = _double(0.0, 0.95, 0.05, 2)
        self.l2 = _double(0.0, 10.0, 1e-4, 6)
        self.l1 = _double(0.0, 10.0, 1e-5, 6)
        for box in (self.l2, self.l1):
            box.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self.augment_flip = QCheckBox("Random flips")
        self.augment_rotation = _double(0.0, 0.5, 0.01, 3)
        self.augment_translation = _double(0.0, 0.5, 0.01, 3)
        form.addRow("Dropout rate", self.dropout)
        form.addRow("L2", self.l2)
        form.addRow("L1", self.l1)
        form.addRow("Augment", self.augment_flip)
        form.addRow("Rotation", self.augment_rotation)
        form.addRow("Translation", self.augment_translation)
        return group

    def _early_stopping_group(self) -> QGroupBox:
        # A checkable group box disables its children when unchecked: exactly the rule.
        group, form = self._form("Early stopping")
        group.setCheckable(True)
        self.early_stopping = group
        self.monitor = _combo(MONITORS)
        self.patience = _integer(0, 100_000)
        self.min_delta = _double(0.0, 1e6, 1e-4, 5)
        self.restore_best_weights = QCheckBox("Restore best weights")
        form.addRow("Monitor", self.monitor)
        form.addRow("Patience (epochs)", self.patience)
        form.addRow("Min delta", self.min_delta)
        form.addRow(self.restore_best_weights)
        return group

    def _training_group(self) -> QGroupBox:
        group, form = self._form("Training")
        self.optimizer = _combo(OPTIMIZERS)
        self.learning_rate = _double(1e-6, 10.0, 1e-4, 6)
        self.learning_rate.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self.batch_size = _integer(1, 65536, 16)
        self.epochs = _integer(1, 100_000, 10)
        self.seed = _integer(0, 2**31 - 1)
        form.addRow("Optimizer", self.optimizer)
        form.addRow("Learning rate", self.learning_rate)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Epochs", self.epochs)
        form.addRow("Seed", self.seed)
        return group

    def _levers(self) -> dict[str, QWidget]:
        return {name: getattr(self, name) for name in TIPS}

    def _connect_changes(self) -> None:
        for widget in self._levers().values():
            for signal_name in ("valueChanged", "currentIndexChanged", "textChanged", "toggled"):
                signal = getattr(widget, signal_name, None)
                if signal is not None:
                    signal.connect(self._on_change)
                    break  # one signal per widget: a spin box also has textChanged

    def _on_change(self, *_args) -> None:
        self._update_enabled()
        self.changed.emit()

    def _update_enabled(self) -> None:
        source = self.source.currentData()
        is_file = source in FILE_SOURCES
        self.path.setEnabled(is_file)
        self.browse.setEnabled(is_file)
        self.noise.setEnabled(source in TOY_SOURCES)
        self.n_samples.setEnabled(source in TOY_SOURCES)
        # A pre-split NPZ file brings its own validation set.
        self.validation_split.setEnabled(source != "npz")
        self.label_column.setEnabled(source == "csv")
        for widget in (self.image_height, self.image_width, self.grayscale):
            widget.setEnabled(source == "images")
        for widget in (self.augment_flip, self.augment_rotation, self.augment_translation):
            widget.setEnabled(source in IMAGE_SOURCES)

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
    def config(self) -> RunConfig:
        """The RunConfig the controls show; raises ConfigError naming a bad lever."""
        source = self.source.currentData()
        raw = {
            "data": {
                "source": source,
                "path": self.path.text().strip() or None,
                "train_fraction": self.train_fraction.value(),
                "validation_split": self.validation_split.value(),
                "label_noise": self.label_noise.value(),
                "scale": self.scale.currentText(),
                "noise": self.noise.value(),
                "n_samples": self.n_samples.value(),
                "label_column": _label_column(self.label_column.text()),
                "image_size": [self.image_height.value(), self.image_width.value()],
                "grayscale": self.grayscale.isChecked(),
            },
            "model": {
                "hidden_units": parse_hidden_units(self.hidden_units.text()),
                "activation": self.activation.currentText(),
                "dropout": self.dropout.value(),
                "l2": self.l2.value(),
                "l1": self.l1.value(),
                "augment_flip": self.augment_flip.isChecked(),
                "augment_rotation": self.augment_rotation.value(),
                "augment_translation": self.augment_translation.value(),
            },
            "training": {
                "optimizer": self.optimizer.currentText(),
                "learning_rate": self.learning_rate.value(),
                "batch_size": self.batch_size.value(),
                "epochs": self.epochs.value(),
                "seed": self.seed.value(),
            },
            "early_stopping": {
                "enabled": self.early_stopping.isChecked(),
                "monitor": self.monitor.currentText(),
                "patience": self.patience.value(),
                "min_delta": self.min_delta.value(),
                "restore_best_weights": self.restore_best_weights.isChecked(),
            },
        }
        if source not in FILE_SOURCES:
            raw["data"]["path"] = None  # a leftover path must not travel with digits
        if source not in IMAGE_SOURCES:  # augmentation would be refused on these
            raw["model"].update(augment_flip=False, augment_rotation=0.0, augment_translation=0.0)
        merged = copy.deepcopy(self._base)
        for section, values in raw.items():
            merged[section].update(values)
        return RunConfig.from_dict(merged)

    def set_config(self, config: RunConfig) -> None:
        """Show ``config`` in the controls (values outside a box's range are clamped)."""
        self._base = config.to_dict()
        d, m, t, e = config.data, config.model, config.training, config.early_stopping
        index = self.source.findData(d.source)
        self.source.setCurrentIndex(max(index, 0))
        self.path.setText(d.path or "")
        self.noise.setValue(d.noise)
        self.n_samples.setValue(d.n_samples)
        self.train_fraction.setValue(d.train_fraction)
        self.validation_split.setValue(d.validation_split)
        self.label_noise.setValue(d.label_noise)
        self.scale.setCurrentText(d.scale)
        self.label_column.setText("" if d.label_column is None else str(d.label_column))
        self.image_height.setValue(d.image_size[0])
        self.image_width.setValue(d.image_size[1])
        self.grayscale.setChecked(d.grayscale)
        self.augment_flip.setChecked(m.augment_flip)
        self.augment_rotation.setValue(m.augment_rotation)
        self.augment_translation.setValue(m.augment_translation)
        self.hidden_units.setText(", ".join(str(u) for u in m.hidden_units))
        self.activation.setCurrentText(m.activation)
        self.dropout.setValue(m.dropout)
        self.l2.setValue(m.l2)
        self.l1.setValue(m.l1)
        self.optimizer.setCurrentText(t.optimizer)
        self.learning_rate.setValue(t.learning_rate)
        self.batch_size.setValue(t.batch_size)
        self.epochs.setValue(t.epochs)
        self.seed.setValue(t.seed)
        self.early_stopping.setChecked(e.enabled)
        self.monitor.setCurrentText(e.monitor)
        self.patience.setValue(e.patience)
        self.min_delta.setValue(e.min_delta)
        self.restore_best_weights.setChecked(e.restore_best_weights)
        self._update_enabled()
