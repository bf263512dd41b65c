"""Pause, Continue and branch in the real window (offscreen, real Keras, real store)."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

from fitgap_gui.core.run.branching import PauseGate
from fitgap_gui.core.store.runstore import RunStore
from fitgap_gui.qt.plots.buffer import COL

EPOCHS = 30  # tiny epochs: the pause is pressed after epoch 2, well before the end


@pytest.fixture
def config(tiny_config):
    return tiny_config.replace({"training.epochs": EPOCHS, "training.learning_rate": 0.01})


def _collect(window):
    results = []
    window.controller.finished.connect(lambda _run_id, r: results.append(r))
    return results


def _train_and_pause(window, qtbot, config, monkeypatch):
    """Train ``config`` and press Pause after epoch 2 is shown; returns the held epoch.

    The training thread waits at the end of epoch 2 until Pause is pressed: on a
    loaded machine the tiny run could otherwise end before the window shows epoch 2.
    """
    pressed = threading.Event()
    hold = PauseGate.hold

    def hold_until_pressed(gate, epoch, should_stop):
        if epoch == 2:
            pressed.wait(60)
        return hold(gate, epoch, should_stop)

    monkeypatch.setattr(PauseGate, "hold", hold_until_pressed)
    shown = []
    window.controller.epoch_done.connect(lambda _run_id, m: shown.append(m.epoch))
    window.controls.set_config(config)
    window.train()
    qtbot.waitUntil(lambda: len(shown) >= 2, timeout=60_000)
    with qtbot.waitSignal(window.controller.paused, timeout=60_000) as paused:
        window.pausing.button.click()
        pressed.set()
    run_id, epoch = paused.args
    assert window.pausing.button.text() == "Continue"
    assert f"Paused after epoch {epoch}" in window.statusBar().currentMessage()
    return run_id, epoch


def test_pause_then_continue_unchanged_is_one_run_with_the_same_numbers(
    ready_window, qtbot, config, monkeypatch
):
    window = ready_window
    results = _collect(window)
    window.controls.set_config(config)
    with qtbot.waitSignal(window.training_ended, timeout=120_000):
        window.train()
    (plain,) = results
    results.clear()

    run_id, epoch = _train_and_pause(window, qtbot, config, monkeypatch)
    assert epoch == 2
    # Held: only the levers a branch may change are enabled.
    assert window.controls.dropout.isEnabled() and window.controls.learning_rate.isEnabled()
    assert not window.controls.hidden_units.isEnabled()
    assert not window.controls.source.isEnabled()
    assert not window.controls.early_stopping.isChecked()
    assert not window.controls.patience.isEnabled()  # its group box is unchecked
    with qtbot.waitSignal(window.training_ended, timeout=120_000):
        window.pausing.button.click()
    (result,) = results  # the same fit went on: one run
    assert result.run_id == run_id and result.status == "completed"
    for key, values in plain.history.items():
        np.testing.assert_allclose(result.history[key], values, atol=1e-4, err_msg=key)
    assert window.controls.hidden_units.isEnabled()  # the controls are back
    assert not window.controls.patience.isEnabled()
    assert window.pausing.button.text() == "Pause"


def test_pause_change_dropout_continue_branches_into_a_linked_child(
    ready_window, qtbot, config, monkeypatch
):
    window = ready_window
    results = _collect(window)
    run_id, epoch = _train_and_pause(
        window, qtbot, config.replace({"training.epochs": 12}), monkeypatch
    )
    window.controls.dropout.setValue(0.3)
    with qtbot.waitSignal(window.training_ended, timeout=120_000):
        window.pausing.button.click()
    parent, child = results
    assert (parent.run_id, parent.status, parent.epochs_run) == (run_id, "branched", epoch)
    assert child.config.model.dropout == 0.3 and child.epochs_run == 12
    stored = RunStore().get_run(child.run_id)
    assert (stored.parent_run_id, stored.branch_epoch) == (run_id, epoch)
    assert RunStore().get_run(run_id).status == "branched"
    # Both drawn; the child joins its parent's curve at the branch epoch.
    assert window.plots.point_count(run_id) == epoch
    curves = window.plots.runs[child.run_id].raw()
    assert curves[:, 0].tolist() == list(range(1, 13))
    val = curves[:, COL["val_loss"]]
    assert all(math.isnan(v) for v in val[: epoch - 1])
    assert val[epoch - 1] == pytest.approx(parent.history["val_loss"][epoch - 1])
    assert child.status == "completed"


def test_a_stored_run_continues_from_the_runs_tab(ready_window, qtbot, config):
    window = ready_window
    results = _collect(window)
    window.controls.set_config(config.replace({"training.epochs": 3}))
    with qtbot.waitSignal(window.training_ended, timeout=120_000):
        window.train()
    (first,) = results
    window.runs_panel.refresh()
    window.runs_panel.table.selectRow(0)  # the newest run
    (action,) = [a for a in window.runs_panel.context_menu().actions() if "Continue" in a.text()]
    assert action.text() == "Continue from epoch 3…" and action.isEnabled()
    action.trigger()
    assert window.pausing.button.text() == "Continue"
    assert window.controls.config().training.epochs == 6  # it had trained all it asked
    window.controls.dropout.setValue(0.2)
    with qtbot.waitSignal(window.training_ended, timeout=120_000):
        window.pausing.button.click()
    child = results[-1]
    stored = RunStore().get_run(child.run_id)
    assert (stored.parent_run_id, stored.branch_epoch, stored.epochs_run) == (first.run_id, 3, 6)
    assert window.plots.point_count(child.run_id) == 6
    window.runs_panel.refresh()
    tips = [
        window.runs_panel.table.item(row, 0).toolTip()
        for row in range(window.runs_panel.table.rowCount())
    ]
    assert sum(f"branched from run {first.run_id} at epoch 3" in tip for tip in tips) == 1


def test_stop_while_paused_stops_promptly_and_keeps_the_epochs(
    ready_window, qtbot, config, monkeypatch
):
    window = ready_window
    results = _collect(window)
    run_id, epoch = _train_and_pause(window, qtbot, config, monkeypatch)
    with qtbot.waitSignal(window.training_ended, timeout=30_000):
        window.stop()
    (result,) = results
    assert (result.run_id, result.status, result.epochs_run) == (run_id, "stopped", epoch)
    assert len(RunStore().history(run_id)["loss"]) == epoch
    assert window.pausing.button.text() == "Pause" and window.controls.hidden_units.isEnabled()
    assert not window.controller.thread_running()
