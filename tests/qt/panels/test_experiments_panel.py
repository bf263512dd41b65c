"""The Experiments tab: compare remedies, sweeps, learning curve, cancel, the dialog."""

from __future__ import annotations

import dataclasses

import pytest

from fitgap_gui.core.store.runstore import RunStore


def test_compare_remedies_runs_five_overlaid_runs_and_fills_the_table(
    ready_window, tiny_config, finished_runs
):
    window = ready_window
    panel = window.experiments_panel
    base = tiny_config.replace({"training.epochs": 2})
    window.controls.set_config(base)
    panel.repeats_box.setValue(1)  # one seed per arm here; repeats: test_repeats_window.py
    runs = finished_runs(window, panel.compare_remedies)

    assert len(runs) == 5 and panel.table.rowCount() == 5
    names = [r.name for r in runs]
    assert names[0] == "baseline" and names[-1] == "all three"
    assert names[1].startswith("+ dropout") and names[2].startswith("+ L2")
    # Overlaid: one curve set per run, named like the runs in the legend.
    assert sorted(window.plots.runs) == [r.run_id for r in runs]
    assert [window.plots.runs[r.run_id].label for r in runs] == names
    # Same data and seed; only the lever differs.
    assert {r.config.training.seed for r in runs} == {base.training.seed}
    assert runs[1].config.model.dropout > 0 and runs[2].config.model.l2 > 0
    assert runs[3].config.early_stopping.enabled
    # The table judges each run's delivered model on the test part; without a test
    # part, its numbers are the stored runs' best-epoch numbers and the headers say so.
    test = panel.summaries[0].metric == "test_cross_entropy"
    header = panel.table.horizontalHeaderItem(1).text()
    assert header.startswith("Test") if test else "no test" in header
    # The delivered epoch and the chosen-on-validation column start hidden (the side
    # panel is too narrow for seven): every visible column fits, with no scrolling.
    assert panel.table.isColumnHidden(4) and panel.table.isColumnHidden(6)
    header = panel.table.horizontalHeader()
    shown = [c for c in range(panel.table.columnCount()) if not panel.table.isColumnHidden(c)]
    assert sum(header.sectionSize(c) for c in shown) <= panel.table.viewport().width()
    by_id = {r.run_id: r for r in panel.rows}
    for row, run in enumerate(runs):
        best, mine = run.best_metrics, by_id[run.run_id]
        assert panel.table.item(row, 0).text() == run.name
        if test:
            assert panel.table.item(row, 1).text() == f"{mine.test_cross_entropy:.4f}"
            assert panel.table.item(row, 2).text() == f"{mine.test_accuracy:.1%}"
            at = mine.delivered_epoch - 1
            history = RunStore().history(run.run_id)
            gap = history["val_cross_entropy"][at] - history["train_eval_cross_entropy"][at]
            assert panel.table.item(row, 4).text() == str(mine.delivered_epoch)
            assert panel.table.item(row, 6).text() == f"{best['val_cross_entropy']:.4f}"
        else:
            assert panel.table.item(row, 1).text() == f"{best['val_cross_entropy']:.4f}"
            assert panel.table.item(row, 2).text() == f"{best['val_accuracy']:.1%}"
            gap = best["val_cross_entropy"] - best["train_eval_cross_entropy"]
            assert panel.table.item(row, 4).text() == str(run.best_epoch)
        assert panel.table.item(row, 3).text() == f"{gap:+.4f}"
        assert panel.rows[row].verdict == run.diagnosis["verdict"]
    assert panel.progress.value() == 5 and panel.progress.text() == "done: 5 runs"
    judged = [r.test_cross_entropy if test else r.val_cross_entropy for r in panel.rows]
    best = min(range(5), key=lambda i: judged[i])
    assert f"<b>{runs[best].name}</b>" in panel.best_note.text()
    assert panel.table.item(best, 1).font().bold()
    assert not panel.table.item((best + 1) % 5, 1).font().bold()
    assert not panel.sweep_box.isVisible()


