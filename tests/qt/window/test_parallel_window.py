"""Experiments in parallel in the window: worker processes, live runs, Stop, close,
Train with repeats, and Edit → Preferences (remembered).

Real Keras in real spawned worker processes (two), on a few dozen digits samples.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from fitgap_gui.core.store.runstore import RunStore
from fitgap_gui.qt.window import preferences
from fitgap_gui.qt.window.preferences import ExecutorChoice, load_choice, save_choice

#: Long enough that only Stop (or closing) ends a run.
FOREVER = 100_000


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie (its /proc status says so)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    state = next((line for line in status.splitlines() if line.startswith("State:")), "")
    return "zombie" not in state


@pytest.fixture
def two_workers(window):
    """The window's experiments train in two worker processes (Preferences)."""
    save_choice(ExecutorChoice(workers=2))
    return window


def _worker_pids(window) -> list[int]:
    executor = window.controller.last_executor
    assert executor is not None
    return list(executor.worker_pids)


def test_compare_trains_two_runs_at_once_and_stop_ends_them_all(
    two_workers, ready_window, qtbot, tiny_config
):
    window = ready_window
    panel = window.experiments_panel
    live = window.live_runs
    window.controls.set_config(tiny_config.replace({"training.epochs": FOREVER}))
    panel.repeats_box.setValue(1)
    assert panel.compare_remedies()

    # Two runs of the plan train at the same time, each with its own history and colour.
    qtbot.waitUntil(lambda: len(live.training()) == 2, timeout=180_000)
    qtbot.waitUntil(lambda: all(run.epochs >= 2 for run in live.training()), timeout=60_000)
    training = live.training()
    assert len({live.views[run.run_id].colour for run in training}) == 2
    assert len({run.run_id for run in training}) == 2
    assert all(run.status == "running" for run in training)
    pids = _worker_pids(window)
    assert len(pids) == 2 and all(_alive(pid) for pid in pids) and os.getpid() not in pids
    # Both curves are on the plots, and the panel names each run with its epoch.
    for run in training:
        assert window.plots.runs[run.run_id].visible
    lines = panel.under_way.text().split("<br>")
    assert len(lines) == 2 and all(", epoch " in line and f"of {FOREVER}" in line for line in lines)
    # The first two arms, in whichever order their workers reported first.
    names = sorted(line.split(": training, epoch ")[0] for line in lines)
    assert names == sorted(run.label for run in training) == ["+ dropout 0.3", "baseline"]
    assert panel.progress.text() == "0 of 5 runs finished, 2 training"
    assert window.progress.text() == "0 of 5 runs finished, 2 training"
    # The runs train in worker processes: there is nothing here that Pause could hold.
    assert not window.pausing.button.isEnabled() and not window.pausing.action.isEnabled()

    # Stop ends every run of the plan within seconds; their epochs stay stored.
    stopped_at = time.monotonic()
    with qtbot.waitSignal(window.training_ended, timeout=60_000):
        window.stop()
    assert time.monotonic() - stopped_at < 15
    runs = RunStore().list_runs()
    assert len(runs) == 2 and {r.status for r in runs} == {"stopped"}
    assert all(r.epochs_run >= 2 for r in runs)
    assert not live.training()  # nothing stays "training" on screen
    assert panel.progress.text() == "cancelled after 2 of 5 runs"
    assert not panel.under_way.isVisible()
    qtbot.waitUntil(lambda: not any(_alive(pid) for pid in pids), timeout=10_000)


def test_a_sweep_in_parallel_stores_every_run_and_counts_finished_runs(
    two_workers, ready_window, qtbot, tiny_config, finished_runs
):
    window = ready_window
    panel = window.experiments_panel
    window.controls.set_config(tiny_config.replace({"training.epochs": 3}))
    panel.repeats_box.setValue(2)
    counts: list[str] = []
    panel.row_added.connect(lambda *_: counts.append(panel.progress.text()))
    runs = finished_runs(window, lambda: panel.start_sweep("model.dropout", [0.0, 0.3]))

    assert len(runs) == 4 and {r.status for r in runs} == {"completed"}
    assert sorted((r.config.model.dropout, r.config.training.seed) for r in runs) == [
        (0.0, 1),
        (0.0, 2),
        (0.3, 1),
        (0.3, 2),
    ]
    assert all(r.epochs_run == 3 and "worker" in (r.ran_on or "") for r in runs)
    # Each finished run moves the bar by one, whatever order they finish in.
    assert [c.split(",")[0] for c in counts] == [f"{n} of 4 runs finished" for n in (1, 2, 3, 4)]
    assert panel.progress.value() == 4 and panel.progress.text() == "done: 4 runs"
    assert window.progress.text() == "4 of 4 runs finished"
    assert panel.point_count() == 2
    assert not any(_alive(pid) for pid in _worker_pids(window))
    # The insight views need the model in this process: they say why they are empty.
    message = window.insights_panel.validation.message.text()
    assert message.startswith("Not available for this run: it trained on ") and "worker" in message


