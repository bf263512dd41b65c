"""The window follows a user's own Keras training (FitGapCallback) in another process."""

from __future__ import annotations

from fitgap_gui.core.store.runstore import RunStore
from fitgap_gui.qt.panels.runs_panel import EPOCHS, LEVERS, NAME, STATUS


def test_the_runs_tab_follows_a_callback_run_in_another_process(
    window, qtbot, fitgap_home, own_model_script
):
    panel = window.runs_panel
    panel.timer.setInterval(50)  # the real interval is 2 s; the mechanism is the same
    # A researcher's script: its own model with FitGapCallback; it waits after epoch 2.
    proc = own_model_script(name="my own cnn", epochs=4, pause_after=2)
    assert proc.stdout is not None and proc.stdin is not None
    assert [proc.stdout.readline().strip() for _ in range(2)] == ["epoch 1", "epoch 2"]
    (run,) = RunStore(fitgap_home).list_runs()

    def row_shows(status: str, epochs: int) -> bool:
        row = panel.row_of(run.run_id)
        return (
            row >= 0
            and panel.table.item(row, STATUS).text() == status
            and panel.table.item(row, EPOCHS).text() == str(epochs)
        )

    # Paused after two committed epochs: the window lists the run as live.
    qtbot.waitUntil(lambda: row_shows("running", 2), timeout=10_000)
    row = panel.row_of(run.run_id)
    assert panel.table.item(row, NAME).text() == "my own cnn"
    # The levers column keeps each lever on one line (no-break spaces inside a lever).
    assert "dropout 0.3" in panel.table.item(row, LEVERS).text().replace("\u00a0", " ")

    proc.stdin.write("go on\n")
    proc.stdin.flush()
    assert proc.stdout.read().split()[-1] == "done"
    assert proc.wait(timeout=60) == 0
    qtbot.waitUntil(lambda: row_shows("done", 4), timeout=10_000)  # "completed", shortened
    # Selected, it is overlaid on the plots like any stored run.
    panel.select_runs([run.run_id])
    assert window.plots.point_count(run.run_id) == 4


def test_a_selected_callback_run_grows_on_the_plots_with_a_live_diagnosis(
    window, qtbot, fitgap_home, own_model_script
):
    panel = window.runs_panel
    panel.timer.setInterval(50)
    proc = own_model_script(name="followed", epochs=4, pause_after=2)
    assert proc.stdout is not None and proc.stdin is not None
    assert [proc.stdout.readline().strip() for _ in range(2)] == ["epoch 1", "epoch 2"]
    (run,) = RunStore(fitgap_home).list_runs()
    qtbot.waitUntil(lambda: panel.row_of(run.run_id) >= 0, timeout=10_000)

    # Selected while it trains in the other process: on screen with its two epochs.
    panel.select_runs([run.run_id])
    shown = window.live_runs.get(run.run_id)
    assert shown is not None and shown.status == "running"
    assert window.plots.point_count(run.run_id) == 2
    assert window.diagnosis_panel.run_id == run.run_id
    grew: list[tuple[int, int]] = []
    window.live_runs.epoch_appended.connect(lambda run_id, m: grew.append((run_id, m.epoch)))

    proc.stdin.write("go on\n")
    proc.stdin.flush()
    assert proc.stdout.read().split()[-1] == "done"
    assert proc.wait(timeout=60) == 0
    qtbot.waitUntil(lambda: shown.status == "completed", timeout=10_000)

    # Each epoch committed by the script reached the model, the plots and the diagnosis.
    assert grew == [(run.run_id, 3), (run.run_id, 4)]
    assert window.plots.point_count(run.run_id) == 4
    stored = RunStore(fitgap_home).get_run(run.run_id)
    assert shown.history["loss"] == stored.history["loss"]
    assert window.diagnosis_panel.diagnosis == stored.diagnosis
    assert "(final)" in window.diagnosis_panel.summary.text()
