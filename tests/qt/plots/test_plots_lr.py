"""The learning rate drawn: its own log-scale plot, its drops marked on the loss plot."""

from __future__ import annotations

import numpy as np
import pytest

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.results.records import EpochMetrics
from fitgap_gui.qt.plots.buffer import COL
from fitgap_gui.qt.plots.lr import rate_drops


def _config(schedule: dict) -> RunConfig:
    return RunConfig.from_dict(
        {
            "data": {"source": "digits", "train_fraction": 0.05, "validation_split": 0.2},
            "model": {"hidden_units": [16]},
            "training": {"epochs": 5, "batch_size": 16, "seed": 1, "lr_schedule": schedule},
        }
    )


def _train(window, qtbot, config: RunConfig) -> int:
    """Press Train on ``config``; the run's id once it has ended."""
    finished: list[int] = []
    window.controller.finished.connect(lambda run_id, _result: finished.append(run_id))
    window.controls.set_config(config)
    with qtbot.waitSignal(window.training_ended, timeout=120_000):
        window.train()
    assert len(finished) == 1
    return finished[0]


def _lr_item(curves):
    (index,) = [i for i, spec in enumerate(curves.spec) if spec[1] == "learning_rate"]
    return curves.curves[index][0]


def test_a_step_schedule_is_drawn_and_each_drop_marked(ready_window, qtbot):
    window = ready_window
    step = _train(window, qtbot, _config({"kind": "step", "every": 2, "factor": 0.5}))
    history = window.live_runs.get(step).history
    rates = np.array(history["learning_rate"], dtype=float)
    # Halved after epochs 2 and 4 (ExponentialDecay, staircase, every 2 epochs).
    assert np.allclose(rates, [1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4])

    curves = window.plots.runs[step]
    item = _lr_item(curves)
    assert np.allclose(item.yData, rates)  # the values themselves; the axis is log
    assert window.plots.plots["lr"].getPlotItem().ctrl.logYCheck.isChecked()
    assert [epoch for epoch, _old, _new in curves.drops] == [2, 4]
    xs, _ys = curves.drop_dot.getData()
    assert list(xs) == [2, 4]
    tips = list(curves.drop_dot.data["data"])
    assert tips[0] == "learning rate 0.001 → 0.0005 after epoch 2"
    # The hover readout of the loss plot says it too, at the drop's epoch only.
    assert "learning rate 0.001 → 0.0005 after epoch 2" in window.plots.hover.show_at("loss", 2)
    assert "learning rate" not in window.plots.hover.show_at("loss", 3)

    constant = _train(window, qtbot, _config({"kind": "constant"}))
    flat = window.plots.runs[constant]
    assert np.allclose(_lr_item(flat).yData, 1e-3)
    assert flat.drops == [] and len(flat.drop_dot.getData()[0]) == 0


def test_the_learning_rate_plot_is_a_remembered_view_option(window):
    options = window.view_options
    lr_plot = window.plots.plots["lr"]
    assert not lr_plot.isHidden() and options.lr_action.isChecked()  # shown by default
    options.lr_action.trigger()  # the View menu's toggle
    assert lr_plot.isHidden() and not options.lr_box.isChecked()
    assert options.settings.value("view/show_lr", type=bool) is False
    options.lr_box.setChecked(True)  # the bar above the plots drives the same option
    assert not lr_plot.isHidden() and options.settings.value("view/show_lr", type=bool)


def test_an_old_run_without_learning_rate_draws_nothing_there(panel):
    history = {"loss": [1.0, 0.8, 0.7], "val_loss": [1.1, 0.9, 0.95]}
    history |= {"accuracy": [0.5, 0.6, 0.7], "val_accuracy": [0.4, 0.5, 0.55]}
    curves = panel.show_history(1, "old", history)
    assert np.isnan(curves.raw()[:, COL["learning_rate"]]).all()
    assert not np.isfinite(_lr_item(curves).yData).any()
    assert curves.drops == [] and panel.lr_visible()


