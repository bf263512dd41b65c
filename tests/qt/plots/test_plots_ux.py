"""What a new user tripped over in the plots, and the redraw budget's mechanics.

Each test drives a bare PlotsPanel (offscreen, no TensorFlow; the ``panel`` fixture
of conftest.py) through its public methods and checks what the user sees: pixels
of a grab, item geometry, ranges.
"""

from __future__ import annotations

import re

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QBuffer, QEvent, QIODevice, QPointF, QRect, QRectF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QApplication

from fitgap_gui.core.results.records import EpochMetrics
from fitgap_gui.qt.plots.plot_items import ValueAxis
from fitgap_gui.qt.plots.theme import DARK, LIGHT, apply_app_theme


def _metrics(epoch: int, shift: float = 0.0) -> EpochMetrics:
    return EpochMetrics(
        epoch,
        {
            "loss": 1.0 / epoch + shift,
            "val_loss": 0.5 + abs(epoch - 6) * 0.05 + shift,
            "accuracy": 0.5 + epoch / 400,
            "val_accuracy": 0.6 - shift,
        },
    )


def _history(epochs: int, shift: float = 0.0) -> dict[str, list[float]]:
    rows = [_metrics(e, shift) for e in range(1, epochs + 1)]
    return {k: [r[k] for r in rows] for k in rows[0].metrics}


def _luminance(colour: QColor) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.redF())
        + 0.7152 * channel(colour.greenF())
        + 0.0722 * channel(colour.blueF())
    )


def _text_contrast(image: QImage) -> float:
    """WCAG contrast between the most common colour (the background) and the pixel
    that stands out most from it (the text's core)."""
    counts: dict[int, int] = {}
    for y in range(0, image.height()):
        for x in range(0, image.width(), 2):
            rgb = image.pixel(x, y)
            counts[rgb] = counts.get(rgb, 0) + 1
    background = QColor.fromRgb(max(counts, key=counts.get))
    lb = _luminance(background)
    best = 1.0
    for rgb in counts:
        lt = _luminance(QColor.fromRgb(rgb))
        best = max(best, (max(lb, lt) + 0.05) / (min(lb, lt) + 0.05))
    return best


def test_the_key_stays_readable_after_dark_then_light(panel, qtbot):
    panel.show_history(1, "baseline", _history(10))
    for choice, theme in (("dark", DARK), ("light", LIGHT)):
        panel.apply_theme(apply_app_theme(choice))
        QApplication.processEvents()
        key = panel.key_label
        shot = panel.grab(QRect(key.mapTo(panel, key.rect().topLeft()), key.size()))
        # Text against its own background: at least 4.5:1 (WCAG AA), in both themes.
        assert _text_contrast(shot.toImage()) >= 4.5, choice
        assert theme.foreground in key.styleSheet()
    apply_app_theme("system")


def test_hover_readout_hides_when_the_pointer_leaves_the_plot(panel, qtbot):
    panel.show_history(1, "#1", _history(12))
    assert panel.hover.show_at("loss", 5)
    assert panel.hover.boxes["loss"].isVisible()
    QApplication.sendEvent(panel.plots["loss"].viewport(), QEvent(QEvent.Type.Leave))
    assert panel.hover.text() == ""
    assert not panel.hover.boxes["loss"].isVisible()
    assert not panel.hover.lines["loss"].isVisible()
    # A move still queued in the rate-limiting proxy must not bring it back.
    plot = panel.plots["loss"]
    view = plot.getViewBox()
    plot.scene().sigMouseMoved.emit(view.mapViewToScene(QPointF(5.2, 0.6)))
    plot.scene().sigMouseMoved.emit(view.mapViewToScene(QPointF(6.2, 0.6)))
    QApplication.sendEvent(plot.viewport(), QEvent(QEvent.Type.Leave))
    with qtbot.assertNotEmitted(panel.hover._proxies[0].sigDelayed, wait=200):
        pass
    assert panel.hover.text() == ""


