"""The Insights tab: weight norms, live decision boundary, confusion matrix, mistakes.

Real (tiny) Keras runs through the window; the probe's refresh schedule is checked
with a fake clock so the 10% budget is tested without timing anything.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QLabel

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import load_dataset
from fitgap_gui.core.results.examples import ExampleDynamics
from fitgap_gui.core.results.records import EpochMetrics
from fitgap_gui.core.run import insights_probe
from fitgap_gui.core.run.insights_probe import MISCLASSIFIED_LIMIT, InsightProbe
from fitgap_gui.core.run.training import train
from fitgap_gui.core.store.runstore import RunStore
from fitgap_gui.qt.panels.insights_panel import InsightsPanel


def run_in(window, qtbot, *configs):
    """Train ``configs`` in the window; what its signals carried (the last run's data)."""
    seen: dict = {"insights": [], "epochs": []}
    model = window.live_runs
    model.dataset_ready.connect(lambda run_id, dataset: seen.__setitem__("dataset", dataset))
    model.run_finished.connect(lambda run_id, run: seen.__setitem__("result", run.result))
    model.epoch_appended.connect(lambda run_id, metrics: seen["epochs"].append((run_id, metrics)))
    model.insight_ready.connect(
        lambda run_id, kind, payload: seen["insights"].append(
            (kind, payload, "result" in seen)  # did the run end before this arrived?
        )
    )
    with qtbot.waitSignal(window.training_ended, timeout=120_000):
        window.train_configs(list(configs))
    return seen


def test_weight_norms_get_one_point_per_epoch_per_hidden_layer(ready_window, qtbot, tiny_config):
    model = {"hidden_units": [16, 8]}
    plain = RunConfig.from_dict({**tiny_config.to_dict(), "model": model})
    with_l2 = RunConfig.from_dict({**tiny_config.to_dict(), "model": {**model, "l2": 0.01}})
    seen = run_in(ready_window, qtbot, plain, with_l2)
    panel = ready_window.findChild(InsightsPanel)
    view = panel.weights
    assert view.showing_content()
    first, second = sorted({run_id for run_id, _ in seen["epochs"]})
    assert len(view.curves) == 2 and len(view._previous) == 2
    for run_id, curves in ((second, view.curves), (first, view._previous)):
        for layer, curve in enumerate(curves):
            xs, ys = curve.getData()
            assert list(xs) == [1, 2, 3]
            expected = [m.extras["weight_norms"][layer] for r, m in seen["epochs"] if r == run_id]
            np.testing.assert_allclose(ys, expected)
    title = view.plot.getPlotItem().titleLabel.text
    assert f"Run {second} (L2 0.01)" in title and f"dashed: run {first} no L2" in title


def test_digits_confusion_matrix_and_misclassified_thumbnails(ready_window, qtbot, tiny_config):
    seen = run_in(ready_window, qtbot, tiny_config)
    panel = ready_window.findChild(InsightsPanel)
    dataset = seen["dataset"]
    validation = [p for kind, p, _ in seen["insights"] if kind == "validation"]
    assert len(validation) == 1
    payload = validation[0]

    table = panel.validation.table
    n = dataset.n_classes
    assert (table.rowCount(), table.columnCount()) == (n, n)
    assert table.horizontalHeaderItem(3).text() == dataset.class_names[3]
    counts = np.array([[table.item(i, j).data(256) for j in range(n)] for i in range(n)])
    assert counts.sum() == len(dataset.y_val)
    assert np.trace(counts) == len(dataset.y_val) - payload["n_wrong"]

    shown = len(panel.validation.thumbnails)
    assert shown == min(payload["n_wrong"], MISCLASSIFIED_LIMIT) > 0
    picture = panel.validation.thumbnails[0].findChildren(QLabel)[0]
    assert picture.pixmap().width() >= 48  # 8x8 digits are scaled up to be readable
    # Digits are not 2-D points: the Boundary tab says why instead of drawing.
    assert not panel.boundary.showing_content()
    assert "2-D points" in panel.boundary.message.text()

    # Examples: one snapshot per epoch, then the end's; the lists get digit thumbnails.
    examples = [p for kind, p, _ in seen["insights"] if kind == "examples"]
    assert len(examples) == tiny_config.training.epochs + 1 and examples[-1]["final"]
    view = panel.examples
    qtbot.waitUntil(lambda: view.drop_button.isEnabled() and view.lowest_list.count() > 0)
    assert not view.lowest_list.item(0).icon().isNull()
    # "Retrain without the k lowest": a new run from scratch, linked to this one.
    parent = seen["result"].run_id
    view.k_box.setValue(3)
    with qtbot.waitSignal(ready_window.training_ended, timeout=120_000):
        view.drop_button.click()
    child = max(RunStore().list_runs(), key=lambda r: r.run_id)
    assert (child.parent_run_id, child.branch_epoch) == (parent, None)
    assert "without its 3 lowest-margin examples" in child.name
    stored = RunStore().example_dynamics(child.run_id)
    assert ExampleDynamics.from_bytes(stored).n == len(dataset.y_train) - 3


def test_moons_boundary_is_live_and_training_is_unchanged(ready_window, qtbot):
    config = RunConfig.from_dict(
        {
            "data": {"source": "moons", "n_samples": 60, "label_noise": 0.1},
            "model": {"hidden_units": [16], "dropout": 0.2},
            "training": {"epochs": 4, "batch_size": 16, "seed": 2},
        }
    )
    seen = run_in(ready_window, qtbot, config)
    panel = ready_window.findChild(InsightsPanel)
    live = [p for kind, p, ended in seen["insights"] if kind == "boundary" and not p["final"]]
    assert live and not any(ended for kind, _, ended in seen["insights"] if kind == "boundary")
    assert live[0]["epoch"] == 1
    assert panel.boundary.showing_content()
    assert panel.boundary.updates >= 2  # the live one(s) and the final one
    assert panel.boundary.image.image.shape[:2] == (100, 100)
    assert panel.boundary.grid_shape == (100, 100)
    # View → Theme: the grid on show is redrawn on the dark background, not recomputed.
    from fitgap_gui.qt.plots.theme import DARK

    drawn, before = panel.boundary.updates, panel.boundary.image.image.copy()
    ready_window.plots.apply_theme(DARK)
    assert panel.boundary.plot.backgroundBrush().color().name() == DARK.background
    assert panel.boundary.updates == drawn
    assert not np.array_equal(panel.boundary.image.image, before)
    # Points data has no pictures of mistakes; the table is still there.
    assert panel.validation.scroll.isHidden()
    assert panel.validation.table.rowCount() == 2

    # Faithfulness: the hook (grids, weight copies, the best-weights swap) changes nothing.
    result = seen["result"]
    plain = train(config, load_dataset(config.data, config.training.seed))
    assert result.history == plain.history
    for kept, expected in zip(result.model.get_weights(), plain.model.get_weights(), strict=True):
        np.testing.assert_array_equal(kept, expected)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def perf_counter(self) -> float:
        return self.now


def test_boundary_refresh_waits_so_it_costs_at_most_a_tenth(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(insights_probe, "time", clock)
    dataset = load_dataset(RunConfig.from_dict({"data": {"source": "moons"}}).data, 0)

    class Model:  # stands in for a Keras model: each grid "costs" 0.1 s
        def __call__(self, x, training=False):
            clock.now += 0.1
            return np.full((len(x), 2), 0.5, dtype=np.float32)

        def get_weights(self):
            return []

    sent: list[dict] = []
    probe = InsightProbe(RunConfig(), lambda kind, payload: sent.append(payload), resolution=50)
    probe.start(dataset)
    model = Model()
    for epoch in range(1, 13):
        clock.now += 0.2  # one epoch of training
        probe.note_epoch(EpochMetrics(epoch, {"val_loss": 1.0 / epoch}, 0.2))
        probe.inspect(epoch, model)
    # First at once, then after >= 9 x 0.1 s of training: epochs 1, 6 and 11.
    assert [p["epoch"] for p in sent] == [1, 6, 11]
    # Three grids (0.3 s) in 2.5 s so far; the share falls towards 10% as the run goes on.
    assert sent[-1]["share"] == pytest.approx(0.3 / 2.5)


def test_boundary_segments_follow_the_zero_line():
    from fitgap_gui.qt.panels.insights_views import zero_crossings

    xs, ys = np.linspace(-2, 2, 41), np.linspace(-1.5, 1.5, 31)
    gx, gy = np.meshgrid(xs, ys)
    x, y = zero_crossings(np.hypot(gx, gy) - 1.0, xs, ys)  # the unit circle
    assert len(x) == len(y) > 0 and len(x) % 2 == 0
    np.testing.assert_allclose(np.hypot(x, y), 1.0, atol=0.01)
    step = np.hypot(x[1::2] - x[::2], y[1::2] - y[::2])
    assert step.max() <= np.hypot(0.1, 0.1) + 1e-9  # each segment stays inside one cell
    x, y = zero_crossings(gx - 0.33, xs, ys)  # a vertical line through 30 cells
    np.testing.assert_allclose(x, 0.33)
    assert len(x) == 2 * 30 and (y.min(), y.max()) == (-1.5, 1.5)


def test_thumbnails_scale_grey_and_colour_images_with_sharp_pixels(qapp):
    from fitgap_gui.qt.panels.insights_validation import thumbnail

    grey = thumbnail(np.arange(64, dtype=np.float64).reshape(8, 8))
    assert (grey.width(), grey.height()) == (56, 56)  # 7x, nearest neighbour
    image = grey.toImage()
    assert image.pixelColor(0, 0) == image.pixelColor(6, 6)  # one source pixel, one block
    assert image.pixelColor(0, 0) != image.pixelColor(7, 0)
    colour = thumbnail(np.zeros((20, 30, 3)) + [1.0, 0.0, 0.0])
    assert (colour.width(), colour.height()) == (56, 37)  # fits the box, keeps the aspect
    assert colour.toImage().pixelColor(10, 10).red() == 255
    flat = thumbnail(np.full((4, 4, 1), 3.0))  # one value, one channel: no division by zero
    assert flat.width() == 56
