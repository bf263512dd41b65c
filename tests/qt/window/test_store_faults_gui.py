"""A run store that cannot be opened: the window says so instead of a traceback."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from fitgap_gui.app import main, make_application
    app = make_application([])
    seen = []
    def answer():  # the user reads the dialog and presses OK
        box = QApplication.activeModalWidget()
        if box is not None:
            seen.append(box.text())
            box.accept()
    timer = QTimer()
    timer.timeout.connect(answer)
    timer.start(50)
    status = main([])
    print("DIALOG:", seen[0] if seen else None)
    sys.exit(status)
    """
)


def test_a_damaged_store_gives_a_message_not_a_traceback(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "runs.sqlite3").write_bytes(random.Random(3).randbytes(8192))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", FITGAP_HOME=str(home))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "fitgap store recover" in errors[0]
    assert "DIALOG:" in done.stdout and "fitgap store recover" in done.stdout


def test_the_runs_tab_survives_a_store_damaged_while_the_window_is_open(
    window, qtbot, damage_a_page
):
    from support.runs import commit_run as _commit_run

    from fitgap_gui.core.config.schema import RunConfig
    from fitgap_gui.core.store.runstore import RunStore
    from fitgap_gui.qt.panels.runs_panel import NAME

    store = RunStore()
    config = RunConfig().replace({"data.path": "x" * 1500})  # big rows: many pages
    ids = [_commit_run(store, config, epochs=2, name=f"kept {n}") for n in range(30)]
    panel = window.runs_panel
    panel.timer.stop()  # the test drives the polls itself
    panel.refresh()
    names = sorted(panel.table.item(r, NAME).text() for r in range(panel.table.rowCount()))
    assert len(names) == len(ids)
    version = panel._version

    window.store.close()  # the window's connection re-reads the damaged file
    damage_a_page(store.path)
    shown: list[str] = []
    window.error_shown.connect(shown.append)
    panel.refresh()
    for _tick in range(3):  # the 2 s poll, three times: no new dialog each time
        panel._version = None  # as if the store had moved again
        panel.poll()
    assert len(shown) == 1 and "fitgap store recover" in shown[0], shown
    assert "\n" not in shown[0]
    after = sorted(panel.table.item(r, NAME).text() for r in range(panel.table.rowCount()))
    assert after == names  # the rows shown stay
    assert panel._version is None or panel._version == version  # not taken: polls retry


def test_a_store_fault_during_a_run_is_said_once(ready_window, qtbot, tiny_config, monkeypatch):
    import sqlite3

    from fitgap_gui.core.store.runstore import RunStore

    window = ready_window
    window.store.timeout = 0.3  # FITGAP_STORE_TIMEOUT's effect, for a store already open
    holder: list[sqlite3.Connection] = []

    real_append = RunStore.append_epoch

    def locked_before_epoch_3(self, run_id, metrics) -> None:
        # On the training thread, right before epoch 3 is written: another program
        # takes the store's lock and keeps it.
        if metrics.epoch == 3 and not holder:
            other = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            other.execute("BEGIN EXCLUSIVE")
            holder.append(other)
        real_append(self, run_id, metrics)

    monkeypatch.setattr(RunStore, "append_epoch", locked_before_epoch_3)
    window.controls.set_config(tiny_config.replace({"training.epochs": 5}))
    try:
        with qtbot.waitSignal(window.error_shown, timeout=60_000) as shown:
            window.train()
        qtbot.waitUntil(lambda: window.train_button.isEnabled(), timeout=30_000)
    finally:
        for other in holder:
            other.close()
    message = shown.args[0]
    run_id = window.current_run
    # One sentence that names the run once: "Run 1 ended after epoch 2 (its 2 epochs
    # are kept): the run store … is locked by another program …".
    assert message.startswith(f"Run {run_id} ended after epoch 2 (its 2 epochs are kept): ")
    assert message.count(f"un {run_id}") == 1 and "failed:" not in message, message
    assert "locked" in message and "\n" not in message
    assert len(RunStore().history(run_id)["loss"]) == 2