def test_a_live_drop_is_marked_as_the_epochs_arrive_and_follows_log_scale(panel):
    panel.begin_run(1, "#1")
    for epoch, rate in enumerate([0.01, 0.01, 0.01, 0.001], start=1):
        metrics = {"loss": 1 / epoch, "val_loss": 1.2 / epoch, "accuracy": 0.5}
        metrics |= {"val_accuracy": 0.4, "learning_rate": rate}
        panel.add_epoch(1, EpochMetrics(epoch, metrics))
    panel.flush()
    curves = panel.runs[1]
    assert curves.drops == [(3, 0.01, 0.001)]
    assert curves.drop_dot.getData()[1][0] == pytest.approx(1.2 / 3)  # on the val loss
    panel.set_log_y(True)
    assert curves.drop_dot.getData()[1][0] == pytest.approx(np.log10(1.2 / 3))


@pytest.mark.parametrize(
    ("rates", "drops"),
    [
        ([1.0, 1.0, 0.5, 0.5, 0.25], [(2, 1.0, 0.5), (4, 0.5, 0.25)]),
        ([1.0, 1.0, 1.0], []),
        ([1.0, 0.9, 0.7, 0.4, 0.1], []),  # a cosine decay: the curve says it, no markers
        ([0.0, 0.5, 1.0, 1.0], []),  # a warm-up rises: no drop
        ([1.0, np.nan, 0.5], []),  # a missing epoch is no drop
    ],
)
def test_rate_drops(rates, drops):
    assert rate_drops(np.array(rates)) == drops


def test_a_rate_falling_over_decades_is_painted_on_log_ticks(panel):
    """The log axis's minor ticks have no spacing: the plot and its cached grid
    must still draw (they once raised inside a paint, which crashed Qt)."""
    from fitgap_gui.qt.plots.plot_items import ValueAxis

    axis = ValueAxis("left")
    axis.setLogMode(False, True)
    levels = axis.tickValues(-4.2, -1.7, 200)
    assert any(spacing is None for spacing, _values in levels)  # the minor level
    panel.set_epoch_span(30)
    panel.begin_run(1, "#1")
    for epoch in range(1, 31):
        rate = 0.01 * 0.2 ** ((epoch - 1) // 10)
        metrics = {"loss": 1 / epoch, "val_loss": 1.2 / epoch, "accuracy": 0.5}
        panel.add_epoch(
            1, EpochMetrics(epoch, metrics | {"val_accuracy": 0.4, "learning_rate": rate})
        )
        panel.flush()
    before = panel.layers["lr"].renders
    image = panel.grab()
    assert not image.isNull() and panel.layers["lr"].renders > before
    low, high = panel.plots["lr"].getViewBox().viewRange()[1]
    assert low <= np.log10(0.0004) and high >= np.log10(0.01)
    assert [epoch for epoch, _old, _new in panel.runs[1].drops] == [10, 20]


def test_a_live_curve_starts_at_its_first_epoch(panel):
    """A live curve grows from its first point, not from (0, 0)."""
    panel.begin_run(1, "#1")
    for epoch in (1, 2, 3):
        metrics = {"loss": 0.5 + epoch, "val_loss": 0.6 + epoch, "accuracy": 0.5}
        panel.add_epoch(1, EpochMetrics(epoch, metrics | {"val_accuracy": 0.4}))
        panel.flush()
    path = panel.runs[1].curves[0][0]._path
    points = [(path.elementAt(i).x, path.elementAt(i).y) for i in range(path.elementCount())]
    assert points == [(1.0, 1.5), (2.0, 2.5), (3.0, 3.5)]


def test_log_ticks_label_only_one_two_and_five_of_a_decade():
    from fitgap_gui.qt.plots.plot_items import ValueAxis

    axis = ValueAxis("left")
    axis.setLogMode(False, True)
    values = [float(np.log10(v)) for v in (0.0006, 0.0007, 0.0008, 0.0009, 0.001, 0.002, 0.005)]
    texts = axis.tickStrings(values, 1.0, 1.0)
    assert [bool(t) for t in texts] == [False, False, False, False, True, True, True]
