"""The open-data dialog's view of a table file: each column, its type and its fate.

``preview_table`` (run on the dialog's ``BackgroundTask``) reads a table file's preview,
and when the data cannot be used as chosen (a label column that does not fit, a
column of numbers with a typo), still returns the columns (``TableOnly``) so the dialog
stays open and says why inside it; only a file that cannot be read at all raises.
``ColumnTable`` shows a ``TableReport``: one row per column with its type as read,
distinct values, missing cells and what will happen to it (the label column first in
bold; a notice about one column is told in its row); ``ColumnsBox`` holds it with the
other notices below; ``fill_label_choice`` puts every column into the label combo.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fitgap_gui.core.config.schema import DataConfig
from fitgap_gui.core.data.datasets import DataPreview, preview
from fitgap_gui.core.data.readers.tablefile import TableReport, inspect_table
from fitgap_gui.core.errors import DataError

#: The columns of the column table.
HEADERS = ("Column", "Type as read", "Distinct", "Missing", "What happens to it")


@dataclass
class TableOnly:
    """A readable table whose data cannot be used as chosen: its columns, and why."""

    table: TableReport
    error: str


def preview_table(cfg: DataConfig, seed: int, n_images: int) -> DataPreview | TableOnly:
    """The preview of a table file, or its columns and the reason it cannot be used.

    Raises DataError only when the file cannot be read at all (missing, empty, not a
    table): the dialog then has nothing to show.
    """
    try:
        return preview(cfg, seed=seed, n_images=n_images)
    except DataError as exc:
        refused = str(exc)
    assert cfg.path is not None
    report = inspect_table(
        cfg.path,
        cfg.label_column,
        sheet=cfg.sheet,
        missing=cfg.missing,
        max_categories=cfg.max_categories,
    )
    return TableOnly(report, report.error or refused)


def fill_label_choice(combo: QComboBox, report: TableReport) -> None:
    """Every column of the table in ``combo``, the report's label column chosen (none
    where the label asked for is not a column).

    Signals are blocked: filling is not a choice of the user's.
    """
    names = [c.name for c in report.columns]
    blocked = combo.blockSignals(True)
    try:
        if [combo.itemText(i) for i in range(combo.count())] != names:
            combo.clear()
            combo.addItems(names)
        # No choice shown where the chosen label is not one of the columns.
        combo.setCurrentIndex(names.index(report.label) if report.label in names else -1)
    finally:
        combo.blockSignals(blocked)


def column_notices(report: TableReport) -> tuple[dict[str, list[str]], list[str]]:
    """The notices that name one column ("column 'sex': 26 missing cells filled ..."),
    by column, and the others, as the report words them."""
    names = {c.name for c in report.columns}
    said: dict[str, list[str]] = {}
    others = []
    for notice in report.notices:
        head, colon, rest = notice.partition(": ")
        name = head[len("column '") : -1] if head.startswith("column '") else None
        if colon and name in names and head.endswith("'"):
            said.setdefault(name, []).append(rest)
        else:
            others.append(notice)
    return said, others


class ColumnTable(QTableWidget):
    """One row per column of a table file: type, distinct, missing, what happens."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(HEADERS), parent)
        self.setObjectName("column-table")
        self.setHorizontalHeaderLabels(list(HEADERS))
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)
        header = self.horizontalHeader()
        for i in range(len(HEADERS) - 1):
            header.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(HEADERS) - 1, QHeaderView.ResizeMode.Stretch)
        self.setTextElideMode(Qt.TextElideMode.ElideNone)  # long actions wrap instead

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        # The wrapped actions need the stretched column's width, known only now.
        QTimer.singleShot(0, self.resizeRowsToContents)

    def show_report(self, report: TableReport) -> list[str]:
        """The report's columns, the label column first; returns the notices that are
        not about one column (those are told in that column's row)."""
        said, others = column_notices(report)
        columns = sorted(report.columns, key=lambda c: c.name != report.label)
        self.setRowCount(len(columns))
        for row, column in enumerate(columns):
            missing = f"{column.missing:,}" if column.missing else "none"
            action = "; ".join([column.action, *said.get(column.name, [])])
            cells = (column.name, column.kind, f"{column.distinct:,}", missing, action)
            for i, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{column.name}: {action}")
                if i in (2, 3):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if column.name == report.label:
                    font = QFont(item.font())
                    font.setBold(True)
                    item.setFont(font)
                self.setItem(row, i, item)
        QTimer.singleShot(0, self.resizeRowsToContents)  # once the columns have their widths
        return others

    def rows(self) -> list[tuple[str, ...]]:
        """The cells' texts, row by row (for tests and screenshots)."""
        return [
            tuple(self.item(r, c).text() for c in range(self.columnCount()))
            for r in range(self.rowCount())
        ]


class ColumnsBox(QGroupBox):
    """The column table and, below it, the notices that are not about one column."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Columns", parent)
        self.table = ColumnTable()
        self.notices = QLabel()
        self.notices.setWordWrap(True)
        self.notices.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.notices)

    def show_report(self, report: TableReport) -> None:
        others = self.table.show_report(report)
        self.notices.setText("\n".join(f"• {n}" for n in others))
        self.notices.setVisible(bool(others))
