"""The Runs side tab: every stored run in a sortable table, overlaid on the plots.

``RunsPanel`` lists the runs of the store (name editable in place, date, status, the
levers that differ from the defaults, and the model each run delivers: its test numbers,
the gap at its epoch and that epoch; the best epoch's numbers are in the row's tooltip).  Selecting rows
puts those runs into the live-run model (live_runs.py), so the plots overlay them
next to the current run; selecting one row also gives it the Diagnosis tab's focus.
Delete (confirmed), rename, "Load settings from this run" and the exports live in
its context menu and buttons.  The list follows the store: it reloads when a run
starts or ends here, and a timer watches ``RunStore.version()`` so a run committed
by another process (``fitgap train`` in a terminal) appears within ~2 seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.export.summary import NO_TEST_PART, Delivered, delivered, run_summary
from fitgap_gui.core.formatting import (
    MISSING,
    format_accuracy,
    format_accuracy_change,
    format_loss,
    format_validation_loss,
    run_label,
    status_text,
)
from fitgap_gui.core.run.branching import saved_epoch
from fitgap_gui.core.run.live import LiveRun
from fitgap_gui.core.store.runstore import RunStore, StoredRun, StoreError
from fitgap_gui.qt.panels.config_access import ConfigTarget
from fitgap_gui.qt.runtime.live_runs import LiveRuns

logger = logging.getLogger(__name__)

#: How often the panel asks the store whether another process committed (ms).
POLL_MS = 2000

LOAD_TIP = "Put this run's settings into the controls"
#: Why a run recorded by FitGapCallback has no settings to load.
LOAD_CALLBACK_TIP = (
    "trained by your own script (FitGapCallback): its model and data are the script's, "
    "so FitGap has no settings of it to load"
)

# What tells runs apart comes first: the side panel is narrow.  Every number of a row is
# read from the model the run delivers, at its epoch (the "Epoch" column).
COLUMNS = (
    "Name",
    "Levers",
    "Test acc",
    "Test loss",
    "Acc gap",
    "Epoch",
    "Val acc",
    "Val loss",
    "Best",
    "Epochs",
    "Status",
    "Date",
)
(
    NAME,
    LEVERS,
    TEST_ACC,
    TEST_LOSS,
    GAP,
    EPOCH,
    VAL_ACC,
    VAL_LOSS,
    BEST,
    EPOCHS,
    STATUS,
    DATE,
) = range(len(COLUMNS))
_NUMERIC = (TEST_ACC, TEST_LOSS, GAP, EPOCH, VAL_ACC, VAL_LOSS, BEST, EPOCHS)
#: Shown until the user picks columns (right-click the header); the rest is in each
#: row's tooltip, so the table fits the side panel without a sideways scroll bar.
DEFAULT_COLUMNS = (NAME, LEVERS, TEST_ACC, GAP, EPOCH, STATUS)
#: The name's width before it is elided (the whole name is in the tooltip).
NAME_WIDTH = 62
#: Columns whose "no test part" wraps onto two lines, as the levers do, rather than
#: widening the column for it.
_WRAPPED = (LEVERS, TEST_ACC, TEST_LOSS)
#: The widest text each fixed column holds (besides its title); a gap beyond ±99.9 pp
#: (training at 100 %, validation at 0 %) is elided, whole in the row's tooltip.
_WIDEST = {
    TEST_ACC: max("100.0%", *NO_TEST_PART.split(" "), key=len),
    TEST_LOSS: "10.0000",
    GAP: "+99.9 pp",
    EPOCH: "10000",
    VAL_ACC: "100.0%",
    VAL_LOSS: "10.0000",
    BEST: "10000",
    EPOCHS: "10000",
    STATUS: status_text("early_stopped", "short"),
    DATE: "12-31 23:59",
}
_AT_EPOCH = "at the epoch of the model the run delivers (the Epoch column)"
_TIPS = {
    TEST_ACC: "The delivered model's accuracy on the test part: rows no choice was made "
    "on (validation chooses, test judges)",
    TEST_LOSS: "The delivered model's cross-entropy on the test part",
    GAP: f"Training minus validation accuracy, in percentage points, {_AT_EPOCH}",
    EPOCH: "The epoch of the model the run delivers: the epoch early stopping restored, "
    "else the last one run. The test numbers are that model's, and the gap is read there",
    VAL_ACC: f"Validation accuracy {_AT_EPOCH}",
    VAL_LOSS: f"Validation cross-entropy {_AT_EPOCH}, without the weight penalty (an old "
    "run shows Keras's val_loss, which includes it)",
    BEST: "The best epoch, chosen on validation: lowest validation cross-entropy, or the "
    "epoch early stopping restored (its numbers are in the row's tooltip)",
    EPOCHS: "Epochs run",
}
_RUN_ID = Qt.ItemDataRole.UserRole
_SORT_KEY = Qt.ItemDataRole.UserRole + 1


class _OneLine(QStyledItemDelegate):
    """Draws a cell on one line, elided at the right: only the levers wrap."""

    def initStyleOption(self, option: QStyleOptionViewItem, index) -> None:
        super().initStyleOption(option, index)
        option.features &= ~QStyleOptionViewItem.ViewItemFeature.WrapText


class _Item(QTableWidgetItem):
    """A cell that sorts by its key (numbers as numbers, empty cells last either way:
    a run without a test part never heads a table sorted by test accuracy)."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(_SORT_KEY), other.data(_SORT_KEY)
        if mine is None or theirs is None:
            table = self.tableWidget()
            descending = (
                table is not None
                and table.horizontalHeader().sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
            )
            # Qt reverses the order for a descending sort: an empty cell is then "smaller".
            empty_first = theirs is None if descending else mine is None
            return (mine is None) != (theirs is None) and not empty_first
        return mine < theirs