def test_train_with_repeats_trains_the_seeds_in_parallel_as_one_arm(
    two_workers, ready_window, qtbot, tiny_config
):
    window = ready_window
    panel = window.experiments_panel
    window.controls.set_config(tiny_config.replace({"training.epochs": 3}))
    window.repeats_box.setValue(3)
    with qtbot.waitSignal(window.training_ended, timeout=240_000):
        window.train_button.click()

    runs = sorted(RunStore().list_runs(), key=lambda r: r.config.training.seed)
    assert [r.config.training.seed for r in runs] == [1, 2, 3]
    assert [r.name for r in runs] == [f"this setup (seed {s})" for s in (1, 2, 3)]
    assert all("worker" in (r.ran_on or "") for r in runs)
    # One arm: the mean ± 95 % interval row, and the mean curve with its band.
    assert panel.table.rowCount() == 1
    assert "±" in panel.table.item(0, 1).text()
    assert panel.summaries[0].val_cross_entropy.mean == pytest.approx(
        sum(r.best_metrics["val_cross_entropy"] for r in runs) / 3
    )
    band = window.plots.bands["this setup"]
    assert sorted(band.run_ids) == sorted(r.run_id for r in runs)
    assert panel.progress.text() == "done: 3 runs"


def test_train_with_one_repeat_is_one_run_in_this_process(ready_window, qtbot, tiny_config):
    window = ready_window
    save_choice(ExecutorChoice(workers=2))  # a single Train never uses the workers
    window.controls.set_config(tiny_config)
    assert window.repeats_box.value() == 1
    with qtbot.waitSignal(window.training_ended, timeout=120_000):
        window.train_button.click()
    (run,) = RunStore().list_runs()
    assert run.name == f"run {run.run_id}" and "worker" not in (run.ran_on or "")
    assert window.controller.last_executor is None
    assert window.progress.text() == f"run {run.run_id}: epoch 3 of 3"


def test_the_train_repeats_box_is_remembered(qtbot, window):
    from fitgap_gui.qt.window.main_window import MainWindow

    window.repeats_box.setValue(4)
    window.close()
    second = MainWindow()
    qtbot.addWidget(second)
    assert second.repeats_box.value() == 4


def test_closing_the_window_during_an_experiment_leaves_no_worker_process(
    two_workers, ready_window, qtbot, tiny_config
):
    window = ready_window
    window.controls.set_config(tiny_config.replace({"training.epochs": FOREVER}))
    window.experiments_panel.repeats_box.setValue(1)
    assert window.experiments_panel.compare_remedies()
    qtbot.waitUntil(lambda: len(window.live_runs.training()) == 2, timeout=180_000)
    pids = _worker_pids(window)
    assert all(_alive(pid) for pid in pids)
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=30_000)
    assert not any(_alive(pid) for pid in pids)
    assert {r.status for r in RunStore().list_runs()} == {"stopped"}


def test_preferences_choose_the_executor_and_are_remembered(qtbot, window, monkeypatch):
    from fitgap_gui.qt.window.main_window import MainWindow

    action = window.preferences.action
    assert action in window.menus["edit"].actions()
    assert not action.shortcut().isEmpty()
    assert load_choice().in_process  # the test window's own choice: one worker
    action.trigger()
    dialog = window.preferences.dialog
    assert dialog is not None and dialog.isVisible()
    dialog.workers_box.setCurrentIndex(dialog.workers_box.findData(2))
    dialog.accept()
    assert load_choice() == ExecutorChoice(workers=2)
    window.close()

    second = MainWindow()
    qtbot.addWidget(second)
    assert second.preferences.choice() == ExecutorChoice(workers=2)
    dialog = second.preferences.open()
    assert dialog.workers_box.currentData() == 2 and dialog.local_button.isChecked()
    # Auto is the first entry, then 1 … the usable cores.
    assert dialog.workers_box.itemData(0) == 0
    assert dialog.workers_box.count() == dialog.cores + 1
    dialog.reject()

    # Ray chosen with an address is remembered too; without Ray it says how to install.
    if preferences.ray_installed():
        dialog = second.preferences.open()
        dialog.ray_button.setChecked(True)
        dialog.address_edit.setText("ray://10.0.0.5:10001")
        dialog.accept()
        assert load_choice() == ExecutorChoice("ray", 2, "ray://10.0.0.5:10001")
    monkeypatch.setattr(preferences, "ray_installed", lambda: False)
    dialog = second.preferences.open()
    assert not dialog.ray_button.isEnabled()
    assert 'pip install -e ".[ray]"' in dialog.ray_hint.text()
    assert dialog.local_button.isChecked()  # a remembered Ray choice falls back here
    dialog.reject()


def test_live_runs_hold_several_training_runs_and_keep_the_focus(qtbot, tiny_config):
    """Runs of a parallel plan start while others train: each keeps its own state."""
    from fitgap_gui.core.results.records import EpochMetrics, RunResult
    from fitgap_gui.core.run.live import RunRequest
    from fitgap_gui.qt.runtime.live_runs import LiveRuns

    live = LiveRuns()
    live.begin(1, RunRequest(tiny_config, "a"))
    live.begin(2, RunRequest(tiny_config, "b"))
    assert [r.run_id for r in live.training()] == [1, 2]
    assert live.focus_id == 1  # the diagnosis does not jump to each new start
    assert live.live_id == 2 and live.views[1].colour != live.views[2].colour
    live.append_epoch(2, EpochMetrics(1, {"loss": 1.0, "val_loss": 1.2}))
    assert (live.runs[1].epochs, live.runs[2].epochs) == (0, 1)
    result = RunResult(config=tiny_config, history={}, status="completed", epochs_run=1)
    live.finish(2, result)
    assert [r.run_id for r in live.training()] == [1] and live.live_id == 1
    live.finish(1, result)
    assert not live.training() and live.live_id is None
    live.begin(3, RunRequest(tiny_config, "c"))
    assert live.focus_id == 3  # nothing trains any more: the new run takes the focus
