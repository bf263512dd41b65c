"""Run → Lab: a double descent drawn as its runs finish, and the range test's Apply."""

from __future__ import annotations

import pytest

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.experiments.labstore import read_records
from fitgap_gui.core.store.runstore import RunStore

TINY = {
    "data": {"source": "digits", "train_fraction": 0.05, "scale": "minmax"},
    "model": {"hidden_units": [8]},
    "training": {"epochs": 2, "batch_size": 16, "seed": 1, "learning_rate": 0.001},
}


@pytest.fixture
def lab_window(ready_window):
    ready_window.controls.set_config(RunConfig.from_dict(TINY))
    return ready_window


def test_double_descent_runs_in_the_window_and_plots_each_width(lab_window, qtbot):
    dialog = lab_window.open_lab_dialog()
    dialog.choose("double-descent")
    dialog.widths.setText("2, 4")
    dialog.epochs.setValue(1)
    with qtbot.waitSignal(lab_window.training_ended, timeout=120_000):
        assert dialog.run()
        assert not dialog.run_button.isEnabled() and dialog.stop_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.plan is None, timeout=10_000)
    assert [w["width"] for w in dialog.payload["widths"]] == [2, 4]
    curves = [item for item in dialog.plot.getPlotItem().listDataItems()]
    assert len(curves) == 2 and len(curves[1].getData()[0]) == 2
    assert "test error" in dialog.reading.text()
    (record,) = read_records(RunStore())
    assert record["kind"] == "double-descent" and len(record["study"]["curves"]) == 2
    assert dialog.run_button.isEnabled() and not dialog.stop_button.isEnabled()


def test_lr_range_apply_copies_the_suggested_rate_into_the_lever(lab_window, qtbot):
    dialog = lab_window.open_lab_dialog()
    dialog.choose("lr-range")
    dialog.min_rate.setText("1e-5")
    dialog.steps.setValue(40)
    assert dialog.run()
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=60_000)
    assert dialog.error.text() == ""
    assert len(dialog.payload["rates"]) >= 10
    assert len(dialog.plot.getPlotItem().listDataItems()) == 2
    suggested = dialog.payload["suggested"]
    assert len(dialog.payload["rates"]) <= 40
    if suggested is None:  # possible on so few rows; then Apply stays off
        assert not dialog.apply_button.isEnabled()
        return
    assert dialog.apply_button.isEnabled()
    assert dialog.apply()
    assert lab_window.controls.config().training.learning_rate == pytest.approx(suggested)


def test_bad_settings_show_a_line_and_start_nothing(lab_window):
    dialog = lab_window.open_lab_dialog()
    dialog.choose("randomization")
    dialog.levels.setText("0, 2")
    assert not dialog.run()
    assert "0 to 1" in dialog.error.text()
    assert not lab_window.controller.is_busy()
