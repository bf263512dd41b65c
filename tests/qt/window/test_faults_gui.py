"""Faults during training, seen in the window: divergence, an error inside training, lost data.

Training is real Keras in every test; only the fault is arranged (a learning rate
that diverges, a store write that fails, a file deleted before Train).
"""

from __future__ import annotations

import math
import sqlite3

from fitgap_gui.core.store.runstore import RunStore


def _train(window, qtbot, config):
    """Train ``config`` from the controls; returns the worker's finished results."""
    results = []
    window.controller.finished.connect(lambda _run_id, r: results.append(r))
    window.controls.set_config(config)
    with qtbot.waitSignal(window.training_ended, timeout=60_000):
        window.train()
    return results


def test_a_diverging_run_ends_as_diverged_with_the_hint_and_keeps_its_epochs(
    ready_window, qtbot, tiny_config
):
    # Plain SGD at learning rate 10 through two linear layers on unscaled digits
    # (pixel values 0-16): the loss overflows to NaN in the second epoch.
    config = tiny_config.replace(
        {
            "model.hidden_units": [16],
            "model.activation": "linear",
            "training.optimizer": "sgd",
            "training.learning_rate": 10.0,
            "training.epochs": 5,
        }
    )
    (result,) = _train(ready_window, qtbot, config)

    assert result.status == "diverged"
    assert 1 <= result.epochs_run < 5  # ended within the epoch it diverged in
    assert "learning rate" in result.message
    status = ready_window.statusBar().currentMessage()
    assert f"Run {result.run_id} diverged at epoch {result.epochs_run}" in status
    assert "learning rate too high?" in status
    # The plots keep every epoch it ran, the finite ones drawn as points.
    assert ready_window.plots.point_count(result.run_id) == result.epochs_run
    assert math.isfinite(result.history["loss"][0])
    stored = RunStore().get_run(result.run_id)
    assert stored.status == "diverged" and "learning rate" in stored.message
    assert len(RunStore().history(result.run_id)["loss"]) == result.epochs_run
    assert ready_window.train_button.isEnabled()


def test_an_exception_inside_training_is_shown_and_the_run_stored_as_failed(
    ready_window, qtbot, tiny_config, monkeypatch
):
    # The disk fills up while epoch 2 is being saved: the store's write raises inside
    # Keras's callback, in the worker thread, halfway through a real training.
    real_append = RunStore.append_epoch

    def append_or_fail(self, run_id, metrics):
        if metrics.epoch == 2:
            raise sqlite3.OperationalError("database or disk is full")
        real_append(self, run_id, metrics)

    monkeypatch.setattr(RunStore, "append_epoch", append_or_fail)
    window = ready_window
    window.controls.set_config(tiny_config.replace({"training.epochs": 4}))
    with qtbot.waitSignal(window.error_shown, timeout=60_000) as shown:
        window.train()
    qtbot.waitUntil(lambda: window.train_button.isEnabled(), timeout=30_000)

    (run,) = RunStore().list_runs()
    expected = "OperationalError: database or disk is full"
    assert shown.args[0] == f"Run {run.run_id} failed: {expected}"
    assert window._error_box.isVisible() and expected in window._error_box.text()
    assert run.status == "failed" and expected in run.message
    assert len(RunStore().history(run.run_id)["loss"]) == 1  # epoch 1 was committed
    assert window.plots.point_count(run.run_id) == 1
    assert not window.stop_button.isEnabled()

    # The window trains again once the fault is gone.
    monkeypatch.setattr(RunStore, "append_epoch", real_append)
    window._error_box.close()
    (result,) = _train(window, qtbot, tiny_config)
    assert result.status == "completed"


def test_a_data_file_deleted_before_train_is_refused_without_a_run(
    ready_window, qtbot, tiny_config, tmp_path
):
    path = tmp_path / "rows.csv"
    path.write_text("a,b,label\n" + "".join(f"{i},{i % 5},{i % 2}\n" for i in range(40)))
    window = ready_window
    window.controls.set_config(tiny_config.replace({"data.source": "csv", "data.path": str(path)}))
    config = window.controls.config()  # validated while the file is there
    path.unlink()

    with qtbot.waitSignal(window.error_shown, timeout=60_000) as shown:
        window.train_configs([config])
    qtbot.waitUntil(lambda: window.train_button.isEnabled(), timeout=30_000)
    assert shown.args[0].startswith("Cannot train: ") and str(path) in shown.args[0]
    assert RunStore().list_runs() == []  # nothing half-made is stored
