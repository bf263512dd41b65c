"""The plots' view options and hover readout, on a bare PlotsPanel (no TensorFlow)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.results.records import EpochMetrics, RunResult
from fitgap_gui.qt.plots.buffer import COL, ema_smooth
from fitgap_gui.qt.plots.theme import DARK, LIGHT


def _tensorboard_smooth(values, weight):
    """TensorBoard's own loop (vz_line_chart2 resmoothDataset), for comparison."""
    last, count, out = 0.0, 0, []
    for v in values:
        if not np.isfinite(v):
            out.append(v)
            continue
        last = last * weight + (1 - weight) * v
        count += 1
        out.append(last / (1 - weight**count))
    return np.array(out)


def _metrics(epoch: int, spike: bool = False) -> EpochMetrics:
    val = 50.0 if spike and epoch == 2 else 0.5 + abs(epoch - 6) * 0.05 + 0.03 * (epoch % 2)
    return EpochMetrics(
        epoch,
        {"loss": 1.0 / epoch, "val_loss": val, "accuracy": 0.5 + epoch / 40, "val_accuracy": 0.6},
    )


def _fill(panel, feed, run_id=1, epochs=12, spike=False):
    panel.begin_run(run_id, f"#{run_id}", "val_loss")
    for epoch in range(1, epochs + 1):
        feed(panel, run_id, _metrics(epoch, spike))
    panel.flush()  # what the paint timer does
    return panel.runs[run_id]


@pytest.mark.parametrize("weight", [0.0, 0.6, 0.95])
def test_smoothing_matches_tensorboard_including_gaps(weight):
    values = np.array([1.0, 0.8, np.nan, 0.9, 0.4, 0.45, np.inf, 0.3])
    assert np.allclose(
        ema_smooth(values, weight), _tensorboard_smooth(values, weight), equal_nan=True
    )


def test_smoothing_changes_the_drawn_curves_not_the_stored_numbers(panel, qtbot, feed):
    curves = _fill(panel, feed)
    raw_before = curves.raw().copy()
    val_item = curves.curves[1][0]
    assert np.allclose(val_item.yData, raw_before[:, COL["val_loss"]])
    assert not any(raw.isVisible() for raw in curves.raw_curves)

    panel.set_smoothing(0.8)
    smoothed = ema_smooth(raw_before[:, COL["val_loss"]], 0.8)
    assert np.allclose(val_item.yData, smoothed)
    assert not np.allclose(val_item.yData, raw_before[:, COL["val_loss"]])
    assert np.array_equal(curves.raw(), raw_before, equal_nan=True)  # the buffer is untouched
    # The raw curve is drawn faint behind the smoothed one.
    raw_item = curves.raw_curves[1]
    assert raw_item.isVisible() and np.allclose(raw_item.yData, raw_before[:, COL["val_loss"]])
    assert raw_item.opts["pen"].color().alpha() < 255

    panel.add_epoch(1, _metrics(13))  # a live epoch arrives smoothed too
    qtbot.waitUntil(lambda: len(val_item.yData) == 13, timeout=3000)  # the paint timer
    assert np.allclose(val_item.yData, ema_smooth(curves.raw()[:, COL["val_loss"]], 0.8))

    panel.set_smoothing(0.0)
    assert np.allclose(val_item.yData, curves.raw()[:, COL["val_loss"]])
    assert not raw_item.isVisible()


def test_log_scale_applies_to_the_loss_plot_and_keeps_the_best_dot_on_its_curve(panel, feed):
    curves = _fill(panel, feed)
    loss_plot = panel.plots["loss"].plotItem
    panel.set_log_y(True)
    assert loss_plot.getAxis("left").logMode
    assert not panel.plots["gap"].plotItem.getAxis("left").logMode  # gaps go negative
    _, y = curves.best_dot.getData()
    assert y[0] == pytest.approx(np.log10(curves.raw()[5, COL["val_loss"]]))
    panel.set_log_y(False)
    assert not loss_plot.getAxis("left").logMode
    _, y = curves.best_dot.getData()
    assert y[0] == pytest.approx(curves.raw()[5, COL["val_loss"]])


