"""The real window offscreen: train, stop, close during a run, errors, refusals."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.results.records import RunResult
from fitgap_gui.core.store.runstore import RunStore


def _train_and_collect(window, qtbot, config):
    """Press Train on ``config``; returns (epoch_done payloads, finished results)."""
    epochs, results = [], []
    worker = window.controller
    worker.epoch_done.connect(lambda run_id, m: epochs.append((run_id, m)))
    worker.finished.connect(lambda run_id, r: results.append(r))
    window.controls.set_config(config)
    with qtbot.waitSignal(window.training_ended, timeout=60_000):
        window.train()
    return epochs, results


def test_window_opens_on_the_default_preset(window):
    assert window.windowTitle() == "FitGap"
    config = window.controls.config()
    assert config.data.source == "digits"
    assert config.model.hidden_units == [512, 512]
    assert not window.train_button.isEnabled()  # TensorFlow is not loaded yet
    assert "TensorFlow" in window.statusBar().currentMessage()


def test_training_emits_one_epoch_done_per_epoch_and_fills_the_curves(
    ready_window, qtbot, tiny_config
):
    window = ready_window
    assert window.train_button.isEnabled()
    epochs, results = _train_and_collect(window, qtbot, tiny_config)

    assert [m.epoch for _, m in epochs] == [1, 2, 3]
    run_id = epochs[0][0]
    assert all(r == run_id for r, _ in epochs)
    assert window.plots.point_count(run_id) == 3
    assert window.progress.value() == 3 and window.progress.maximum() == 3
    (result,) = results
    assert result.status == "completed" and result.epochs_run == 3
    curves = window.plots.runs[run_id]
    assert curves.best_epoch == result.best_epoch
    assert curves.best_lines[0].isVisible()
    assert "Delivered model (epoch 3, the last)" in window.statusBar().currentMessage()
    # The epochs were committed to the store as they were shown.
    assert len(RunStore().history(run_id)["loss"]) == 3
    assert window.train_button.isEnabled() and not window.stop_button.isEnabled()


def test_stop_ends_the_run_and_keeps_the_partial_curves(ready_window, qtbot, tiny_config):
    window = ready_window
    config = tiny_config.replace({"training.epochs": 2000})
    worker = window.controller
    results, aborted = [], []
    worker.finished.connect(lambda run_id, r: results.append(r))
    worker.aborted.connect(aborted.append)

    window.controls.set_config(config)
    window.train()
    # Wait in the GUI thread (the worker's signals reach plain callables in its own).
    qtbot.waitUntil(lambda: window.progress.value() >= 2, timeout=60_000)
    with qtbot.waitSignal(window.training_ended, timeout=60_000):
        window.stop()

    (result,) = results
    assert result.status == "stopped"
    assert 2 <= result.epochs_run < 2000
    assert aborted == [result.run_id]
    assert window.plots.point_count(result.run_id) == result.epochs_run
    assert RunStore().get_run(result.run_id).status == "stopped"
    assert window.controller.shutdown(10_000)
    assert not window.controller.thread_running()


def test_closing_during_training_stops_the_run_and_the_thread(ready_window, qtbot, tiny_config):
    window = ready_window
    window.controls.set_config(tiny_config.replace({"training.epochs": 5000}))
    with qtbot.waitSignal(window.controller.epoch_done, timeout=60_000) as first:
        window.train()
    run_id = first.args[0]
    assert window.is_training()

    assert window.close()
    assert not window.controller.thread_running()
    run = RunStore().get_run(run_id)
    assert run.status == "stopped" and 1 <= run.epochs_run < 5000


def test_a_worker_error_reaches_errored_and_the_user(ready_window, qtbot, tiny_config, tmp_path):
    window = ready_window
    missing = tmp_path / "nowhere.npz"
    window.controls.set_config(
        tiny_config.replace({"data.source": "npz", "data.path": str(missing)})
    )
    with (
        qtbot.waitSignal(window.controller.errored, timeout=60_000) as errored,
        qtbot.waitSignal(window.error_shown, timeout=60_000) as shown,
    ):
        window.train()
    run_id, exc = errored.args
    assert "nowhere.npz" in str(exc)
    assert "nowhere.npz" in shown.args[0]
    assert window._error_box is not None and window._error_box.isVisible()
    assert "nowhere.npz" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: window.train_button.isEnabled(), timeout=10_000)


def test_a_bad_lever_is_refused_with_a_message_before_any_run(ready_window, qtbot):
    window = ready_window
    window.controls.hidden_units.setText("64, 99999")
    with qtbot.waitSignal(window.error_shown, timeout=5_000) as shown:
        window.train()
    assert "hidden_units" in shown.args[0]
    assert not window.is_training()
    assert RunStore().list_runs() == []


def test_side_tabs_appear_when_a_panel_is_added(window):
    from PySide6.QtWidgets import QLabel

    # The window's panels (the Runs tab first) already show the tab area.
    assert window.side_tabs.isVisible()
    assert window.side_tabs.tabText(0) == "Runs"
    index = window.add_side_tab(QLabel("more"), "More")
    assert window.side_tabs.tabText(index) == "More"


@pytest.mark.parametrize("name", ["Train", "Stop"])
def test_run_menu_has_train_and_stop_with_shortcuts(window, name):
    actions = {a.text().replace("&", ""): a for a in window.menuBar().actions()}
    run_menu = actions["Run"].menu()
    shortcuts = {a.text().replace("&", ""): a.shortcut().toString() for a in run_menu.actions()}
    assert shortcuts[name] == {"Train": "Ctrl+R", "Stop": "Esc"}[name]


def test_a_sequence_of_configs_is_overlaid_on_the_plots(ready_window, qtbot, tiny_config):
    window = ready_window
    configs = [tiny_config, tiny_config.replace({"model.dropout": 0.5, "training.epochs": 2})]
    with qtbot.waitSignal(window.training_ended, timeout=60_000):
        window.train_configs(configs)
    counts = sorted(window.plots.point_count(run_id) for run_id in window.plots.runs)
    assert counts == [2, 3]
    assert window.progress.maximum() == 2  # the progress bar follows the running run


def test_closing_while_tensorflow_loads_waits_for_the_loader(window):
    window.start_engine_loading()
    assert window.close()
    assert window._loader is not None and not window._loader.thread_running()


def test_every_plot_fits_its_view_at_the_smallest_window(window, qtbot):
    """pyqtgraph makes a plot's title width its minimum: a title longer than the view
    pushed the gap plot's right side, and its last ticks, out of sight."""
    from PySide6.QtWidgets import QApplication

    window.resize(window.minimumSizeHint())
    QApplication.processEvents()
    qtbot.waitUntil(lambda: window.plots.plots["gap"].width() > 0)
    for name, plot in window.plots.plots.items():
        drawn = plot.plotItem.sceneBoundingRect()
        assert drawn.right() <= plot.viewport().width() + 1, name
        assert plot.plotItem.titleLabel.minimumWidth() < plot.plotItem.vb.width() + 1, name


