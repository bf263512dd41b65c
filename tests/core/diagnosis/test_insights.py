"""Insight views' data: weight norms per epoch, confusion matrix, misclassified, boundary."""

from __future__ import annotations

import time

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix as sklearn_confusion

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import load_dataset
from fitgap_gui.core.diagnosis.insights import (
    confusion_matrix,
    decision_grid,
    validation_insight,
)
from fitgap_gui.core.errors import DataError
from fitgap_gui.core.run.insights_probe import predict_fn
from fitgap_gui.core.run.session import run_recorded
from fitgap_gui.core.run.training import train
from fitgap_gui.core.store.runstore import RunStore


def test_weight_norms_are_recorded_per_hidden_layer_and_show_l2_at_work(tiny_config):
    base = tiny_config.replace({"model.hidden_units": [16, 8], "training.epochs": 4})
    store = RunStore()
    plain = run_recorded(base, store, save_model=False)
    penalized = run_recorded(base.replace({"model.l2": 0.5}), store, save_model=False)

    epochs = store.epochs(plain.run_id)
    assert [len(e.extras["weight_norms"]) for e in epochs] == [2, 2, 2, 2]
    dense = [layer for layer in plain.model.layers if hasattr(layer, "kernel")]
    expected = [float(np.linalg.norm(np.asarray(layer.kernel))) for layer in dense[:-1]]
    np.testing.assert_allclose(epochs[-1].extras["weight_norms"], expected, rtol=1e-6)

    last_plain = store.epochs(plain.run_id)[-1].extras["weight_norms"]
    last_l2 = store.epochs(penalized.run_id)[-1].extras["weight_norms"]
    assert all(a < b for a, b in zip(last_l2, last_plain, strict=True))


def test_confusion_matrix_matches_scikit_learn():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    expected = sklearn_confusion(y_true, y_pred, labels=range(5))
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred, 5), expected)


def test_validation_insight_agrees_with_keras_accuracy(tiny_config):
    dataset = load_dataset(tiny_config.data, tiny_config.training.seed)
    result = train(tiny_config, dataset)
    insight = validation_insight(predict_fn(result.model), dataset)
    assert insight.confusion.shape == (10, 10)
    assert insight.confusion.sum() == len(dataset.y_val)
    assert insight.accuracy == pytest.approx(result.history["val_accuracy"][-1], abs=1e-6)
    wrong = len(dataset.y_val) - np.trace(insight.confusion)
    assert len(insight.misclassified) == min(64, wrong)


def test_misclassified_digits_come_as_8x8_images_most_confident_first():
    dataset = load_dataset(RunConfig().data, 0)

    def always_zero(x):  # a predict function: everything is a "0", more sure on bright images
        probs = np.full((len(x), 10), 0.05)
        probs[:, 0] = 0.5 + x.sum(axis=1) / (x.sum(axis=1).max() * 3)
        return probs

    insight = validation_insight(always_zero, dataset, limit=None)
    assert len(insight.misclassified) == int(np.sum(dataset.y_val != 0))
    first = insight.misclassified[0]
    assert first.predicted == 0 and first.true == dataset.y_val[first.index] != 0
    assert first.predicted_name == "0" and first.true_name == str(first.true)
    assert first.image.shape == (8, 8)
    np.testing.assert_array_equal(first.image.ravel(), dataset.x_val[first.index])
    confidences = [m.confidence for m in insight.misclassified]
    assert confidences == sorted(confidences, reverse=True)


def test_decision_grid_spans_the_2d_data_and_is_cheap():
    config = RunConfig.from_dict(
        {
            "data": {"source": "moons", "n_samples": 120},
            "model": {"hidden_units": [16]},
            "training": {"epochs": 3, "seed": 0},
        }
    )
    dataset = load_dataset(config.data, 0)
    predict = predict_fn(train(config, dataset).model)
    decision_grid(predict, dataset, resolution=10)  # the first call traces the model
    start = time.perf_counter()
    grid = decision_grid(predict, dataset, resolution=100)
    seconds = time.perf_counter() - start
    assert grid.probabilities.shape == (100, 100, 2)
    np.testing.assert_allclose(grid.probabilities.sum(axis=-1), 1.0, rtol=1e-5)
    points = np.concatenate([dataset.x_train, dataset.x_val])
    assert grid.xs[0] < points[:, 0].min() and grid.xs[-1] > points[:, 0].max()
    assert grid.ys[0] < points[:, 1].min() and grid.ys[-1] > points[:, 1].max()
    # probabilities[iy, ix] is the model's answer at (xs[ix], ys[iy]).
    here = predict(np.array([[grid.xs[7], grid.ys[42]]], dtype=np.float32))[0]
    np.testing.assert_allclose(grid.probabilities[42, 7], here, rtol=1e-5)
    assert seconds < 2.0  # measured ~10 ms on two shared cores; refreshed every few epochs


def test_decision_grid_needs_2d_points():
    dataset = load_dataset(RunConfig().data, 0)
    with pytest.raises(DataError, match="needs 2-D points"):
        decision_grid(lambda x: np.zeros((len(x), 10)), dataset)


def test_live_decision_grid_through_inspect_model_leaves_training_unchanged():
    # Dropout draws random numbers in training; predicting between epochs must not.
    config = RunConfig.from_dict(
        {
            "data": {"source": "moons", "n_samples": 120, "label_noise": 0.1},
            "model": {"hidden_units": [32], "dropout": 0.3},
            "training": {"epochs": 4, "seed": 5},
        }
    )
    dataset = load_dataset(config.data, config.training.seed)
    grids = {}

    def every_other_epoch(epoch, model):
        if epoch % 2 == 0:
            grids[epoch] = decision_grid(predict_fn(model), dataset, resolution=40)

    watched = run_recorded(config, RunStore(), dataset=dataset, inspect_model=every_other_epoch)
    plain = train(config, dataset)
    assert watched.history == plain.history
    assert sorted(grids) == [2, 4]
    assert not np.allclose(grids[2].probabilities, grids[4].probabilities)
    final = decision_grid(predict_fn(plain.model), dataset, resolution=40)
    np.testing.assert_allclose(grids[4].probabilities, final.probabilities, rtol=1e-5)