def _signature(run: StoredRun) -> tuple:
    """What a row shows of a run: the row is rebuilt only when this changes."""
    return (run.name, run.status, run.epochs_run, run.best_epoch, run.finished, run.config) + (
        repr(run.test),
    )


def _padding(table: QTableWidget) -> int:
    """What a cell or a title needs besides its text, from the style's own margins:
    a cell's text margin each side (the focus frame's and one more pixel, as Qt's
    item delegate draws it), or a title's, and the grid line."""
    style = table.style()
    cell = 2 * (style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, table) + 1)
    title = 2 * style.pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, None, table)
    return max(cell, title) + 2


def _row_tip(run: StoredRun, d: Delivered, status: str, levers: str) -> str:
    """A row's tooltip: the delivered model first, then the best epoch (chosen on
    validation) and, when early stopping restored an earlier one, the last epoch."""
    who = run.name if run.name == run_label(run.run_id) else f"{run.name} ({run_label(run.run_id)})"
    lines = [
        f"{who}, {run.created.replace('T', ' ')}: {status}"
        + (f" — {run.message}" if run.message else ""),
        f"Delivered model ({d.which}): {d.test_words()}",
    ]
    if d.epoch is not None:
        lines.append(
            f"    at epoch {d.epoch}: {d.gap_words().removesuffix(f' at epoch {d.epoch}')}, "
            f"val_accuracy {format_accuracy(d.val_accuracy)}, {format_validation_loss(d.metrics)}"
        )
    best = run.best_metrics
    if run.best_epoch is not None:
        lines.append(
            f"Best epoch {run.best_epoch} (chosen on validation): val_accuracy "
            f"{format_accuracy(best.get('val_accuracy'))}, {format_validation_loss(best)}, "
            f"gap {format_accuracy_change(run.gap_at_best)}"
        )
    if d.epoch is not None and d.epoch != run.epochs_run:
        last = run.last_metrics
        lines.append(
            f"Last epoch ({run.epochs_run}): val_accuracy "
            f"{format_accuracy(last.get('val_accuracy'))}, {format_validation_loss(last)}"
        )
    lines.append(f"levers: {levers}")
    if run.branched_from:
        lines.append(run.branched_from)
    return "\n".join(lines)