def test_the_status_line_after_a_run_leads_with_the_delivered_model(window):
    """When a run ends, the status line names the model it delivers, its epoch and test
    numbers, and the gap read at that epoch; the best epoch comes after."""
    config = RunConfig()
    history = {
        "accuracy": [0.8, 0.9, 1.0],
        "train_eval_accuracy": [0.8, 0.9, 1.0],
        "val_accuracy": [0.78, 0.84, 0.8],
        "val_cross_entropy": [0.6, 0.5, 0.7],
    }
    test = {"epoch": 3, "cross_entropy": 0.7812, "accuracy": 0.8014, "n": 360}
    result = RunResult(config, history, "completed", 3, best_epoch=2, seconds=2.5, test=test)
    window.controller.finished.emit(7, result)
    assert (
        window.statusBar()
        .currentMessage()
        .startswith(
            "Run 7 completed 3 epochs in 2.5 s. Delivered model (epoch 3, the last): test accuracy "
            "80.1%, test cross-entropy 0.7812 on 360 rows; training − validation accuracy "
            "+20.0 pp at epoch 3."
        )
    )
    # A run without a test part (its data brings none) says so.
    window.controller.finished.emit(8, replace(result, test=None))
    assert "Delivered model (epoch 3, the last): no test part;" in (
        window.statusBar().currentMessage()
    )
