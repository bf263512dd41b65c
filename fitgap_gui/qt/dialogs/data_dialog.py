"""File → Open data…: choose a CSV, NPZ, image folder or cached Keras set, preview it, use it.

``DataOpener`` (built by the window) adds the menu entries and runs previews in a
``BackgroundTask`` (background.py): ``core.data.preview`` reads and checks the whole file
without TensorFlow, which is quick for a CSV but can take seconds for a large image
folder, so the window never waits on it.  ``DataPreviewDialog`` shows what was found
(samples, features, classes and their counts, the train/validation split, CSV
details or skipped images, a few sample images; for a table file each column with
its type, distinct values, missing cells and what will happen to it, from
table_preview.py), lets the user change the options that matter for the file (the
label column, chosen among the table's columns; image size, grayscale), previews
again, and "Use this data" puts the choice into the controls.  A table whose data
cannot be used as chosen (a label column that does not fit) still shows its columns,
with the reason inside the dialog and "Use this data" disabled.  Only a file that
cannot be read at all is refused with the window's one-line error dialog; nothing
else changes.  The label column belongs to its file: opening another file starts
from the table's own default.

Tests call ``opener.open_path(path)`` or ``opener.open_keras(name)`` instead of going
through the file choosers.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QImage, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fitgap_gui.core.config.defaults import default_config
from fitgap_gui.core.config.levers import handicap_reset, network_for, source_switch
from fitgap_gui.core.config.schema import KERAS_CACHE_SOURCES, DataConfig, RunConfig
from fitgap_gui.core.config.sources import source as data_source
from fitgap_gui.core.data.datasets import DataPreview, keras_cache_status, preview
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.qt.dialogs.table_preview import (
    ColumnsBox,
    TableOnly,
    fill_label_choice,
    preview_table,
)
from fitgap_gui.qt.runtime.background import BackgroundTask
from fitgap_gui.qt.runtime.worker import error_message

if TYPE_CHECKING:
    from PySide6.QtWidgets import QStatusBar

    from fitgap_gui.qt.panels.controls import ControlsPanel

logger = logging.getLogger(__name__)

KERAS_NAMES = {name: data_source(name).label for name in KERAS_CACHE_SOURCES}
#: Sample images shown, and their size on screen (small images are enlarged, pixelated).
N_IMAGES = 12
THUMB = 72
#: Class rows listed; more classes are summarized in one last row.
MAX_CLASS_ROWS = 100
#: Wait after the last keystroke in an option before previewing again.
REPREVIEW_MS = 400


def source_for(path: Path) -> str:
    """The data.source a path is read as: a folder of images, an NPZ, else a CSV."""
    if path.is_dir():
        return "images"
    return "npz" if path.suffix.lower() == ".npz" else "csv"


def to_pixmap(pixels: np.ndarray, size: int = THUMB) -> QPixmap:
    """uint8 (h, w) or (h, w, 3) pixels as a pixmap ``size`` pixels across, edges kept sharp."""
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    h, w = pixels.shape[:2]
    if pixels.ndim == 3:
        image = QImage(pixels.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    else:
        image = QImage(pixels.data, w, h, w, QImage.Format.Format_Grayscale8)
    # copy(): the QImage above only borrows the numpy buffer.
    return QPixmap.fromImage(image.copy()).scaled(
        size,
        size,
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.FastTransformation,
    )


def _preview(cfg: DataConfig, seed: int) -> DataPreview | TableOnly:
    if cfg.source == "csv":  # a table: its columns are shown even when it is refused
        return preview_table(cfg, seed, N_IMAGES)
    return preview(cfg, seed=seed, n_images=N_IMAGES)


class DataPreviewDialog(QDialog):
    """What a data source holds, with its file options; "Use this data" applies it."""

    #: A preview is shown (DataPreview), or the data was refused (one-line message).
    preview_ready = Signal(object)
    preview_failed = Signal(str)
    #: The user pressed "Use this data": the RunConfig with the data applied.
    data_chosen = Signal(object)

    def __init__(self, opener: DataOpener, base: RunConfig, data: dict, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open data")
        self.setObjectName("open-data-dialog")
        self._opener = opener
        self._base = base
        self._data = dict(data)  # data.* keys this dialog sets: source, path, options
        self._request = 0
        self.current: DataPreview | None = None
        self.shown_once = False
        self._retry = QTimer(self, singleShot=True, interval=REPREVIEW_MS)
        self._retry.timeout.connect(self.refresh)
        self._build()
        opener.done.connect(self._on_done)
        opener.failed.connect(self._on_failed)

    # -- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        source = self._data["source"]
        where = self._data.get("path") or KERAS_NAMES.get(source, source)
        kind = {"csv": "Table file", "npz": "NPZ file", "images": "Image folder"}
        self.title = QLabel(f"{kind.get(source, 'Keras dataset')}: <b>{where}</b>")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.title.setWordWrap(True)

        options = QGroupBox("Options for this file")
        form = QFormLayout(options)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        # Filled with the table's columns once its first preview is read.
        self.label_column = QComboBox()
        self.label_column.setObjectName("label-column")
        self.label_column.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.label_column.setToolTip("The column that holds each row's class")
        self.image_height = QSpinBox(minimum=4, maximum=1024, singleStep=4)
        self.image_width = QSpinBox(minimum=4, maximum=1024, singleStep=4)
        size = self._data.get("image_size", self._base.data.image_size)
        self.image_height.setValue(size[0])
        self.image_width.setValue(size[1])
        self.grayscale = QCheckBox("Grayscale")
        self.grayscale.setChecked(bool(self._data.get("grayscale", self._base.data.grayscale)))
        size_row = QHBoxLayout()
        for widget in (self.image_height, QLabel("×"), self.image_width, self.grayscale):
            size_row.addWidget(widget)
        size_row.addStretch(1)
        if source == "csv":
            form.addRow("Label column", self.label_column)
        elif source == "images":
            form.addRow("Image size", size_row)
        else:
            form.addRow(QLabel("Nothing to choose: the arrays are used as they are."))
        self.label_column.currentIndexChanged.connect(self.refresh)
        self.image_height.valueChanged.connect(self._retry.start)
        self.image_width.valueChanged.connect(self._retry.start)
        self.grayscale.toggled.connect(self._retry.start)

        self.busy = QProgressBar(maximum=0)  # range 0..0: Qt's "working" animation
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(8)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        facts = QGroupBox("What is in it")
        self.facts = QFormLayout(facts)
        self.classes = QTableWidget(0, 2)
        self.classes.setHorizontalHeaderLabels(["Class", "Samples"])
        self.classes.horizontalHeader().setStretchLastSection(True)
        self.classes.verticalHeader().setVisible(False)
        self.classes.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.classes.setMinimumWidth(220)
        left = QVBoxLayout()
        left.addWidget(facts)
        left.addWidget(self.classes, 1)

        self.images_box = QGroupBox("Sample images")
        self.images = QGridLayout(self.images_box)
        self.images_box.setVisible(source != "csv")
        self.columns_box = ColumnsBox()
        self.column_table, self.notices = self.columns_box.table, self.columns_box.notices
        self.columns_box.setVisible(source == "csv")
        middle = QHBoxLayout()
        middle.addLayout(left, 1)
        middle.addWidget(self.images_box, 1)
        middle.addWidget(self.columns_box, 3)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.use_button = self.buttons.addButton(
            "Use this data", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.use_button.setEnabled(False)
        self.buttons.accepted.connect(self._use)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(options)
        layout.addWidget(self.busy)
        layout.addWidget(self.message)
        layout.addLayout(middle, 1)
        layout.addWidget(self.buttons)
        self.resize(*((1180, 640) if source == "csv" else (820, 600)))

    # -- previewing ----------------------------------------------------------------------------
    def data_changes(self) -> dict:
        """The ``data.*`` settings this dialog chose, as RunConfig.replace keys."""
        data = dict(self._data)
        if data["source"] == "csv" and self.label_column.currentIndex() >= 0:
            data["label_column"] = self.label_column.currentText()
        if data["source"] == "images":
            data["image_size"] = [self.image_height.value(), self.image_width.value()]
            data["grayscale"] = self.grayscale.isChecked()
        return {f"data.{key}": value for key, value in data.items()}

    def chosen_config(self) -> RunConfig:
        """The controls' config with this data; raises ConfigError for a bad option."""
        changes = self.data_changes()
        if self._data["source"] == "csv":  # table rows: augmentation would be refused
            changes.update(
                {
                    "model.augment_flip": False,
                    "model.augment_rotation": 0.0,
                    "model.augment_translation": 0.0,
                }
            )
        # The demo's handicaps (a quarter of the rows, flipped labels) stay with the demo.
        changes.update(handicap_reset(self._base.data.source, self._data["source"]))
        # As picking the source in the controls: the CNN for Keras's image sets, the
        # MLP off image data, CIFAR-10's subset.
        fraction = changes.get("data.train_fraction", self._base.data.train_fraction)
        switch, _note = source_switch(
            self._base.data.source,
            self._data["source"],
            self._base.model.kind,
            fraction,
            self._base.data.validation_fraction,
        )
        changes.update(switch)
        return self._base.replace(changes)

    def refresh(self) -> None:
        """Preview the current choice off the GUI thread; the answer arrives as a signal."""
        self._retry.stop()
        try:
            config = self.chosen_config()
        except FitGapError as exc:
            self._on_failed(self._request, str(exc))
            return
        self._request = self._opener.submit(config.data, config.training.seed)
        self.busy.setVisible(True)
        self.use_button.setEnabled(False)
        self.use_button.setToolTip("")
        self.message.setStyleSheet("")
        self.message.setText("Reading and checking the data…")
        self.setCursor(Qt.CursorShape.BusyCursor)

    def _on_done(self, number: int, result: DataPreview | TableOnly) -> None:
        if number != self._request:
            return  # an older choice, or another dialog's
        if isinstance(result, TableOnly):
            self._refused_table(result)
            return
        self.current = result
        self.shown_once = True
        self._settled()
        self.message.setText(
            "Read and checked: no problems found. Press “Use this data” to train on it."
        )
        self._show(result)
        self.use_button.setEnabled(True)
        self.preview_ready.emit(result)

    def _refused_table(self, result: TableOnly) -> None:
        """A readable table that cannot be used as chosen: its columns, and why not."""
        self.current = None
        self.shown_once = True  # the dialog stays open from now on
        self._settled()
        table = result.table
        while self.facts.rowCount():
            self.facts.removeRow(0)
        self.facts.addRow("Rows", QLabel(f"{table.rows:,}"))
        self.facts.addRow("Label column", QLabel(table.label or "none"))
        names = list(table.class_counts)
        self._show_class_rows(names, [table.class_counts[n] for n in names])
        fill_label_choice(self.label_column, table)
        self.columns_box.show_report(table)
        self.message.setStyleSheet("color: #b00020;")
        self.message.setText(result.error)
        self.use_button.setEnabled(False)
        self.use_button.setToolTip(result.error)
        self.preview_failed.emit(result.error)

    def _on_failed(self, number: int, message: str) -> None:
        if number != self._request:
            return
        self.current = None
        self._settled()
        self.message.setStyleSheet("color: #b00020;")
        self.message.setText(message)
        self.use_button.setEnabled(False)
        self.preview_failed.emit(message)

    def _settled(self) -> None:
        self.busy.setVisible(False)
        self.unsetCursor()

    # -- showing a preview -----------------------------------------------------------------------
    def _show(self, p: DataPreview) -> None:
        while self.facts.rowCount():
            self.facts.removeRow(0)
        what = {"image": "images", "points2d": "2-D points", "tabular": "table rows"}
        shape = "×".join(str(s) for s in p.input_shape)
        self.facts.addRow("Samples", QLabel(f"{p.n_samples:,}"))
        split = "pre-split in the file" if p.meta.get("split") == "presplit" else "split"
        self.facts.addRow("Training / validation", QLabel(f"{p.n_train:,} / {p.n_val:,} ({split})"))
        # Validation chooses (best epoch, early stopping, comparisons); test judges.
        test = f"{p.n_test:,}: {p.test_part}" if p.n_test else p.test_part
        self.test_label = QLabel(test)
        self.test_label.setWordWrap(True)
        self.test_label.setToolTip("validation chooses, test judges")
        self.facts.addRow("Test part", self.test_label)
        self.facts.addRow(
            "Features", QLabel(f"{p.n_features:,} per sample ({shape}, {what[p.kind]})")
        )
        self.facts.addRow("Classes", QLabel(str(len(p.class_names))))
        if p.source == "csv":
            header = "yes" if p.meta.get("header") else "no"
            self.facts.addRow("Delimiter", QLabel(str(p.meta.get("delimiter"))))
            self.facts.addRow("Header row", QLabel(header))
            self.facts.addRow("Label column", QLabel(str(p.meta.get("label_column"))))
        if p.source == "images":
            skipped = p.meta.get("skipped_count", 0)
            label = QLabel(f"{skipped} unreadable (hover for their names)" if skipped else "none")
            label.setToolTip("\n".join(p.meta.get("skipped", [])))
            self.facts.addRow("Skipped images", label)
        self._show_class_rows(p.class_names, p.class_counts)
        self._show_images(p)
        if p.table is not None:
            fill_label_choice(self.label_column, p.table)
            self.columns_box.show_report(p.table)

    def _show_class_rows(self, names: list[str], counts: list[int]) -> None:
        rows = list(zip(names, counts, strict=False))
        if len(rows) > MAX_CLASS_ROWS:
            rest = sum(n for _, n in rows[MAX_CLASS_ROWS:])
            rows = rows[:MAX_CLASS_ROWS] + [(f"{len(rows) - MAX_CLASS_ROWS} more classes", rest)]
        top = max((n for _, n in rows), default=1) or 1
        self.classes.setRowCount(len(rows))
        for i, (name, count) in enumerate(rows):
            self.classes.setItem(i, 0, QTableWidgetItem(name))
            bar = QProgressBar(maximum=top, value=count)
            bar.setFormat(f"{count:,}")
            self.classes.setCellWidget(i, 1, bar)
        self.classes.resizeColumnToContents(0)
        self.classes.resizeRowsToContents()

    def _show_images(self, p: DataPreview) -> None:
        while self.images.count():
            self.images.takeAt(0).widget().deleteLater()
        self.images_box.setVisible(bool(p.sample_images))
        columns = 4
        for i, (pixels, name) in enumerate(p.sample_images):
            cell = QLabel()
            cell.setPixmap(to_pixmap(pixels))
            cell.setAlignment(Qt.AlignmentFlag.AlignCenter)
            caption = QLabel(name)
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            row, col = divmod(i, columns)
            self.images.addWidget(cell, 2 * row, col)
            self.images.addWidget(caption, 2 * row + 1, col)

    def image_labels(self) -> list[QLabel]:
        """The sample-image cells (for tests and screenshots)."""
        items = (self.images.itemAt(i).widget() for i in range(self.images.count()))
        return [
            w for w in items if isinstance(w, QLabel) and w.pixmap() and not w.pixmap().isNull()
        ]

    # -- using it ----------------------------------------------------------------------------------
    def _use(self) -> None:
        try:
            config = self.chosen_config()
        except FitGapError as exc:
            self._on_failed(self._request, str(exc))
            return
        self.data_chosen.emit(config)
        self.accept()


