"""The Validation sub-tab: confusion matrix and misclassified examples of the best weights.

The matrix is a table with coloured cells (green diagonal, red mistakes, stronger
for a larger share of the true class), class names on both axes and counts in the
cells.  For image data the most confident mistakes follow as thumbnails, scaled
with nearest neighbour so 8x8 digits stay readable, re-flowed to the panel width;
for other data the first few are listed in words.  Both name the classes by the
dataset's class names (a table's label values), numbers only where it has none.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fitgap_gui.core.formatting import format_accuracy
from fitgap_gui.qt.panels.insights_views import MessageStack, wrapped_label

#: Fewest thumbnails per row in the mistakes grid, and their size on screen (pixels).
THUMB_COLUMNS = 4
THUMB_SIZE = 56
#: Mistakes listed in words for data that is not images.
TEXT_MISTAKES = 5


def cell_colour(fraction: float, correct: bool) -> QColor:
    """Green on the diagonal, red off it, stronger for a larger share of the true class."""
    target = (0, 158, 115) if correct else (213, 94, 0)  # Okabe-Ito green / vermillion
    w = 0.1 + 0.75 * fraction if fraction > 0 else 0.0
    r, g, b = (round(255 * (1 - w) + t * w) for t in target)
    return QColor(r, g, b)


def thumbnail(image: np.ndarray, size: int = THUMB_SIZE) -> QPixmap:
    """A grey or colour image as a pixmap, scaled with nearest neighbour (8x8 stays sharp)."""
    pixels = np.asarray(image, dtype=np.float64)
    lo, hi = float(pixels.min()), float(pixels.max())
    pixels = (pixels - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(pixels)
    data = np.ascontiguousarray(pixels.astype(np.uint8))
    if data.ndim == 3 and data.shape[2] == 1:
        data = np.ascontiguousarray(data[..., 0])
    h, w = data.shape[:2]
    if data.ndim == 2:
        qimage = QImage(data.data, w, h, w, QImage.Format.Format_Grayscale8)
    else:
        data = np.ascontiguousarray(data[..., :3])
        qimage = QImage(data.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    # Into a size x size box; an image larger than the box keeps its own size.
    box = max(size, h, w)
    return QPixmap.fromImage(qimage.copy()).scaled(
        box,
        box,
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.FastTransformation,
    )


class ReflowScroll(QScrollArea):
    """A scroll area that reports its resizes (the mistakes grid re-flows its columns)."""

    def __init__(self, on_resize) -> None:
        super().__init__()
        self._on_resize = on_resize

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._on_resize()


class ValidationView(MessageStack):
    """The confusion matrix (rows: true class) and a grid of misclassified images."""

    def __init__(self) -> None:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(4, 4, 4, 4)
        self.summary = wrapped_label()
        self.table = QTableWidget()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        for header in (self.table.horizontalHeader(), self.table.verticalHeader()):
            header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            header.setMinimumSectionSize(22)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.mistakes_title = wrapped_label()
        self.mistakes = QWidget()
        self.mistakes_grid = QGridLayout(self.mistakes)
        self.mistakes_grid.setSpacing(6)
        self.mistakes_grid.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        scroll = ReflowScroll(self._reflow)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.mistakes)
        self.scroll = scroll
        column.addWidget(self.summary)
        column.addWidget(self.table)
        column.addWidget(self.mistakes_title)
        column.addWidget(scroll, 1)
        super().__init__(box)
        self.thumbnails: list[QWidget] = []
        self._columns = 0
        self.show_message(
            "After a run, the confusion matrix of the validation set and, for image "
            "data, the examples the network got wrong appear here."
        )

    def clear(self, text: str) -> None:
        self.show_message(text)

    def show_insight(self, payload: dict) -> None:
        confusion = np.asarray(payload["confusion"])
        names = [str(n) for n in payload["class_names"]]
        total = int(confusion.sum())
        self.summary.setText(
            f"Validation set, weights of epoch {payload['epoch']} ({payload['which']}): "
            f"accuracy {format_accuracy(payload['accuracy'])} ({total - payload['n_wrong']} of "
            f"{total}). Rows: true class, columns: predicted class."
        )
        self._fill_table(confusion, names)
        self._fill_mistakes(payload)
        self.show_content()

    def _fill_table(self, confusion: np.ndarray, names: list[str]) -> None:
        n = len(names)
        self.table.clear()
        self.table.setRowCount(n)
        self.table.setColumnCount(n)
        self.table.setHorizontalHeaderLabels(names)
        self.table.setVerticalHeaderLabels(names)
        row_totals = confusion.sum(axis=1)
        for i in range(n):
            for j in range(n):
                count = int(confusion[i, j])
                fraction = count / row_totals[i] if row_totals[i] else 0.0
                item = QTableWidgetItem(str(count) if count else "")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setBackground(QBrush(cell_colour(fraction, i == j)))
                item.setForeground(QBrush(QColor("#111111")))
                item.setData(Qt.ItemDataRole.UserRole, count)
                item.setToolTip(
                    f"true {names[i]}, predicted {names[j]}: {count} "
                    f"({fraction * 100:.0f}% of true {names[i]})"
                )
                self.table.setItem(i, j, item)
        # The whole matrix in view, no scrolling: the mistakes grid takes the rest.
        self.table.resizeColumnsToContents()
        self.table.resizeRowsToContents()
        rows = sum(self.table.rowHeight(i) for i in range(n))
        header = self.table.horizontalHeader().sizeHint().height()
        self.table.setFixedHeight(rows + header + 2 * self.table.frameWidth() + 2)

    def _fill_mistakes(self, payload: dict) -> None:
        for label in self.thumbnails:
            self.mistakes_grid.removeWidget(label)
            label.deleteLater()
        self.thumbnails = []
        wrong, n_wrong = payload["misclassified"], payload["n_wrong"]
        if not payload["is_image"]:  # rows of numbers: the mistakes in words
            lines = [
                f"validation row {m['index']}: {m['true_name']} → {m['predicted_name']} "
                f"({m['confidence'] * 100:.0f}%)"
                for m in wrong[:TEXT_MISTAKES]
            ]
            head = f"The {len(lines)} most confident mistakes of {n_wrong}:" if lines else ""
            self.mistakes_title.setText("\n".join([head, *lines]) if lines else "")
            self.scroll.setVisible(False)
            return
        self.scroll.setVisible(True)
        if not wrong:
            self.mistakes_title.setText("No validation example is misclassified.")
            return
        self.mistakes_title.setText(
            f"The {len(wrong)} most confident mistakes of {n_wrong} "
            "(true → predicted, confidence in the wrong class):"
        )
        for example in wrong:
            if example["image"] is None:
                continue
            label = QLabel()
            label.setPixmap(thumbnail(example["image"]))
            label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            label.setToolTip(
                f"validation example {example['index']}: true {example['true_name']}, "
                f"predicted {example['predicted_name']} ({example['confidence'] * 100:.0f}%)"
            )
            caption = QLabel(
                f"{example['true_name']} → {example['predicted_name']}\n"
                f"{example['confidence'] * 100:.0f}%"
            )
            caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            cell = QWidget()
            cell_layout = QVBoxLayout(cell)
            cell_layout.setContentsMargins(2, 2, 2, 2)
            cell_layout.setSpacing(1)
            cell_layout.addWidget(label)
            cell_layout.addWidget(caption)
            self.thumbnails.append(cell)
        self._columns = 0
        self._reflow()

    def _reflow(self) -> None:
        """As many thumbnails per row as the panel's width holds (at least THUMB_COLUMNS)."""
        width = self.scroll.viewport().width() - 2 * self.mistakes_grid.spacing()
        columns = max(THUMB_COLUMNS, width // (THUMB_SIZE + 14))
        if columns == self._columns or not self.thumbnails:
            return
        self._columns = columns
        for cell in self.thumbnails:
            self.mistakes_grid.removeWidget(cell)
        for k, cell in enumerate(self.thumbnails):
            self.mistakes_grid.addWidget(cell, k // columns, k % columns)