def test_a_sweep_from_the_dialog_gives_one_point_and_one_stored_run_per_value(
    ready_window, tiny_config, finished_runs
):
    from fitgap_gui.qt.dialogs.sweep_dialog import SweepDialog

    window = ready_window
    panel = window.experiments_panel
    window.controls.set_config(tiny_config.replace({"training.epochs": 2}))
    panel.repeats_box.setValue(1)
    dialog = SweepDialog(panel, window)
    dialog.open()
    dialog.choose("model.dropout", "0, 2")  # dropout 2 is refused before any run
    assert not dialog.run() and "dropout" in dialog.error.text()
    assert dialog.isVisible() and not window.is_training()

    dialog.choose("model.dropout", "0, 0.2, 0.4")
    runs = finished_runs(window, dialog.run)

    assert not dialog.isVisible()
    assert [r.config.model.dropout for r in runs] == [0.0, 0.2, 0.4]
    assert [r.name for r in runs] == ["dropout 0", "dropout 0.2", "dropout 0.4"]
    assert panel.point_count() == 3 and panel.sweep_box.isVisible()
    xs, train, val = panel.sweep_points()
    assert xs == [0.0, 0.2, 0.4]
    assert val == pytest.approx([r.best_metrics["val_cross_entropy"] for r in runs])
    assert train == pytest.approx([r.best_metrics["train_eval_cross_entropy"] for r in runs])
    panel.metric.setCurrentText("accuracy")
    assert panel.sweep_points()[2] == pytest.approx([r.best_metrics["val_accuracy"] for r in runs])
    assert not panel.sweep_plot.plotItem.ctrl.logXCheck.isChecked()


def test_a_learning_rate_sweep_is_drawn_on_a_log_axis(ready_window, tiny_config, finished_runs):
    window = ready_window
    panel = window.experiments_panel
    window.controls.set_config(tiny_config.replace({"training.epochs": 2}))
    panel.repeats_box.setValue(1)
    runs = finished_runs(window, lambda: panel.start_sweep("training.learning_rate", [1e-3, 1e-2]))
    assert [r.config.training.learning_rate for r in runs] == [1e-3, 1e-2]
    assert panel.point_count() == 2
    assert panel.sweep_plot.plotItem.ctrl.logXCheck.isChecked()


def test_a_learning_curve_plots_against_the_training_set_size(
    ready_window, tiny_config, finished_runs
):
    window = ready_window
    panel = window.experiments_panel
    window.controls.set_config(tiny_config.replace({"training.epochs": 2}))
    panel.repeats_box.setValue(1)
    runs = finished_runs(window, lambda: panel.start_learning_curve([0.05, 0.1]))

    assert [r.config.data.train_fraction for r in runs] == [0.05, 0.1]
    xs, _train, _val = panel.sweep_points()
    assert len(xs) == 2 and 0 < xs[0] < xs[1]
    assert xs == [float(row.n_train) for row in panel.rows]
    assert "training-set size" in panel.sweep_plot.getAxis("bottom").labelText


def test_cancel_stops_the_whole_sequence(ready_window, qtbot, tiny_config):
    window = ready_window
    panel = window.experiments_panel
    window.controls.set_config(tiny_config.replace({"training.epochs": 2000}))
    panel.repeats_box.setValue(1)
    assert panel.compare_remedies()
    assert panel.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: window.progress.value() >= 2, timeout=60_000)
    with qtbot.waitSignal(window.training_ended, timeout=60_000):
        panel.cancel_button.click()

    runs = RunStore().list_runs()
    assert len(runs) == 1 and runs[0].status == "stopped"
    assert [row.status for row in panel.rows] == ["stopped"]
    assert panel.table.rowCount() == 1
    assert panel.progress.text() == "cancelled after 1 of 5 runs"
    assert not panel.cancel_button.isEnabled()
    assert window.controller.shutdown(10_000)
    assert not window.controller.thread_running()


def test_nothing_starts_while_a_run_is_training_or_before_the_engine(window, tiny_config):
    panel = window.experiments_panel
    window.controls.set_config(tiny_config)
    assert not panel.compare_remedies()  # TensorFlow is not loaded yet
    assert not panel.active and not window.is_training()
    assert "loading" in window.statusBar().currentMessage()