@pytest.mark.parametrize("epoch", [2, 39])
def test_hover_readout_stays_inside_the_plot_with_fifteen_runs(panel, epoch):
    for run_id in range(1, 16):
        panel.show_history(run_id, f"seed {run_id} + dropout 0.3", _history(40, run_id / 50))
    QApplication.processEvents()
    text = panel.hover.show_at("loss", epoch)
    assert f"epoch {epoch}" in text and "seed 15 + dropout 0.3 validation" in text
    view = panel.plots["loss"].getViewBox()
    box = panel.hover.boxes["loss"]
    inside = view.boundingRect()
    placed = box.mapRectToParent(box.boundingRect())
    assert inside.contains(placed), (placed, inside)


def test_x_span_shrinks_when_the_long_run_is_removed_or_hidden(panel, qtbot):
    panel.set_epoch_span(20)
    panel.begin_run(1, "#1")
    for epoch in range(1, 21):
        panel.add_epoch(1, _metrics(epoch))
    panel.flush()
    view = panel.plots["loss"].getViewBox()
    panel.show_history(2, "long", _history(100))
    assert view.viewRange()[0][1] > 99
    panel.set_run_visible(2, False)
    assert view.viewRange()[0][1] < 30
    panel.set_run_visible(2, True)
    assert view.viewRange()[0][1] > 99
    panel.remove_run(2)
    for plot in panel.plots.values():
        assert plot.getViewBox().viewRange()[0][1] < 30


def test_the_key_sits_above_the_plots_and_no_legend_covers_a_curve(panel):
    names = ["baseline", "+ dropout 0.3", "+ L2 1e-4 <b>"]
    for run_id, name in enumerate(names, 1):
        panel.show_history(run_id, name, _history(30, run_id / 10))
    QApplication.processEvents()
    for plot in panel.plots.values():
        assert plot.plotItem.legend is None
        inside = [i for i in plot.getViewBox().allChildren() if isinstance(i, pg.LegendItem)]
        assert not inside
    key = panel.key_label
    text = key.text()
    assert "baseline" in text and "+&nbsp;dropout&nbsp;0.3" in text
    assert "&lt;b&gt;" in text and "<b>" not in text.replace("<b>━━</b>", "")  # escaped
    plots_top = min(p.mapTo(panel, p.rect().topLeft()).y() for p in panel.plots.values())
    assert key.mapTo(panel, key.rect().bottomLeft()).y() < plots_top


def test_empty_plots_say_what_will_appear_with_whole_epoch_ticks(panel):
    QApplication.processEvents()
    text = panel.empty_texts["loss"]
    assert text.isVisible() and "Press Train (Ctrl+R)" in text.textItem.toPlainText()
    assert all(t.isVisible() for t in panel.empty_texts.values())
    for plot in panel.plots.values():
        axis = plot.getAxis("bottom")
        low, high = plot.getViewBox().viewRange()[0]
        for spacing, values in axis.tickValues(low, high, plot.width()):
            strings = axis.tickStrings(values, 1.0, spacing)
            assert all(s.lstrip("-").isdigit() for s in strings), strings
        assert not plot.getAxis("left").style["showValues"]  # no 0-1 scale of nothing
    assert "━━" not in panel.key_label.text()  # no swatch for a run that is not there
    panel.begin_run(1, "#1")
    assert not panel.empty_texts["loss"].isVisible()
    panel.clear()
    assert panel.empty_texts["loss"].isVisible()


def test_a_run_can_be_drawn_faint(panel):
    previous = panel.show_history(1, "previous", _history(10))
    panel.begin_run(2, "new")
    item = previous.curves[0][0]
    before = _colour_pixels(panel.plots["loss"].grab().toImage(), previous.colour)
    assert item.opacity() == 1.0 and before > 20
    panel.set_run_faint(1, True)
    assert previous.faint and item.opacity() < 0.5 and previous.best_dot.opacity() < 0.5
    assert panel.runs[2].curves[0][0].opacity() == 1.0
    # Drawn faint from the cached layer too: its full colour is gone from the plot.
    assert _colour_pixels(panel.plots["loss"].grab().toImage(), previous.colour) == 0
    panel.apply_theme(DARK)  # a theme switch keeps it faint
    assert item.opacity() < 0.5
    panel.set_run_faint(1, False)
    assert item.opacity() == 1.0


