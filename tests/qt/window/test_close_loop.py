"""Closing the window during training, again and again, never leaves a thread running.

Each round builds a fresh window, loads the engine, starts a long run, waits for its
first epoch and closes the window.  A run destroyed mid-flight would abort the
process ("QThread: Destroyed while thread is still running"); here the close must
stop the run, end the thread, and store the run as stopped with its epochs.
"""

from __future__ import annotations

import pytest

from fitgap_gui.core.store.runstore import RunStore

ROUNDS = 3


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_close_during_training_repeatedly_stops_cleanly(qtbot, tiny_config, round_):
    from fitgap_gui.qt.window.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.engine_ready, timeout=120_000):
        window.start_engine_loading()
    window.controls.set_config(tiny_config.replace({"training.epochs": 5000}))
    window.train()
    # Close at a different point each round: after epoch 1, 2 or 3.
    qtbot.waitUntil(lambda: window.progress.value() >= round_ + 1, timeout=60_000)

    assert window.close()
    assert not window.isVisible()
    assert not window.controller.thread_running()
    # The worker's last signal (all_done) is queued to the GUI thread; it still arrives.
    qtbot.waitUntil(lambda: not window.is_training(), timeout=5_000)
    (run,) = RunStore().list_runs()
    assert run.status == "stopped" and round_ + 1 <= run.epochs_run < 5000