def test_an_empty_tab_says_what_will_appear_instead_of_run_0_of_1(window):
    panel = window.experiments_panel
    window.side_tabs.setCurrentWidget(panel)
    assert not panel.progress.isVisible() and not panel.table.isVisible()
    assert not panel.cancel_button.isVisible()
    assert panel.hint.isVisible()
    words = panel.hint.text()
    assert "Compare remedies" in words and "Sweep" in words and "will appear here" in words


def test_a_sweep_over_layer_widths_is_labelled_without_python_lists(window):
    panel = window.experiments_panel
    panel.kind, panel.param = "sweep", "model.hidden_units"
    assert panel.label([512, 512]) == "hidden units 512-512"
    panel.param = "model.dropout"
    assert panel.label(0.3) == "dropout 0.3"


def _row(label, seed, val_ce, test_ce, epoch, test_acc=0.8):
    from fitgap_gui.core.experiments.tables import ResultRow

    return ResultRow(
        label=label, value=label, run_id=None, status="completed", epochs_run=60,
        best_epoch=epoch - 5, val_loss=val_ce, val_accuracy=0.82, loss=0.1, accuracy=0.99,
        gap=0.05, accuracy_gap=0.1, verdict="overfitting", seconds=1.0,
        val_cross_entropy=val_ce, seed=seed, delivered_epoch=epoch,
        test_cross_entropy=test_ce, test_accuracy=test_acc, test_n=360, delivered_gap=0.8,
    )  # fmt: skip


def test_the_table_judges_delivered_models_on_the_test_part(ready_window):
    """Early stopping ties the baseline at its best epoch (the old table's "seed noise")
    and wins on the test part: the tab ranks and judges by the test cross-entropy, with
    the best-epoch validation number in its own column, labelled chosen on validation."""
    panel = ready_window.experiments_panel
    base = [
        _row("baseline", s, v, t, 60)
        for s, v, t in [(0, 0.46, 0.78), (1, 0.41, 0.80), (2, 0.52, 0.75)]
    ]
    early = [
        _row("+ es", s, v, t, 21) for s, v, t in [(0, 0.46, 0.52), (1, 0.41, 0.55), (2, 0.52, 0.50)]
    ]
    panel.kind, panel.repeats = "remedies", 3
    panel.plan = [("baseline", None), ("+ early stopping (patience 5)", None)]
    panel.arm_rows = {0: base, 1: early}
    panel._show_summaries()
    table = panel.table
    assert table.horizontalHeaderItem(1).text().startswith("Test cross-")
    assert "chosen" in table.horizontalHeaderItem(6).text()
    assert table.isColumnHidden(4) and table.isColumnHidden(6)  # until asked for
    assert "Delivered epoch 21" in table.item(1, 1).toolTip()
    assert "chosen on validation: 0.4633 ± 0.1368" in table.item(1, 1).toolTip()
    for action in panel.columns_menu().actions():  # the header's right-click menu
        action.setChecked(True)
    assert not table.isColumnHidden(4) and not table.isColumnHidden(6)
    assert table.item(1, 1).text() == "0.5233\n± 0.0625"
    assert table.item(1, 2).text().startswith("80.0%")
    assert table.item(1, 3).text().startswith("+0.8000")
    assert table.item(1, 4).text() == "21" and table.item(0, 4).text() == "60"
    assert table.item(1, 5).text() == "better"
    assert table.item(1, 6).text() == table.item(0, 6).text() == "0.4633\n± 0.1368"
    assert table.item(1, 1).font().bold() and not table.item(0, 1).font().bold()
    note = panel.best_note.text()
    assert "Lowest mean test cross-entropy of the delivered model: <b>+ early stopping" in note
    assert "validation chooses, test judges" in note
    assert "delivers epoch 21 (test cross-entropy 0.5200" in table.item(1, 0).toolTip()
    # Two seeds: the numbers, and no verdict.
    panel.arm_rows = {0: base[:2], 1: early[:2]}
    panel._show_summaries()
    assert table.item(1, 5).text() == "too few\nseeds"
    assert "too few seeds to tell it from the baseline" in panel.best_note.text()
    # An accuracy interval clipped at 100 % is shown as the interval itself.
    sure = [
        dataclasses.replace(r, test_accuracy=a) for r, a in zip(base, [1.0, 0.96, 1.0], strict=True)
    ]
    panel.arm_rows = {0: sure}
    panel._show_summaries()
    assert table.item(0, 2).text().startswith("98.7%\n") and table.item(0, 2).text().endswith(
        "–100.0%"
    )
    # No test part: judged at the best epoch, and the headers say so.
    old = [dataclasses.replace(r, test_n=None, test_cross_entropy=None) for r in base]
    panel.arm_rows = {0: old}
    panel._show_summaries()
    assert "no test" in table.horizontalHeaderItem(1).text() and table.isColumnHidden(6)
    assert table.item(0, 4).text() == "55"  # the best epoch
    assert "No test part" in panel.best_note.text()


