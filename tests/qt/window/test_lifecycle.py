"""The run lifecycle a new user meets: previous runs stay (faint), stored runs show their
diagnosis and survive a restart in the top bar, a failed start leaves nothing stale,
early stopping counts down on the loss plot, and errors keep their traceback in the log."""

from __future__ import annotations

import logging

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.diagnosis.verdict import diagnose
from fitgap_gui.core.logfiles import LOG_NAME, setup_logging
from fitgap_gui.core.results.records import EpochMetrics, RunResult
from fitgap_gui.core.store.runstore import RunStore


def _train(window, qtbot, config) -> int:
    window.controls.set_config(config)
    with qtbot.waitSignal(window.training_ended, timeout=60_000):
        window.train()
    return window.current_run


def _stored_run(store: RunStore, config: RunConfig, status: str = "completed") -> int:
    """A finished run written straight into the store (as an earlier session left it)."""
    run_id = store.create_run(config, name="yesterday")
    history = {"loss": [], "val_loss": [], "accuracy": [], "val_accuracy": []}
    for epoch in range(1, 7):
        metrics = {
            "loss": 1.0 / epoch,
            "val_loss": 0.6 + abs(epoch - 3) * 0.1,
            "accuracy": 0.5 + 0.08 * epoch,
            "val_accuracy": 0.55 + 0.01 * epoch,
        }
        store.append_epoch(run_id, EpochMetrics(epoch, metrics))
        for key, value in metrics.items():
            history[key].append(value)
    result = RunResult(config, history, status, 6, best_epoch=3, run_id=run_id)
    result.diagnosis = diagnose(history, config, n_classes=10).to_dict()
    store.finish_run(run_id, result)
    return run_id


def test_apply_and_run_keeps_the_previous_run_faint_in_its_colour(ready_window, qtbot, tiny_config):
    window = ready_window
    first = _train(window, qtbot, tiny_config.replace({"training.epochs": 6}))
    colour = window.plots.runs[first].colour
    changes = {"model.dropout": 0.3, "training.epochs": 3}
    advice = {"title": "Add dropout", "why": "test", "changes": changes}
    with qtbot.waitSignal(window.training_ended, timeout=60_000):
        window.diagnosis_panel.apply_and_run(advice)
    second = window.current_run
    assert second != first and set(window.plots.runs) == {first, second}
    assert window.live_runs.is_faint(first) and not window.live_runs.is_faint(second)
    assert window.plots.runs[first].colour == colour != window.plots.runs[second].colour
    loss_curve, _ = window.plots.runs[first].curves[0]
    assert loss_curve.opacity() < 1.0
    assert window.plots.epoch_span == 6  # the longer, previous run is still shown
    window.clear_previous_runs()
    assert set(window.plots.runs) == {second}
    assert window.plots.epoch_span == 3  # the x axis shrinks to the run left


def test_a_run_on_other_data_clears_the_plots_and_says_so(ready_window, qtbot, tiny_config):
    window = ready_window
    first = _train(window, qtbot, tiny_config)
    notes: list[str] = []
    window.live_runs.note.connect(notes.append)
    moons = tiny_config.replace({"data.source": "moons", "data.train_fraction": 0.2})
    second = _train(window, qtbot, moons)
    assert first not in window.plots.runs and second in window.plots.runs
    assert notes and "digits" in notes[0] and "moons" in notes[0]
    # A stored run of the other data, selected, comes back with a note saying so.
    window.runs_panel.select_runs([first])
    assert first in window.plots.runs
    assert "digits" in notes[-1] and "moons" in notes[-1] and len(notes) == 2


def test_selecting_a_stored_run_shows_its_diagnosis(window, tiny_config):
    run_id = _stored_run(RunStore(), tiny_config)
    window.runs_panel.refresh()
    window.runs_panel.select_runs([run_id])
    panel = window.diagnosis_panel
    stored = RunStore().get_run(run_id)
    assert panel.run_id == run_id
    assert f"Run {run_id} (yesterday) (final)" in panel.summary.text()
    assert panel.diagnosis == stored.diagnosis
    assert run_id in window.plots.runs


def test_after_a_restart_the_top_bar_shows_the_last_stored_run(qtbot, tiny_config):
    from fitgap_gui.qt.window.main_window import MainWindow

    store = RunStore()
    _stored_run(store, tiny_config)
    last = _stored_run(store, tiny_config, status="early_stopped")
    window = MainWindow()
    qtbot.addWidget(window)
    assert "no run yet" not in window.progress.text()
    assert f"last run {last}:" in window.progress.text()
    assert "early-stopped" in window.progress.text() and window.progress.value() == 6
    assert f"Last run {last}" in window.summary.text()


def test_a_failed_start_resets_what_the_last_run_left(ready_window, qtbot, tiny_config, tmp_path):
    window = ready_window
    _train(window, qtbot, tiny_config.replace({"data.source": "moons"}))
    # Leave the state a stopped, overfitting run would: an onset line, "stopped by you".
    history = {
        "loss": [1.0 / e for e in range(1, 31)],
        "val_loss": [0.5 + abs(e - 8) * 0.05 for e in range(1, 31)],
    }
    window.diagnosis_panel.show_diagnosis(diagnose(history, tiny_config).to_dict(), final=True)
    assert window.plots.onset_line.isVisible()
    window.progress.setFormat("run #1: stopped by you at epoch %v of %m")
    assert window.insights_panel.boundary.showing_content()

    missing = tmp_path / "nowhere.npz"
    bad = tiny_config.replace({"data.source": "npz", "data.path": str(missing)})
    with qtbot.waitSignal(window.error_shown, timeout=60_000) as shown:
        window.controls.set_config(bad)
        window.train()
    assert "nowhere.npz" in shown.args[0]
    qtbot.waitUntil(lambda: not window.is_training(), timeout=10_000)
    assert not window.plots.onset_line.isVisible()
    assert "stopped by you" not in window.progress.text()
    assert window.progress.text() == "not started"
    assert (
        window.summary.text().startswith("Not started:") and "nowhere.npz" in window.summary.text()
    )
    assert window.diagnosis_panel.verdict_text() == "Not started"
    assert not window.insights_panel.boundary.showing_content()
    assert "nowhere.npz" in window.insights_panel.boundary.message.text()
    assert "moons" not in window.insights_panel.boundary.message.text()