def test_ignore_outliers_keeps_a_spike_out_of_the_y_range(panel, feed):
    _fill(panel, feed, epochs=60, spike=True)
    view = panel.plots["loss"].getViewBox()

    view.updateAutoRange()
    assert view.viewRange()[1][1] > 40  # the spike at 50 sets the scale
    panel.set_ignore_outliers(True)
    assert view.viewRange()[1][1] < 5
    panel.add_epoch(1, _metrics(61))  # stays on while curves grow
    panel.flush()
    view.updateAutoRange()
    assert view.viewRange()[1][1] < 5
    panel.set_ignore_outliers(False)
    assert view.viewRange()[1][1] > 40


def test_reset_zoom_and_hide_the_gap_plot(panel, feed):
    curves = _fill(panel, feed)
    view = panel.plots["accuracy"].getViewBox()
    view.setRange(xRange=(3, 4), yRange=(0.55, 0.56))
    panel.reset_zoom()
    (x0, x1), (y0, y1) = view.viewRange()
    assert x0 <= 1 and x1 > 12  # every epoch of the run
    accuracy = curves.raw()[:, [COL["accuracy"], COL["val_accuracy"]]]
    assert y0 <= accuracy.min() and accuracy.max() <= y1  # every point

    panel.set_gap_visible(False)
    assert panel.plots["gap"].isHidden() and not panel.gap_visible()
    panel.set_gap_visible(True)
    assert panel.plots["gap"].isVisible()


def test_dark_theme_recolours_plots_legends_and_existing_runs(panel, feed):
    curves = _fill(panel, feed)
    plot = panel.plots["loss"]
    assert plot.backgroundBrush().color().name() == LIGHT.background
    seen = []
    panel.theme_changed.connect(seen.append)
    panel.apply_theme(DARK)
    assert seen == [DARK]
    assert plot.backgroundBrush().color().name() == DARK.background
    pen = curves.curves[0][0].opts["pen"]
    assert pen.color().name().lower() == DARK.palette[0].lower()
    assert curves.curves[1][0].opts["pen"].style().name == "DashLine"  # validation dashed
    assert DARK.foreground.lower() in panel.key_label.styleSheet().lower()


def test_hover_readout_shows_the_epoch_and_every_visible_curve(panel, qtbot, feed):
    _fill(panel, feed, 1)
    _fill(panel, feed, 2)
    result = RunResult(RunConfig(), {}, status="completed", epochs_run=12, best_epoch=6)
    panel.finish_run(2, result)
    plot = panel.plots["loss"]
    view = plot.getViewBox()
    expected = panel.runs[1].raw()[4]
    qtbot.waitUntil(lambda: view.viewRange()[0][1] > 10, timeout=3000)  # laid out
    scene_pos = view.mapViewToScene(QPointF(5.2, 0.6))
    plot.scene().sigMouseMoved.emit(scene_pos)  # what a real mouse move emits
    qtbot.waitUntil(lambda: "epoch 5" in panel.hover.text(), timeout=3000)
    text = panel.hover.text()
    # These runs have no end-of-epoch measurements: the hover says they are Keras's.
    val_name = "#1 validation loss (Keras, with any penalty; old run)"
    assert f"{val_name}: {expected[COL['val_loss']]:.4f}" in text
    train_name = "#1 training loss (Keras running mean; old run)"
    assert f"{train_name}: {expected[COL['loss']]:.4f}" in text
    assert "#2 validation" in text and "accuracy" not in text
    assert panel.hover.lines["loss"].isVisible() and panel.hover.lines["loss"].value() == 5

    panel.set_run_visible(2, False)
    panel.hover.refresh()
    assert "#2" not in panel.hover.text()

    plot.scene().sigMouseMoved.emit(QPointF(-50, -50))  # outside the plot area
    qtbot.waitUntil(lambda: panel.hover.text() == "", timeout=3000)
    assert not panel.hover.boxes["loss"].isVisible()