class DataHost(Protocol):
    """What the opener needs of the window that builds it (``MainWindow``)."""

    @property
    def controls(self) -> ControlsPanel: ...

    def window(self) -> QWidget:
        """The top-level window: the parent of the actions, menus and dialogs."""

    def statusBar(self) -> QStatusBar: ...  # noqa: N802 (Qt's name)

    def show_error(self, message: str) -> None: ...

    def add_menu_action(self, menu: str, action: QAction) -> QAction: ...


class DataOpener(QObject):
    """The File menu's data entries and the one preview thread they share."""

    #: A preview is shown (number, DataPreview), or failed (number, one-line message).
    done = Signal(int, object)
    failed = Signal(int, str)

    def __init__(self, window: DataHost) -> None:
        super().__init__(window.window())
        self.window = window
        #: The preview running now (one at a time; the newest pending one runs next).
        self.previewer: BackgroundTask | None = None
        self._pending: tuple[int, DataConfig, int] | None = None
        self._counter = 0
        self.dialog: DataPreviewDialog | None = None
        self._add_actions()

    def _add_actions(self) -> None:
        w = self.window
        parent = w.window()
        self.open_action = QAction("&Open data…", parent)
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.open_action.setStatusTip(
            "Open a table (CSV, TSV, Parquet, Excel) or NPZ file and preview it before training"
        )
        self.open_action.triggered.connect(self._choose_file)
        self.folder_action = QAction("Open &image folder…", parent)
        self.folder_action.setStatusTip("A folder with one sub-folder of images per class")
        self.folder_action.triggered.connect(self._choose_folder)
        w.add_menu_action("file", self.open_action)
        w.add_menu_action("file", self.folder_action)
        self.keras_menu = QMenu("&Keras datasets (offline cache)", parent)
        self.keras_menu.setToolTipsVisible(True)
        self.keras_menu.aboutToShow.connect(self.fill_keras_menu)  # the cache may change
        w.add_menu_action("file", self.keras_menu.menuAction())
        self.fill_keras_menu()

    def fill_keras_menu(self) -> None:
        """One entry per Keras dataset: cached ones open, others say what file is missing.

        A dataset is ready only when its files are in Keras's cache; FitGap never
        downloads, so the others are greyed out with the file and the folder to put it in.
        """
        self.keras_menu.clear()
        for entry in keras_cache_status():
            label = KERAS_NAMES[entry.name]
            if entry.available:
                action = self.keras_menu.addAction(f"{label} (cached)")
                action.triggered.connect(lambda _=False, n=entry.name: self.open_keras(n))
            else:
                # The hint reads "not available offline: put A, B ... in FOLDER (...)".
                files = entry.hint.partition("put ")[2].partition(f" in {entry.path}")[0]
                first, more = files.split(", ")[0], " …" if "," in files else ""
                action = self.keras_menu.addAction(
                    f"{label}: not downloaded (FitGap never downloads); "
                    f"put {first}{more} in {entry.path}"
                )
                action.setEnabled(False)
            action.setToolTip(entry.hint)
            action.setStatusTip(entry.hint)

    # -- choosing -------------------------------------------------------------------------------
    def _start_dir(self) -> str:
        text = self.window.controls.path.text().strip()
        return str(Path(text).expanduser().parent) if text else str(Path.home())

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window.window(),
            "Open data",
            self._start_dir(),
            "Data files (*.csv *.tsv *.txt *.parquet *.xlsx *.npz);;"
            "Tables (*.csv *.tsv *.txt *.parquet *.pq *.xlsx *.xlsm);;"
            "NumPy archives (*.npz);;All files (*)",
        )
        if path:
            self.open_path(path)

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self.window.window(), "Open a folder with one sub-folder per class", self._start_dir()
        )
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path) -> DataPreviewDialog:
        """Preview a file or folder (the source follows from it) in the dialog."""
        path = Path(path).expanduser()
        return self._open({"source": source_for(path), "path": str(path)})

    def open_keras(self, name: str) -> DataPreviewDialog:
        return self._open({"source": name, "path": None})

    def _base(self) -> RunConfig:
        try:
            return self.window.controls.config()
        except FitGapError:  # a half-edited lever must not block opening data
            return default_config()

    def _open(self, data: dict) -> DataPreviewDialog:
        if self.dialog is not None:
            self.dialog.close()
        base = self._base()
        if data["source"] == "csv":  # the label chosen for this file; another starts fresh
            same_file = (base.data.source, base.data.path) == ("csv", data["path"])
            data["label_column"] = base.data.label_column if same_file else None
        dialog = DataPreviewDialog(self, base, data, self.window.window())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.data_chosen.connect(self.apply)
        # A file that cannot be read at all goes to the window's error dialog.
        dialog.preview_failed.connect(lambda message: self._refused(dialog, message))
        self.dialog = dialog
        dialog.destroyed.connect(lambda _=None: self._forget(dialog))
        dialog.show()
        dialog.refresh()
        return dialog

    def _refused(self, dialog: DataPreviewDialog, message: str) -> None:
        # Once the data was shown, an option that does not fit is explained inside
        # the dialog; data that cannot be read at all goes to the error dialog.
        if not dialog.shown_once:
            logger.info("data refused: %s", message)
            dialog.close()
            if self.dialog is dialog:
                self.dialog = None
            self.window.show_error(message)

    def _forget(self, dialog: DataPreviewDialog) -> None:
        if self.dialog is dialog:  # not a newer dialog opened meanwhile
            self.dialog = None

    def apply(self, config: RunConfig) -> None:
        """Put the chosen data into the controls; training waits for the user's Train."""
        kind_before = self.window.controls.kind.currentText()
        self.window.controls.set_config(config)
        where = config.data.path or KERAS_NAMES.get(config.data.source, config.data.source)
        note = network_for(config.data.source, kind_before)[1]
        note = f" {note}" if config.model.kind != kind_before else ""
        self.window.statusBar().showMessage(f"Data: {where}.{note} Press Train (Ctrl+R).")

    # -- the preview thread ----------------------------------------------------------------------
    def submit(self, cfg: DataConfig, seed: int) -> int:
        """Queue a preview; only the newest pending one runs after the current. Returns its number."""
        self._counter += 1
        self._pending = (self._counter, cfg, seed)
        self._next()
        return self._counter

    def _next(self) -> None:
        if self._pending is None or self.is_running():
            return
        (number, cfg, seed), self._pending = self._pending, None
        # A preview cannot be interrupted: closing the window waits for it, never long.
        task = BackgroundTask(_preview, cfg, seed, name="fitgap-data-preview", close_wait_ms=0)
        task.returned.connect(lambda result, n=number: self.done.emit(n, result))
        task.errored.connect(lambda exc, n=number: self.failed.emit(n, error_message(exc)))
        task.finished.connect(self._next)
        self.previewer = task.start()

    def is_running(self) -> bool:
        """A preview's thread is working now."""
        return self.previewer is not None and self.previewer.is_running()

    def is_busy(self) -> bool:
        return self.is_running() or self._pending is not None