def test_compare_remedies_says_which_remedy_has_no_arm(ready_window, tiny_config, monkeypatch):
    """A baseline at the top of the dropout ladder gets no dropout arm (it would be the
    baseline again), and the tab says why."""
    window = ready_window
    panel = window.experiments_panel
    window.controls.set_config(tiny_config.replace({"model.dropout": 0.7}))
    started = []
    monkeypatch.setattr(
        panel, "start", lambda kind, planned, *a, **k: started.append(planned) or True
    )
    assert panel.compare_remedies()
    assert [label for label, _ in started[0]][:2] == ["baseline", "+ L2 0.001"]
    assert "No dropout arm: the baseline's dropout 0.7 is at or past 0.7." in panel.best_note.text()


def test_the_sweep_plot_shows_the_delivered_models_test_points(ready_window):
    """A validation curve's plot: besides the best epoch's training and validation
    points, the delivered models' test cross-entropy, one mean per value."""
    panel = ready_window.experiments_panel
    panel.kind, panel.param, panel.repeats = "sweep", "model.dropout", 2
    rows = [
        dataclasses.replace(_row(str(v), s, 0.5, t, 30), value=v)
        for v, s, t in [(0.0, 0, 0.9), (0.0, 1, 0.7), (0.3, 0, 0.5), (0.3, 1, 0.6)]
    ]
    panel.rows = rows
    panel.redraw_sweep()
    assert list(panel.test_points.xData) == [0.0, 0.3]
    assert list(panel.test_points.yData) == pytest.approx([0.8, 0.55])
    panel.metric.setCurrentText("accuracy")
    assert list(panel.test_points.yData) == pytest.approx([0.8, 0.8])
    # Runs without a test part: no test points.
    panel.rows = [dataclasses.replace(r, test_cross_entropy=None, test_n=None) for r in rows]
    panel.metric.setCurrentText("loss")
    assert panel.test_points.xData is None or len(panel.test_points.xData) == 0


def test_a_long_arm_name_gets_every_line_it_needs(ready_window):
    """In the arm column of a 1400-pixel window (90 pixels) "+ early stopping (patience
    5)" needs three lines; its row grows to them and the table shows every row whole."""
    from PySide6.QtCore import QRect, Qt

    panel = ready_window.experiments_panel
    rows = [_row("baseline", s, 0.4, 0.7, 60) for s in range(2)]
    panel.kind, panel.repeats = "remedies", 2
    panel.plan = [("baseline", None), ("+ early stopping (patience 5)", None)]
    panel.arm_rows = {0: rows, 1: rows}
    panel._fit_table(2)
    panel._show_summaries()
    table = panel.table
    header = table.horizontalHeader()  # the arm column as narrow as in the side panel
    header.setSectionResizeMode(0, header.ResizeMode.Interactive)
    header.resizeSection(0, 90)
    room = QRect(0, 0, table.columnWidth(0) - 8, 10_000)
    wrap = int(Qt.TextFlag.TextWordWrap)
    needed = table.fontMetrics().boundingRect(room, wrap, table.item(1, 0).text()).height()
    assert needed > 2 * table.fontMetrics().lineSpacing()  # the case this test is about
    assert table.rowHeight(1) >= needed
    inside = table.horizontalHeader().height() + table.rowHeight(0) + table.rowHeight(1)
    assert table.height() >= inside