def test_early_stopping_counts_down_on_the_loss_plot(ready_window, qtbot, tiny_config):
    window = ready_window
    config = tiny_config.replace(
        {
            "training.epochs": 12,
            "training.learning_rate": 0.05,
            "early_stopping.enabled": True,
            "early_stopping.patience": 2,
            "early_stopping.monitor": "loss",
            "early_stopping.min_delta": 10.0,  # nothing counts as better: a sure stop
        }
    )
    shown: list[tuple[str, bool, float]] = []
    plots = window.plots
    window.live_runs.epoch_appended.connect(
        lambda _run_id, _m: shown.append(
            (
                plots.countdown_text.toPlainText(),
                plots.countdown_line.isVisible(),
                plots.countdown_line.value(),
            )
        )
    )
    run_id = _train(window, qtbot, config)
    assert [text for text, _, _ in shown] == [
        "early stopping: 0 of 2 without improvement\nstops at epoch 3 if nothing improves",
        "early stopping: 1 of 2 without improvement\nstops at epoch 3 if nothing improves",
        "early stopping: 2 of 2 without improvement\nstops at epoch 3 if nothing improves",
    ]
    assert all(visible and value == 3 for _, visible, value in shown)
    assert RunStore().get_run(run_id).status == "early_stopped"
    # The run is over: the countdown leaves the plot.
    assert not plots.countdown_text.isVisible() and not plots.countdown_line.isVisible()


def test_an_unexpected_error_keeps_its_traceback_in_the_log(window, qtbot, fitgap_home):
    from fitgap_gui.qt.runtime.background import BackgroundTask

    handler = setup_logging()
    try:

        def broken() -> None:
            raise RuntimeError("a bug in a worker\nsecond line")

        task = BackgroundTask(broken, name="fitgap-test-task")
        with qtbot.waitSignal(task.errored, timeout=10_000) as errored:
            task.start()
        qtbot.waitUntil(lambda: not task.is_running(), timeout=10_000)
        exc = errored.args[0]
        assert isinstance(exc, RuntimeError)
        with qtbot.waitSignal(window.error_shown, timeout=5_000) as shown:
            window._on_errored(7, exc)
        assert shown.args[0] == "Run 7 failed: RuntimeError: a bug in a worker"
        handler.flush()
        text = (fitgap_home / "logs" / LOG_NAME).read_text()
        assert "Traceback" in text and "RuntimeError: a bug in a worker" in text
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()


def test_help_show_log_folder_opens_the_log_folder(window, fitgap_home):
    from PySide6.QtCore import QObject, QUrl, Slot
    from PySide6.QtGui import QDesktopServices

    class Catcher(QObject):
        urls: list[str] = []

        @Slot(QUrl)
        def open(self, url: QUrl) -> None:
            self.urls.append(url.toLocalFile())

    catcher = Catcher()
    QDesktopServices.setUrlHandler("file", catcher, "open")
    try:
        actions = {a.text().replace("&", ""): a for a in window.menus["help"].actions()}
        actions["Show log folder"].trigger()
    finally:
        QDesktopServices.unsetUrlHandler("file")
    folder = str(fitgap_home / "logs")
    assert catcher.urls == [folder] and window.help.opened_folder == folder


def test_the_window_starts_with_an_unwritable_log_and_a_clean_stderr(qtbot, tmp_path, capfd):
    from fitgap_gui.qt.window.main_window import MainWindow

    home = tmp_path / "a-file"
    home.write_text("the data folder is a file")
    handler = setup_logging(home)
    try:
        window = MainWindow()
        qtbot.addWidget(window)
        window.show()
        window.show_error("something the user must read")
        logging.getLogger("fitgap_gui.qt").exception("no traceback on stderr")
        assert window.isVisible()
        err = capfd.readouterr().err
        lines = [line for line in err.splitlines() if "propagateSizeHints" not in line]
        assert len(lines) <= 1 and "Traceback" not in err and "Logging error" not in err
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()


def test_a_bug_in_a_slot_goes_to_the_log_and_one_line_to_the_window(
    window, fitgap_home, monkeypatch, capfd
):
    import sys

    from fitgap_gui.app import log_unexpected_errors

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # put back after the test
    handler = setup_logging()
    try:
        log_unexpected_errors(window)
        try:
            {}["missing"]
        except KeyError:
            sys.excepthook(*sys.exc_info())
        handler.flush()
        text = (fitgap_home / "logs" / LOG_NAME).read_text()
        assert "unexpected error" in text and "Traceback" in text and "KeyError" in text
        message = window.statusBar().currentMessage()
        assert message.startswith("Unexpected error: KeyError") and "\n" not in message
        assert "Traceback" not in capfd.readouterr().err
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