def test_epochs_are_painted_by_the_timer_in_batches(panel, qtbot, feed):
    curves = panel.begin_run(1, "#1")
    item = curves.curves[0][0]
    for epoch in range(1, 4):
        feed(panel, 1, _metrics(epoch))
    assert item.xData is None or len(item.xData) == 0  # buffered, not drawn yet
    qtbot.waitUntil(lambda: item.xData is not None and len(item.xData) == 3, timeout=2000)
    assert curves.best_epoch == 3


def test_the_paint_timer_updates_one_visible_plot_per_step(panel, qtbot, feed):
    """A paint hands the new epochs to one plot per timer step, so each plot repaints
    in an event of its own; a hidden plot is updated in passing with the next one."""
    panel.set_gap_visible(False)
    curves = panel.begin_run(1, "#1")
    for epoch in range(1, 4):
        feed(panel, 1, _metrics(epoch))

    def drawn() -> set[str]:
        return {
            plot
            for (item, _column), (plot, *_rest) in zip(curves.curves, curves.spec, strict=True)
            if item.xData is not None and len(item.xData) == 3
        }

    panel.scheduler.step()  # what the paint timer calls
    assert drawn() == {"loss"}
    assert curves.best_lines[0].isVisible() and not curves.best_lines[1].isVisible()
    assert panel.painting()
    panel.scheduler.step()
    assert drawn() == {"loss", "accuracy"}
    panel.scheduler.step()  # the hidden gap plot, then the learning rate's
    assert drawn() == {"loss", "accuracy", "gap", "lr"}
    assert all(line.value() == curves.best_epoch for line in curves.best_lines)
    assert not panel.painting()
    panel.add_epoch(1, _metrics(4))  # the real timer does the same by itself
    qtbot.waitUntil(lambda: not panel.painting(), timeout=2000)
    assert all(len(item.xData) == 4 for item, _column in curves.curves if item.isVisible())


def _colour_pixels(image: QImage, colour: str) -> int:
    target = QColor(colour).rgb() & 0xFFFFFF
    array = np.frombuffer(
        image.convertToFormat(QImage.Format.Format_RGB32).constBits(), dtype=np.uint32
    )
    return int(np.count_nonzero((array & 0xFFFFFF) == target))


def test_finished_runs_are_drawn_from_the_cached_layer_and_not_redrawn_per_epoch(panel, qtbot):
    stored = panel.show_history(1, "stored", _history(50))
    panel.set_epoch_span(60)
    live = panel.begin_run(2, "live")
    for epoch in range(1, 4):
        panel.add_epoch(2, _metrics(epoch, 0.3))
    panel.flush()
    QApplication.processEvents()
    layer = panel.layers["loss"]
    renders = layer.renders
    shot = panel.plots["loss"].grab().toImage()
    assert _colour_pixels(shot, stored.colour) > 50  # the frozen run is on screen
    assert _colour_pixels(shot, live.colour) > 20
    for epoch in range(4, 10):  # inside the y range: the layer is not drawn again
        panel.add_epoch(2, _metrics(epoch, 0.3))
        panel.flush()
        QApplication.processEvents()
    assert layer.renders == renders
    panel.set_run_visible(1, False)
    QApplication.processEvents()
    assert _colour_pixels(panel.plots["loss"].grab().toImage(), stored.colour) == 0
    panel.set_run_visible(1, True)
    # A vector export (QSvgGenerator) gets the frozen curves as vectors, not the image.
    plot = panel.plots["loss"]
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(plot.size())
    painter = QPainter(generator)
    plot.render(painter, QRectF(plot.rect()), plot.viewport().rect())
    painter.end()
    svg = bytes(buffer.data()).decode()
    assert stored.colour.lower() in svg.lower()
    assert all(int(w) <= 20 for w in re.findall(r'<image[^>]* width="(\d+)"', svg))


