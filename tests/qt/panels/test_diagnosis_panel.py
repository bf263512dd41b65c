"""The Diagnosis tab: a verdict after a real run, live updates, Apply and run."""

from __future__ import annotations

import numpy as np
import pytest

from fitgap_gui.core.diagnosis.verdict import diagnose
from fitgap_gui.core.store.runstore import RunStore
from fitgap_gui.qt.panels.diagnosis_panel import VERDICT_STYLE


def _overfitting_history(n: int = 40) -> dict[str, list[float]]:
    """Training loss keeps falling; validation loss bottoms out at epoch 10, then climbs."""
    epochs = np.arange(1, n + 1, dtype=float)
    loss = 1.2 * np.exp(-epochs / 8) + 0.02
    val = 0.5 + 0.004 * (epochs - 10) ** 2 / 2 + 0.7 * np.exp(-epochs / 4)
    acc = 1 - loss / 2.5
    val_acc = 0.8 - 0.002 * np.abs(epochs - 10)
    return {
        "loss": loss.tolist(),
        "val_loss": val.tolist(),
        "accuracy": acc.tolist(),
        "val_accuracy": val_acc.tolist(),
    }


def test_the_panel_follows_a_run_and_shows_the_stored_verdict(ready_window, qtbot, tiny_config):
    window = ready_window
    panel = window.diagnosis_panel
    seen = []
    window.live_runs.epoch_appended.connect(lambda _run_id, _m: seen.append(panel.verdict_text()))
    window.controls.set_config(tiny_config.replace({"training.epochs": 6}))
    with qtbot.waitSignal(window.training_ended, timeout=60_000):
        window.train()

    run = RunStore().get_run(window.current_run)
    words, colour = VERDICT_STYLE[run.diagnosis["verdict"]]
    # Live: a verdict after every epoch, from the panel's own copy of the history.
    assert len(seen) == 6 and all(s in {w for w, _ in VERDICT_STYLE.values()} for s in seen)
    assert panel.history["val_loss"] == pytest.approx(run.history["val_loss"])
    # Final: the diagnosis stored with the run, in its colour, with its numbers.
    assert panel.verdict_text() == words
    assert colour in panel.verdict.styleSheet()
    assert f"Run {run.run_id} (final)" in panel.summary.text()
    assert "Early stopping with patience" in panel.numbers.text()
    assert f"of {run.epochs_run}" in panel.numbers.text()
    buttons = [item.button for item in panel.advice_items]
    assert len(buttons) == len(run.diagnosis["advice"])
    assert all(b.isEnabled() for b in buttons)


def test_overfitting_marks_the_onset_on_the_loss_plot(window, tiny_config):
    panel = window.diagnosis_panel
    diagnosis = diagnose(_overfitting_history(), tiny_config, n_classes=10).to_dict()
    assert diagnosis["verdict"] == "overfitting"
    panel.show_diagnosis(diagnosis, final=True)

    assert panel.verdict_text() == "Overfitting"
    onset_line = window.plots.onset_line
    assert onset_line.isVisible()
    assert onset_line.value() == diagnosis["onset_epoch"]
    assert f"Onset: epoch {diagnosis['onset_epoch']}" in panel.summary.text()
    assert "would have stopped at epoch" in panel.numbers.text()
    titles = [item.advice["title"] for item in panel.advice_items]
    assert titles == [a["title"] for a in diagnosis["advice"]] and titles
    # The next epoch's diagnosis reuses the frames: their texts follow the new advice.
    flat = {"loss": [2.2 - 0.001 * i for i in range(30)], "val_loss": [2.25] * 30}
    underfit = diagnose(flat, tiny_config, n_classes=10).to_dict()
    assert underfit["verdict"] == "underfitting"
    panel.show_diagnosis(underfit)
    assert panel.verdict_text() == "Underfitting" and not onset_line.isVisible()
    assert [i.advice for i in panel.advice_items] == underfit["advice"]
    assert [i.title.text() for i in panel.advice_items] == [
        f"<b>{a['title']}</b>" for a in underfit["advice"]
    ]
    panel.show_diagnosis(None)
    assert not panel.advice_items


def test_apply_and_run_changes_the_controls_and_trains_the_change(ready_window, qtbot, tiny_config):
    window = ready_window
    panel = window.diagnosis_panel
    window.controls.set_config(tiny_config.replace({"training.epochs": 2}))
    diagnosis = diagnose(_overfitting_history(), tiny_config, n_classes=10).to_dict()
    panel.show_diagnosis(diagnosis, final=True)
    item = panel.advice_items[0]
    changes = item.advice["changes"]
    assert changes and item.button.isEnabled()

    with qtbot.waitSignal(window.training_ended, timeout=60_000):
        item.button.click()

    expected = tiny_config.replace({"training.epochs": 2}).replace(changes)
    assert window.controls.config() == expected
    run = RunStore().get_run(window.current_run)
    assert run.config == expected
    assert run.status in {"completed", "early_stopped"}
    # The new run's own diagnosis replaced the one the advice came from.
    assert panel.run_id == run.run_id and "(final)" in panel.summary.text()
