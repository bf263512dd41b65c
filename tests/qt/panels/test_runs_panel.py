"""The Runs tab: listing, overlay of selected runs, rename, delete, load settings, polling."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStyle
from support.runs import commit_run as _commit_run
from support.runs import train_in_window as _train

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.store.runstore import RunStore
from fitgap_gui.qt.panels.runs_panel import (
    BEST,
    DATE,
    EPOCH,
    EPOCHS,
    GAP,
    LEVERS,
    NAME,
    STATUS,
    TEST_ACC,
    TEST_LOSS,
    VAL_ACC,
)


def test_two_trained_runs_overlay_with_the_current_one(ready_window, qtbot, tiny_config):
    window = ready_window
    panel = window.runs_panel
    first = _train(window, qtbot, tiny_config)
    second = _train(window, qtbot, tiny_config.replace({"model.dropout": 0.5}))
    assert window.current_run == second
    # The new run keeps the previous one on screen, faint, until the user clears it.
    assert window.live_runs.is_faint(first) and not window.live_runs.is_faint(second)
    assert window.plots.point_count(first) == 3
    window.clear_previous_action.trigger()
    # Cleared; the first one is back only once selected.
    assert first not in window.plots.runs

    panel.select_runs([first, second])
    assert set(panel.selected_ids()) == {first, second}
    assert window.plots.point_count(first) == 3
    assert window.plots.point_count(second) == 3
    # Two runs, two colours; training solid, validation dashed.
    colours = {window.plots.runs[r].colour for r in (first, second)}
    assert len(colours) == 2
    first_colour = window.plots.runs[first].colour
    loss_item, _ = window.plots.runs[first].curves[0]
    val_item, _ = window.plots.runs[first].curves[1]
    assert loss_item.opts["pen"].style() != val_item.opts["pen"].style()

    # Deselecting drops the stored run but never the current one.
    panel.select_runs([])
    assert first not in window.plots.runs
    assert window.plots.point_count(second) == 3

    # A selected run stays beside the next run, in the colour it had; the run before
    # turns faint, and leaves at the Train after (or when cleared).
    panel.select_runs([first])
    assert window.plots.runs[first].colour == first_colour
    third = _train(window, qtbot, tiny_config)
    assert window.plots.point_count(third) == 3
    assert window.plots.point_count(first) == 3
    assert not window.live_runs.is_faint(first)  # selected, not a previous run
    assert window.live_runs.is_faint(second)
    fourth = _train(window, qtbot, tiny_config)
    assert second not in window.plots.runs  # neither current, previous nor selected
    assert window.live_runs.is_faint(third) and window.plots.point_count(fourth) == 3


def test_the_table_lists_levers_status_and_the_delivered_model(window, fitgap_home):
    store = RunStore()
    config = RunConfig().replace({"model.dropout": 0.5, "model.l2": 0.001})
    test = {"epoch": 4, "cross_entropy": 0.7812, "accuracy": 0.8014, "n": 360}
    run_id = _commit_run(store, config, epochs=4, name="dropout run", test=test)
    panel = window.runs_panel
    panel.refresh()
    row = panel.row_of(run_id)
    table = panel.table
    assert table.item(row, NAME).text() == "dropout run"
    assert table.item(row, STATUS).text() == "done"
    assert table.item(row, LEVERS).text().replace("\u00a0", " ") == "dropout 0.5, L2 1e-3"
    # The delivered model is the last epoch's (4): its test numbers, and the gap read
    # there (training 90 %, validation 70 %), not at the best epoch 2 (+10.0 pp).
    assert table.item(row, TEST_ACC).text() == "80.1%"
    assert table.item(row, TEST_LOSS).text() == "0.7812"
    assert table.item(row, EPOCH).text() == "4"
    assert table.item(row, GAP).text() == "+20.0 pp"
    assert table.item(row, VAL_ACC).text() == "70.0%"
    assert table.item(row, BEST).text() == "2"
    # The best epoch's numbers, chosen on validation, are the row's detail.
    tip = table.item(row, GAP).toolTip()
    assert "Delivered model (epoch 4, the last): test accuracy 80.1%" in tip
    assert "at epoch 4: training − validation accuracy +20.0 pp" in tip
    assert "Best epoch 2 (chosen on validation): val_accuracy 60.0%" in tip
    assert "gap +10.0 pp" in tip
    for column in (GAP, EPOCH):
        assert "delivers" in table.horizontalHeaderItem(column).toolTip()


def test_a_run_without_a_test_part_says_so(window):
    store = RunStore()
    old = _commit_run(store, RunConfig(), epochs=3, name="before test parts")
    running = store.create_run(RunConfig(), name="still training")
    panel = window.runs_panel
    panel.refresh()
    table = panel.table
    row = panel.row_of(old)
    assert table.item(row, TEST_ACC).text() == "no test part"
    assert table.item(row, TEST_LOSS).text() == "no test part"
    assert table.item(row, GAP).text() == "+15.0 pp"  # read at epoch 3, the last: 80 - 65 %
    assert "Delivered model (epoch 3, the last): no test part" in table.item(row, NAME).toolTip()
    # A run still training has delivered no model yet: a dash, not "no test part".
    row = panel.row_of(running)
    assert table.item(row, TEST_ACC).text() == "–"
    assert "test numbers come when the run ends" in table.item(row, NAME).toolTip()


def test_runs_without_test_numbers_sort_last_both_ways(window):
    store = RunStore()
    test = {"epoch": 3, "cross_entropy": 0.5, "accuracy": 0.9, "n": 20}
    old = _commit_run(store, RunConfig(), epochs=3)
    good = _commit_run(store, RunConfig(), epochs=3, test=test)
    worse = _commit_run(store, RunConfig(), epochs=3, test={**test, "accuracy": 0.7})
    panel = window.runs_panel
    panel.refresh()
    panel.table.sortByColumn(TEST_ACC, Qt.SortOrder.DescendingOrder)
    assert panel.run_ids() == [good, worse, old]
    panel.table.sortByColumn(TEST_ACC, Qt.SortOrder.AscendingOrder)
    assert panel.run_ids() == [worse, good, old]


def test_sorting_by_a_metric_is_numeric(window):
    store = RunStore()
    ids = [_commit_run(store, RunConfig(), epochs=n) for n in (9, 10, 2)]
    panel = window.runs_panel
    panel.refresh()
    panel.table.sortByColumn(EPOCHS, Qt.SortOrder.AscendingOrder)
    assert panel.run_ids() == [ids[2], ids[0], ids[1]]  # 2, 9, 10: not "10" < "2"


def test_rename_in_place_and_delete_reach_the_store(window, qtbot):
    store = RunStore()
    keep = _commit_run(store, RunConfig(), epochs=2)
    gone = _commit_run(store, RunConfig(), epochs=2)
    panel = window.runs_panel
    panel.refresh()
    panel.select_runs([keep])
    assert window.plots.point_count(keep) == 2

    # Typing in the name cell is a rename; the legend follows.
    panel.table.item(panel.row_of(keep), NAME).setText("baseline")
    qtbot.waitUntil(lambda: store.get_run(keep).name == "baseline", timeout=2_000)
    assert panel.selected_ids() == [keep]  # the refill kept the selection
    assert window.plots.runs[keep].label == "baseline"
    # An empty name is refused with one line, and the cell shows the stored name again.
    with qtbot.waitSignal(window.error_shown, timeout=2_000):
        panel.table.item(panel.row_of(keep), NAME).setText("  ")
    assert store.get_run(keep).name == "baseline"
    assert panel.table.item(panel.row_of(keep), NAME).text() == "baseline"
    assert "empty" in window.statusBar().currentMessage()

    asked = []
    panel.confirm = lambda text: asked.append(text) or False
    panel.select_runs([gone])
    panel.delete_selected()  # answered No: nothing happens
    assert asked and gone in [r.run_id for r in store.list_runs()]

    panel.confirm = lambda text: True
    panel.table.setFocus()
    panel.select_runs([keep, gone])
    panel.delete_shortcut.activated.emit()  # the Delete key
    assert store.list_runs() == []
    assert panel.table.rowCount() == 0
    assert keep not in window.plots.runs
    assert "Deleted 2 runs" in window.statusBar().currentMessage()


def test_load_settings_from_a_run_sets_the_controls(window):
    store = RunStore()
    config = RunConfig().replace({"model.dropout": 0.3, "early_stopping.enabled": True})
    run_id = _commit_run(store, config, epochs=2)
    panel = window.runs_panel
    panel.refresh()
    assert window.controls.config().model.dropout != 0.3
    panel.select_runs([run_id])
    assert panel.load_button.isEnabled()
    panel.load_button.click()
    loaded = window.controls.config()
    assert loaded.model.dropout == 0.3 and loaded.early_stopping.enabled
    menu = panel.context_menu()
    texts = [a.text() for a in menu.actions()]
    assert "Load settings from this run" in texts and "Delete…" in texts


def test_a_run_committed_by_another_store_appears_after_the_poll(window, qtbot, fitgap_home):
    panel = window.runs_panel
    assert panel.table.rowCount() == 0
    other = RunStore(fitgap_home)  # its own connection, as the `fitgap train` process has
    run_id = _commit_run(other, RunConfig(), epochs=3, name="from the terminal")
    panel.timer.setInterval(50)  # the real interval is 2 s; the mechanism is the same
    qtbot.waitUntil(lambda: panel.row_of(run_id) >= 0, timeout=5_000)
    assert panel.table.item(panel.row_of(run_id), NAME).text() == "from the terminal"


def test_columns_fit_the_side_panel_without_a_sideways_scroll_bar(window, qtbot):
    store = RunStore()
    long_name = "+ dropout, L2 and early stopping together on the noisy digits"
    busy = RunConfig().replace(
        {
            "model.hidden_units": [512, 512, 256],
            "model.dropout": 0.3,
            "model.l2": 0.001,
            "early_stopping.enabled": True,
            "data.train_fraction": 0.25,
            "data.label_noise": 0.2,
            "training.epochs": 60,
        }
    )
    test = {"epoch": 4, "cross_entropy": 0.5213, "accuracy": 1.0, "n": 360}
    ids = [
        _commit_run(store, busy, epochs=4, name=long_name, test=test),
        _commit_run(store, busy, 3),
    ]
    panel = window.runs_panel
    window.side_tabs.setCurrentWidget(panel)
    panel.refresh()
    table = panel.table
    qtbot.waitUntil(lambda: table.viewport().width() > 0)
    shown = [c for c in range(table.columnCount()) if not table.isColumnHidden(c)]
    assert sum(table.columnWidth(c) for c in shown) <= table.viewport().width()
    assert table.horizontalScrollBar().maximum() == 0
    assert set(shown) == {NAME, LEVERS, TEST_ACC, GAP, EPOCH, STATUS}
    metrics = table.fontMetrics()
    row = panel.row_of(ids[0])
    # Status and numbers are whole; a long name is elided with the whole name in its tooltip.
    for column in (STATUS, TEST_ACC, GAP, EPOCH):
        text = table.item(row, column).text()
        assert metrics.horizontalAdvance(text) < table.columnWidth(column), text
    for column in set(shown) - {NAME, LEVERS}:
        title = table.horizontalHeaderItem(column).text()
        assert metrics.horizontalAdvance(title) < table.columnWidth(column), title
    # "no test part" wraps onto two lines, each whole, rather than widening the column.
    old = panel.row_of(ids[1])
    assert table.item(old, TEST_ACC).text() == "no test part"
    assert all(
        metrics.horizontalAdvance(word) < table.columnWidth(TEST_ACC)
        for word in ("no test", "part")
    )
    assert table.rowHeight(old) >= 2 * metrics.height()
    assert long_name in table.item(row, NAME).toolTip()
    # The levers wrap onto more lines instead of being cut.
    assert table.rowHeight(row) > 2 * metrics.height()
    levers = table.item(row, LEVERS).text()
    assert "L2 1e-3" in levers.replace("\u00a0", " ")
    # Hidden columns come back from the header's menu.
    menu = panel.columns_menu()
    date = next(a for a in menu.actions() if a.text() == "Date")
    date.trigger()
    assert not table.isColumnHidden(DATE)


def test_at_the_windows_own_size_every_lever_and_number_reads_whole(window, qtbot):
    """The window opens at 1400 × 850 (app.py): there the six default columns leave the
    levers room for each lever on a line of its own, whole."""
    busy = RunConfig().replace(
        {
            "model.hidden_units": [512, 512, 256],
            "model.dropout": 0.3,
            "early_stopping.enabled": True,
            "data.label_noise": 0.2,
        }
    )
    test = {"epoch": 4, "cross_entropy": 0.5213, "accuracy": 1.0, "n": 360}
    run_id = _commit_run(RunStore(), busy, epochs=4, name="run with many levers", test=test)
    window.resize(1400, 850)
    panel = window.runs_panel
    window.side_tabs.setCurrentWidget(panel)
    panel.refresh()
    table = panel.table
    qtbot.waitUntil(lambda: table.columnWidth(LEVERS) > 100)
    metrics = table.fontMetrics()
    margins = 2 * (table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1)
    levers = table.item(panel.row_of(run_id), LEVERS).text().split(", ")
    assert "layers\u00a0512-512-256" in levers and "label\u00a0noise\u00a020%" in levers
    for lever in levers:
        # The text margins, the grid line, and a pixel for the text's fractional width.
        width = metrics.horizontalAdvance(lever + ",") + margins + 2
        assert width <= table.columnWidth(LEVERS), lever
    assert table.horizontalScrollBar().maximum() == 0


def test_the_side_panel_keeps_its_width_between_tabs(window, qtbot):
    from PySide6.QtWidgets import QApplication, QLabel

    tabs = window.side_tabs
    qtbot.waitUntil(lambda: window.splitter.sizes()[2] > 0)
    width = window.splitter.sizes()[2]
    # A tab whose content asks for more room (a long unwrapped line) must not widen the side.
    wide = QLabel("a long line of diagnosis text that does not wrap " * 6)
    tabs.addTab(wide, "Wide")
    for index in range(tabs.count()):
        tabs.setCurrentIndex(index)
        QApplication.processEvents()  # let the layout settle
        assert window.splitter.sizes()[2] == width, tabs.tabText(index)


def test_an_empty_runs_tab_says_what_will_appear(window):
    from fitgap_gui.qt.panels.runs_panel import HINT_EMPTY, HINT_RUNS

    panel = window.runs_panel
    assert panel.table.rowCount() == 0 and panel.hint.text() == HINT_EMPTY
    assert "FitGapCallback" in HINT_EMPTY
    _commit_run(RunStore(), RunConfig(), epochs=2, name="first")
    panel.refresh()
    assert panel.table.rowCount() == 1 and panel.hint.text() == HINT_RUNS


def test_runs_trained_one_after_another_keep_different_colours_when_overlaid(
    ready_window, qtbot, tiny_config
):
    """Each Train sends the run before last off screen; its colour went to the next
    run, so selecting it again showed two runs in one colour."""
    from fitgap_gui.qt.plots.theme import DARK, LIGHT
    from fitgap_gui.qt.runtime.live_runs import PALETTE_SLOTS

    assert len(LIGHT.palette) == len(DARK.palette) == PALETTE_SLOTS
    window = ready_window
    ids = [_train(window, qtbot, tiny_config) for _ in range(4)]
    window.runs_panel.select_runs(ids[1:])
    assert set(window.plots.runs) >= set(ids[1:])
    assert len({window.plots.runs[r].colour for r in ids[1:]}) == 3


def test_a_script_run_has_no_settings_to_load_and_names_its_own_data(window):
    """A FitGapCallback run: Load settings is off, saying why; the views name its data."""
    store = RunStore()
    mine = _commit_run(store, RunConfig().replace({"model.dropout": 0.3}), epochs=2)
    about = {"script": "bc.py", "input_shape": [30], "train_samples": 341, "val_samples": 114}
    run_id = store.create_run(
        RunConfig(), "bc dense 64", kind="callback", levers={"layers": []}, script_data=about
    )
    panel = window.runs_panel
    panel.refresh()
    panel.select_runs([run_id])
    assert not panel.load_button.isEnabled()
    assert "own script" in panel.load_button.toolTip()
    menu = [a for a in panel.context_menu().actions() if a.text().startswith("Load settings")]
    assert not menu[0].isEnabled()
    before = window.controls.config()
    panel.load_settings(run_id)  # asked anyway: refused, in words
    assert window.controls.config() == before
    assert "own script" in window.statusBar().currentMessage()
    levers = panel.table.item(panel.row_of(run_id), LEVERS).text()
    assert "bc.py" in levers and "digits" not in levers
    # Beside a FitGap run on the plots, the status bar names the script's data.
    panel.select_runs([mine, run_id])
    assert "bc.py's own data" in window.statusBar().currentMessage()
    panel.select_runs([mine])
    assert panel.load_button.isEnabled()
