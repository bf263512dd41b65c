"""A finished run's axis, and a new run beside a comparison's bands."""

from __future__ import annotations

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.results.records import EpochMetrics, RunResult
from fitgap_gui.qt.plots.plots import PlotsPanel


def _panel(qtbot) -> PlotsPanel:
    panel = PlotsPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    return panel


def _metrics(epoch: int) -> EpochMetrics:
    val = abs(epoch - 4) * 0.1 + 0.5
    return EpochMetrics(
        epoch, {"loss": 1.0 / epoch, "val_loss": val, "accuracy": 0.6, "val_accuracy": 0.6}
    )


HISTORY = {
    "loss": [1.0, 0.5, 0.2],
    "val_loss": [1.1, 0.9, 1.0],
    "accuracy": [0.5, 0.7, 0.9],
    "val_accuracy": [0.5, 0.6, 0.6],
}


def test_a_run_stopped_at_epoch_12_is_not_shown_on_a_0_60_axis_once_finished(qtbot):
    panel = _panel(qtbot)
    panel.set_epoch_span(60)
    panel.begin_run(1, "#1", "val_loss")
    for epoch in range(1, 13):
        panel.add_epoch(1, _metrics(epoch))
    assert panel.x_span() == 60  # while it trains: the epochs it asked for
    result = RunResult(
        RunConfig(), {}, "early_stopped", 12, best_epoch=4, stopped_epoch=12, restored_best=True
    )
    panel.finish_run(1, result)
    assert panel.x_span() == 12
    low, high = panel.plots["loss"].getViewBox().viewRange()[0]
    assert high <= 13.5


def test_a_new_run_beside_a_comparisons_bands_stands_out_above_them(qtbot):
    panel = _panel(qtbot)
    for run_id in range(1, 7):
        panel.show_history(run_id, f"#{run_id}", HISTORY)
    for arm, ids in (("baseline", [1, 2]), ("+ dropout", [3, 4]), ("+ L2", [5, 6])):
        panel.show_band(arm, ids)
    live = panel.begin_run(9, "#9", "val_loss")
    panel.style_run(9, 5)  # the slot LiveRuns gave it: light blue on white
    band_colours = {band.colour for band in panel.bands.values()}
    assert live.colour not in band_colours
    assert live.colour == panel.theme.marker  # the theme's strongest ink
    band_z = max(item.zValue() for band in panel.bands.values() for _p, item, _n in band.means)
    assert min(item.zValue() for item, _ in live.curves) > band_z
    panel.clear_bands()
    assert live.colour == panel.theme.palette[5]


def test_the_early_stopping_countdown_wraps_inside_a_narrow_loss_plot(qtbot):
    panel = _panel(qtbot)
    panel.resize(500, 600)  # the loss plot is about 220 pixels wide, as at the default size
    panel.begin_run(1, "#1", "val_loss")
    text = "early stopping: 3 of 5 without improvement\nstops at epoch 10 if nothing improves"
    panel.show_countdown(text, 10)
    qtbot.waitUntil(lambda: panel.plots["loss"].getViewBox().width() > 0, timeout=2000)
    view = panel.plots["loss"].getViewBox()
    item = panel.notes.countdown_text
    assert item.isVisible()
    left = item.pos().x() - item.textItem.boundingRect().width()  # anchored at its right
    assert left >= 0 and item.pos().x() <= view.width()