def ask_yes_no(parent: QWidget, text: str) -> bool:
    """The production confirmation: a modal question, No by default."""
    answer = QMessageBox.question(
        parent,
        "FitGap",
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


#: The hint above the table: with runs listed, and before the first one.
HINT_RUNS = "Select runs to overlay them on the plots (Ctrl/Shift+click)."
HINT_EMPTY = (
    "No runs stored yet. Every Train is kept here, and so are the runs of fitgap train and "
    "of your own Keras scripts with FitGapCallback, live while they train."
)


class RunsPanel(QWidget):
    """The table of runs; selection = overlay on the plots."""

    #: A one-line error, and a status-bar message, for the window to show.
    error = Signal(str)
    message = Signal(str)
    #: run_id: the user asked to continue this stored run from its saved model.
    continue_requested = Signal(int)

    def __init__(self, store: RunStore, live_runs: LiveRuns, controls: ConfigTarget) -> None:
        super().__init__()
        self.store = store
        self.live_runs = live_runs
        #: The controls, only as far as this panel uses them (qt/panels/config_access.py).
        self.controls = controls
        #: Asked before deleting; tests replace it to answer without a dialog.
        self.confirm: Callable[[str], bool] = lambda text: ask_yes_no(self, text)
        self._overlaid: set[int] = set()
        self._filling = False
        self._version: int | None = None
        #: The store fault last shown: the poll retries every tick but says it once.
        self._fault_shown: str | None = None
        self._signatures: dict[int, tuple] = {}
        self.export_menu: QMenu | None = None  # filled in by exports.install

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        for column, tip in _TIPS.items():
            self.table.horizontalHeaderItem(column).setToolTip(tip)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.setAlternatingRowColors(True)
        self._fit_columns()
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(DATE, Qt.SortOrder.DescendingOrder)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.delete_shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.table)
        self.delete_shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
        self.delete_shortcut.activated.connect(self.delete_selected)

        #: Runs recorded by FitGapCallback: their settings are the script's, not FitGap's.
        self._callback_ids: set[int] = set()
        self.load_button = QPushButton("Load settings")
        self.load_button.setToolTip(LOAD_TIP)
        self.load_button.clicked.connect(self.load_selected_settings)
        self.rename_button = QPushButton("Rename")
        self.rename_button.clicked.connect(self.edit_selected_name)
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Delete the selected runs (Del)")
        self.delete_button.clicked.connect(self.delete_selected)
        self.export_button = QPushButton("Export")
        self.hint = QLabel(HINT_EMPTY)
        self.hint.setWordWrap(True)
        # A palette role, not a fixed grey: the hint stays readable in the dark theme.
        self.hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)

        buttons = QHBoxLayout()
        for button in (self.load_button, self.rename_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addWidget(self.export_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.hint)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

        live_runs.run_added.connect(self._on_run_added)
        live_runs.run_finished.connect(lambda *_: self.refresh())
        live_runs.run_removed.connect(self._on_run_removed)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.timer.start()
        self.refresh()
        self._update_buttons()
        self.table.itemSelectionChanged.connect(self._update_buttons)

    def _fit_columns(self) -> None:
        """Columns that fit the panel: names elided, levers wrapped, no sideways scrolling."""
        table = self.table
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Only the levers and "no test part" have spaces to wrap at; the rest elide.
        table.setWordWrap(True)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(36)
        self._one_line = _OneLine(table)
        metrics = table.fontMetrics()
        padding = _padding(table)
        for column, title in enumerate(COLUMNS):
            table.setColumnHidden(column, column not in DEFAULT_COLUMNS)
            if column not in _WRAPPED:
                table.setItemDelegateForColumn(column, self._one_line)
            if column in _WIDEST:
                # A fixed width from the widest value: no re-layout as rows change.
                text = max(_WIDEST[column], title, key=metrics.horizontalAdvance)
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
                table.setColumnWidth(column, metrics.horizontalAdvance(text) + padding)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Interactive)
        table.setColumnWidth(NAME, NAME_WIDTH)
        header.setSectionResizeMode(LEVERS, QHeaderView.ResizeMode.Stretch)
        # Rows grow to the wrapped levers' lines.
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._columns_menu)
        for column in range(len(COLUMNS)):
            item = table.horizontalHeaderItem(column)
            tip = _TIPS.get(column, COLUMNS[column])
            item.setToolTip(tip + " (right-click: choose the columns)")

    def columns_menu(self) -> QMenu:
        """Show or hide columns (the header's right-click menu)."""
        menu = QMenu(self)
        for column, title in enumerate(COLUMNS):
            action = QAction(title, menu)
            action.setCheckable(True)
            action.setChecked(not self.table.isColumnHidden(column))
            action.setEnabled(column not in (NAME, LEVERS))
            action.toggled.connect(lambda on, c=column: self.table.setColumnHidden(c, not on))
            menu.addAction(action)
        return menu

    def _columns_menu(self, pos: QPoint) -> None:
        menu = self.columns_menu()
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.table.horizontalHeader().mapToGlobal(pos))

    # -- the list ---------------------------------------------------------------------------------
    def poll(self) -> None:
        """Reload only when another connection (the worker, the CLI) has committed."""
        try:
            version = self.store.version()
        except FitGapError:
            return  # a store that cannot be read now is tried again on the next tick
        # Not while a name is being edited: refilling the table would drop the editor.
        editing = self.table.state() == QAbstractItemView.State.EditingState
        if version != self._version and not editing:
            self.refresh()

    def refresh(self) -> None:
        """Re-read every run from the store, keeping the selection and the sort order.

        Only rows whose run changed are rebuilt (during a run the poll finds one
        changed row each time): 300 runs cost ~160 ms to fill, one row well under 1 ms.
        """
        try:
            version = self.store.version()
            runs = self.store.list_runs()
        except StoreError as exc:
            # A damaged, locked or vanished store: the rows already shown stay, the
            # version is not taken, so the next poll tries again; the line is shown once.
            if str(exc) != self._fault_shown:
                self._fault_shown = str(exc)
                logger.warning("cannot list the stored runs: %s", exc)
                self.error.emit(str(exc))
            return
        self._version, self._fault_shown = version, None
        self._follow_running(runs)
        rows = {self.table.item(r, NAME).data(_RUN_ID): r for r in range(self.table.rowCount())}
        same_runs = set(rows) == {run.run_id for run in runs}
        changed = [run for run in runs if self._signatures.get(run.run_id) != _signature(run)]
        if same_runs and not changed:
            return  # e.g. another process touched the store but no listed value moved
        self._filling = True
        self.table.setSortingEnabled(False)  # rows would move while they are filled
        self.table.blockSignals(True)
        try:
            if same_runs:
                for run in changed:
                    self._fill_row(rows[run.run_id], run)
            else:
                selected = set(self.selected_ids())
                self.table.setRowCount(len(runs))
                for row, run in enumerate(runs):
                    self._fill_row(row, run)
                self._select_rows(run.run_id in selected for run in runs)
            self._signatures = {run.run_id: _signature(run) for run in runs}
        finally:
            self.table.blockSignals(False)
            self.table.setSortingEnabled(True)
            self._filling = False
        self.sync_overlays()
        self._update_buttons()

    def _follow_running(self, runs: list[StoredRun]) -> None:
        """Overlaid runs still training elsewhere (the CLI, ``FitGapCallback``) grow.

        Their new epochs go into the live-run model as they are committed, so the
        plots and the diagnosis follow them as they follow a run of this window.
        """
        listed = {run.run_id: run for run in runs}
        for run_id in sorted(self._overlaid):
            shown, stored = self.live_runs.get(run_id), listed.get(run_id)
            if shown is None or stored is None or shown.origin != "stored":
                continue
            if shown.status != "running":
                continue
            if stored.epochs_run <= shown.epochs and stored.status == "running":
                continue
            try:
                epochs = self.store.epochs(run_id)
                ended = None if stored.status == "running" else self.store.get_run(run_id)
            except FitGapError as exc:
                logger.warning("cannot follow run %s: %s", run_id, exc)
                continue
            self.live_runs.follow_stored(run_id, epochs[shown.epochs :], ended)

    def _select_rows(self, wanted) -> None:
        model = self.table.selectionModel()
        self.table.clearSelection()
        for row, selected in enumerate(wanted):
            if selected:
                index = self.table.model().index(row, 0)
                model.select(index, model.SelectionFlag.Select | model.SelectionFlag.Rows)

    def _fill_row(self, row: int, run: StoredRun) -> None:
        d = delivered(run)
        levers = run_summary(run)
        if run.kind == "callback":
            self._callback_ids.add(run.run_id)
        else:
            self._callback_ids.discard(run.run_id)
        status = status_text(run.status, "short")  # a word or two: the column stays narrow
        cells = {
            NAME: (run.name, run.name.lower()),
            # Lines break between levers, never inside one ("L2" / "1e-3").
            LEVERS: (", ".join(p.replace(" ", "\u00a0") for p in levers.split(", ")), levers),
            TEST_ACC: (d.test_cell(d.test_accuracy), d.test_accuracy),
            TEST_LOSS: (d.test_cell(d.test_cross_entropy, format_loss), d.test_cross_entropy),
            GAP: (format_accuracy_change(d.gap), d.gap),
            EPOCH: (MISSING if d.epoch is None else str(d.epoch), d.epoch),
            VAL_ACC: (format_accuracy(d.val_accuracy), d.val_accuracy),
            VAL_LOSS: (format_loss(d.val_cross_entropy), d.val_cross_entropy),
            BEST: (MISSING if run.best_epoch is None else str(run.best_epoch), run.best_epoch),
            EPOCHS: (str(run.epochs_run), run.epochs_run),
            STATUS: (status, run.status),
            # Short in the cell (the year rarely matters), whole in the tooltip.
            DATE: (run.created.replace("T", " ")[5:16], run.created),
        }
        tip = _row_tip(run, d, status, levers)
        absent = self.palette().color(QPalette.ColorRole.PlaceholderText)
        for column, (text, key) in cells.items():
            item = _Item(text)
            item.setData(_RUN_ID, run.run_id)
            item.setData(_SORT_KEY, key)
            item.setToolTip(tip)
            flags = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled
            if column == NAME:
                flags |= Qt.ItemFlag.ItemIsEditable
            elif column in _NUMERIC:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if text == NO_TEST_PART:  # an absence, not a number: drawn as the hint is
                item.setForeground(absent)
            item.setFlags(flags)
            self.table.setItem(row, column, item)

    def row_of(self, run_id: int) -> int:
        """The table row showing ``run_id``, or -1."""
        for row in range(self.table.rowCount()):
            if self.table.item(row, NAME).data(_RUN_ID) == run_id:
                return row
        return -1

    def run_ids(self) -> list[int]:
        """Every listed run id, in the table's current order."""
        return [self.table.item(r, NAME).data(_RUN_ID) for r in range(self.table.rowCount())]

    def selected_ids(self) -> list[int]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.table.item(r, NAME).data(_RUN_ID) for r in rows]

    def select_runs(self, run_ids: list[int]) -> None:
        """Select exactly these runs (what a Ctrl+click would do)."""
        model = self.table.selectionModel()
        self.table.blockSignals(True)
        self.table.clearSelection()
        for run_id in run_ids:
            row = self.row_of(run_id)
            if row >= 0:
                model.select(
                    self.table.model().index(row, 0),
                    model.SelectionFlag.Select | model.SelectionFlag.Rows,
                )
        self.table.blockSignals(False)
        self.table.itemSelectionChanged.emit()

    def export_ids(self) -> list[int]:
        """What an export covers: the selected runs (oldest first), else the current run."""
        chosen = sorted(self.selected_ids())
        current = self.live_runs.current_id
        if not chosen and current is not None:
            chosen = [current]
        return chosen

    # -- overlay ---------------------------------------------------------------------------------
    def sync_overlays(self) -> None:
        """Put the selected runs on screen, take the deselected off; live runs stay."""
        model = self.live_runs
        wanted = {i for i in self.selected_ids() if model.get(i) is None or i in self._overlaid}
        for run_id in self._overlaid - wanted:
            model.remove(run_id)
        # Oldest first: a run's colour is fixed when it first appears.
        for run_id in sorted(wanted - self._overlaid):
            if self._show_run(run_id):
                self._overlaid.add(run_id)
        self._overlaid &= wanted

    def _show_run(self, run_id: int) -> bool:
        try:
            run = self.store.get_run(run_id)
        except FitGapError:
            return False  # deleted by another process since the last refresh
        self.live_runs.show_stored(run)
        return True

    def _on_selection(self) -> None:
        """The user changed the selection: overlays follow; one row takes the focus."""
        self.sync_overlays()
        ids = self.selected_ids()
        self.live_runs.set_focus(ids[0] if len(ids) == 1 else None)

    def _on_run_added(self, run: LiveRun) -> None:
        if run.origin == "live":
            self.refresh()

    def _on_run_removed(self, run_id: int) -> None:
        # Taken off the plots elsewhere (runs of another data set): the row is deselected.
        if run_id in self._overlaid:
            self._overlaid.discard(run_id)
            row = self.row_of(run_id)
            if row >= 0:
                self.table.blockSignals(True)
                self.table.selectionModel().select(
                    self.table.model().index(row, 0),
                    self.table.selectionModel().SelectionFlag.Deselect
                    | self.table.selectionModel().SelectionFlag.Rows,
                )
                self.table.blockSignals(False)
                self._update_buttons()

    # -- editing ---------------------------------------------------------------------------------
    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() != NAME:
            return
        run_id, name = item.data(_RUN_ID), item.text()
        # After the edit has finished: the rename refills the table, replacing this item.
        QTimer.singleShot(0, lambda: self.rename(run_id, name))

    def rename(self, run_id: int, name: str) -> None:
        """Rename in the store; the legend follows.  An empty name is refused."""
        try:
            self.store.rename_run(run_id, name)
        except FitGapError as exc:
            self._signatures.pop(run_id, None)  # the cell shows the refused name: redo it
            self.error.emit(str(exc))
        else:
            if run_id in self._overlaid:  # redraw under the new legend name
                self._show_run(run_id)
        self.refresh()

    def edit_selected_name(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.table.editItem(self.table.item(self.row_of(ids[0]), NAME))

    def delete_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            what = "run" if len(ids) == 1 else f"{len(ids)} runs"
            names = ", ".join(self.table.item(self.row_of(i), NAME).text() for i in ids[:5])
            if len(ids) > 5:
                names += ", …"
            if self.confirm(f"Delete {what} ({names}) with their epochs and models?"):
                self.delete(ids)

    def delete(self, run_ids: list[int]) -> None:
        """Delete runs from the store and the plots; a run still training is refused."""
        deleted = 0
        for run_id in run_ids:
            try:
                self.store.delete_run(run_id)
            except FitGapError as exc:
                self.error.emit(str(exc))
                continue
            self._overlaid.discard(run_id)
            self.live_runs.remove(run_id)
            logger.info("run %s deleted", run_id)
            deleted += 1
        self.refresh()
        if deleted:
            self.message.emit(f"Deleted {deleted} run{'s' if deleted != 1 else ''}.")

    def load_selected_settings(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.load_settings(ids[0])

    def load_settings(self, run_id: int) -> None:
        """Put a stored run's config into the controls (Train repeats the run)."""
        try:
            run = self.store.get_run(run_id)
        except FitGapError as exc:
            self.error.emit(str(exc))
            return
        if run.kind == "callback":
            self.message.emit(f"{run.name}: {LOAD_CALLBACK_TIP}.")
            return
        self.controls.set_config(run.config)
        self.message.emit(f"Loaded the settings of {run.name} ({run_label(run_id)}).")

    # -- menus ------------------------------------------------------------------------------------
    def _update_buttons(self) -> None:
        # An empty list says what will appear in it; a list says what selecting does.
        self.hint.setText(HINT_RUNS if self.table.rowCount() else HINT_EMPTY)
        ids = self.selected_ids()
        count = len(ids)
        own = count == 1 and ids[0] in self._callback_ids
        self.load_button.setEnabled(count == 1 and not own)
        self.load_button.setToolTip(LOAD_CALLBACK_TIP if own else LOAD_TIP)
        self.rename_button.setEnabled(count == 1)
        self.delete_button.setEnabled(count > 0)

    def context_menu(self) -> QMenu:
        """The menu a right click shows (built fresh: it depends on the selection)."""
        menu = QMenu(self)
        ids = self.selected_ids()
        count = len(ids)
        own = count == 1 and ids[0] in self._callback_ids
        load = (
            "Load settings (a script's run: none to load)" if own else "Load settings from this run"
        )
        actions = [
            (load, self.load_selected_settings, count == 1 and not own),
            ("Rename", self.edit_selected_name, count == 1),
            ("Delete…", self.delete_selected, count > 0),
        ]
        continuing = self._continue_action() if count == 1 else None
        if continuing is not None:
            actions.insert(1, continuing)
        for text, slot, enabled in actions:
            action = QAction(text, menu)
            action.triggered.connect(slot)
            action.setEnabled(enabled)
            menu.addAction(action)
        if self.export_menu is not None:
            menu.addSeparator()
            menu.addMenu(self.export_menu)
        return menu

    def _continue_action(self) -> tuple[str, Callable[[], None], bool] | None:
        """ "Continue from epoch k…" for one stored FitGap run with a saved model."""
        run_id = self.selected_ids()[0]
        try:
            run = self.store.get_run(run_id)
        except FitGapError:
            return None
        if run.kind != "fitgap" or run.status == "running":
            return None
        epoch, _same_optimizer = saved_epoch(run)
        return (
            f"Continue from epoch {epoch}…",
            lambda: self.continue_requested.emit(run_id),
            run.has_model and epoch > 0,
        )

    def _context_menu(self, pos: QPoint) -> None:
        menu = self.context_menu()
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.table.viewport().mapToGlobal(pos))