def test_numbers_have_one_format_on_an_axis_and_in_the_readout(panel):
    panel.show_history(1, "#1", _history(12))
    assert isinstance(panel.plots["loss"].getAxis("left"), ValueAxis)
    axis = ValueAxis("left")
    assert axis.tickStrings([0.0, 0.5, 1.0, 1.5], 1.0, 0.5) == ["0.0", "0.5", "1.0", "1.5"]
    assert axis.tickStrings([0.0, 0.25, 0.5], 1.0, 0.25) == ["0.00", "0.25", "0.50"]
    assert axis.tickStrings([0, 5, 10], 1.0, 5) == ["0", "5", "10"]
    axis.tickValues(0.0, 2.0, 300)  # major ticks every 1, minor every 0.5: one format
    assert axis.tickStrings([0.0, 1.0, 2.0], 1.0, 1.0) == ["0.0", "1.0", "2.0"]
    text = panel.hover.show_at("loss", 12)
    values = [line.rsplit(": ", 1)[1] for line in text.splitlines()[1:]]
    assert values and all(len(v.split(".")[1]) == 4 for v in values), values


def test_a_frozen_early_stop_line_spans_the_plot_after_the_y_range_grows(panel):
    from fitgap_gui.core.config.schema import RunConfig
    from fitgap_gui.core.results.records import RunResult

    result = RunResult(RunConfig(), {}, "early_stopped", 20, best_epoch=15, stopped_epoch=20)
    panel.show_history(1, "stopped", _history(20), result)
    QApplication.processEvents()
    panel.show_history(2, "high", _history(30, 5.0))  # the loss plot's y range grows
    QApplication.processEvents()
    plot = panel.plots["loss"]
    view = plot.getViewBox()
    image = plot.grab().toImage()
    x = int(view.mapToScene(view.mapFromView(QPointF(20, 0))).x())
    top = int(view.mapToScene(QPointF(0, 0)).y())
    column = [QColor(image.pixel(x, y)).lightness() for y in range(top + 2, top + 40)]
    assert min(column) < 80  # the dashed stop line reaches the top of the plot


def test_older_generations_wait_until_the_run_is_over(qapp):
    """A gen-1 collection over a run's Keras objects stalled the live plots ~150 ms."""
    import gc

    collector = qapp._fitgap_gc
    seen: list[int] = []

    def note(phase: str, info: dict) -> None:
        if phase == "start":
            seen.append(info["generation"])

    kept: list[list] = []

    def pile_up() -> None:  # enough young collections that gen 1 is due, and gen 0 full
        for _ in range(collector.threshold[1] + 2):
            kept.append([[] for _ in range(collector.threshold[0] + 10)])
            gc.collect(0)
        kept.append([[] for _ in range(collector.threshold[0] + 10)])

    gc.callbacks.append(note)
    try:
        pile_up()
        seen.clear()
        collector.busy = lambda: True
        collector.check()
        assert seen == [0]  # the young generation only
        collector.busy = lambda: False
        pile_up()
        seen.clear()
        collector.check()
        assert 1 in seen
    finally:
        gc.callbacks.remove(note)
        del collector.busy  # back to the class's default


def test_a_growing_loss_range_never_shows_negative_losses_nor_accuracy_above_one(panel):
    """The y range grows by a margin during a live run, but never past 0 for a loss
    (all values are >= 0) nor past 1 for an accuracy: no range that no value can reach."""
    panel.begin_run(1, "run 1", "val_loss")
    for epoch in range(1, 41):  # the loss falls towards 0: the range grows downwards
        panel.add_epoch(
            1,
            EpochMetrics(
                epoch,
                {
                    "loss": 2.0 / epoch,
                    "val_loss": 0.5 + epoch / 100,
                    "accuracy": min(1.0, 0.5 + epoch / 40),
                    "val_accuracy": 0.8,
                },
            ),
        )
        panel.flush()
    loss_low = panel.plots["loss"].getViewBox().viewRange()[1][0]
    accuracy_high = panel.plots["accuracy"].getViewBox().viewRange()[1][1]
    assert -0.1 < loss_low <= 0.05
    assert 1.0 <= accuracy_high < 1.1
