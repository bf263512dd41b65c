"""The inference-mode measurements: the training set at the epoch's end, cross-entropy, penalty.

Each number is checked against a plain computation written here (numpy on the
model's own weights), not against FitGap's code.
"""

from __future__ import annotations

import numpy as np
import pytest

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import load_dataset
from fitgap_gui.core.model.measurements import TRAIN_EVAL_SAMPLES, train_eval_rows
from fitgap_gui.core.run.training import train


def _logits(model, x):
    """The softmax layer's inputs, in float64: hidden activations @ W + b."""
    import keras

    hidden = keras.Model(model.inputs, model.layers[-2].output)
    h = np.asarray(hidden.predict(x, verbose=0), dtype=np.float64)
    kernel, bias = (np.asarray(w, dtype=np.float64) for w in model.layers[-1].get_weights())
    return h @ kernel + bias


@pytest.fixture(scope="module")
def noisy_run():
    config = RunConfig.from_dict(
        {
            "data": {"source": "digits", "train_fraction": 0.15, "label_noise": 0.3},
            "model": {"hidden_units": [24], "dropout": 0.2, "l2": 0.003},
            "training": {"epochs": 4, "batch_size": 16, "seed": 3},
        }
    )
    dataset = load_dataset(config.data, config.training.seed)
    seen: list[np.ndarray] = []  # each epoch's logits, from the live model, for the tests

    def inspect(epoch, model):
        seen.append(_logits(model, dataset.x_train))

    result = train(config, dataset, inspect_model=inspect)
    result.epoch_logits = seen
    return config, dataset, result


def test_per_example_dynamics_equal_a_plain_computation_from_each_epochs_logits(noisy_run):
    _, dataset, result = noisy_run
    dyn = result.examples
    y = dataset.y_train
    logits = np.stack(result.epoch_logits)  # (epochs, rows, classes)
    assert dyn.epochs == [1, 2, 3, 4]
    np.testing.assert_array_equal(dyn.rows, np.arange(len(y)))
    epochs, rows = logits.shape[:2]
    at = np.arange(rows)
    given = logits[:, at, y]
    other = np.array([[np.max(np.delete(z[i], y[i])) for i in range(rows)] for z in logits])
    margins = given - other
    probs = np.exp(logits) / np.exp(logits).sum(axis=2, keepdims=True)
    p_given = probs[:, at, y]
    predicted = logits.argmax(axis=2)
    right = predicted == y
    forgot = [sum(right[t, i] and not right[t + 1, i] for t in range(epochs - 1)) for i in at]
    first = []
    for i in at:
        learned = [t + 1 for t in range(epochs) if right[t:, i].all()]
        first.append(learned[0] if learned else -1)
    np.testing.assert_array_equal(np.stack(dyn.predicted), predicted)
    np.testing.assert_allclose(dyn.margin_matrix(), margins, atol=1e-4)
    np.testing.assert_allclose(dyn.aum(), margins.mean(axis=0), atol=1e-4)
    np.testing.assert_allclose(dyn.confidence(), p_given.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(dyn.variability(), p_given.std(axis=0), atol=1e-5)
    np.testing.assert_array_equal(dyn.forgetting_events(), forgot)
    np.testing.assert_array_equal(dyn.first_learned_epoch(), first)
    # Against the truth: the k lowest mean margins after each epoch, k = the number flipped.
    flipped = np.zeros(rows, bool)
    flipped[dataset.flipped_rows] = True
    np.testing.assert_array_equal(dyn.flipped, flipped)
    k = flipped.sum()
    for t in range(epochs):
        suspects = np.argsort(margins[: t + 1].mean(axis=0), kind="stable")[:k]
        assert dyn.precision[t] == pytest.approx(flipped[suspects].mean())
    # The precision rides in each epoch's extras, not in Keras's history.
    assert "suspect_precision" not in result.history


def test_train_eval_numbers_equal_a_plain_computation(noisy_run):
    config, dataset, result = noisy_run
    h = result.history
    logits = _logits(result.model, dataset.x_train)  # end-of-run weights = last epoch's
    y = dataset.y_train
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    cross_entropy = -log_probs[np.arange(len(y)), y].mean()
    predicted = logits.argmax(axis=1)
    assert h["train_eval_cross_entropy"][-1] == pytest.approx(cross_entropy, abs=1e-5)
    assert h["train_eval_accuracy"][-1] == pytest.approx(np.mean(predicted == y), abs=1e-6)

    flipped = dataset.flipped_rows
    assert len(flipped) == round(0.3 * len(y))
    memorized = np.mean(predicted[flipped] == y[flipped])
    assert h["memorized_noise"][-1] == pytest.approx(memorized, abs=1e-6)

    kernels = [layer.get_weights()[0] for layer in result.model.layers[:-1] if layer.weights]
    penalty = config.model.l2 * sum(float(np.sum(np.square(k, dtype=np.float64))) for k in kernels)
    assert h["penalty"][-1] == pytest.approx(penalty, rel=1e-5)


def test_val_loss_is_cross_entropy_plus_penalty(noisy_run):
    _, _, result = noisy_run
    h = result.history
    assert min(h["penalty"]) > 0.01
    np.testing.assert_allclose(
        h["val_loss"], np.add(h["val_cross_entropy"], h["penalty"]), atol=1e-6, rtol=0
    )
    # Keras's running training loss holds the penalty of every step's weights.
    assert all(loss > ce for loss, ce in zip(h["loss"], h["cross_entropy"], strict=True))
    assert result.best_epoch == int(np.argmin(h["val_cross_entropy"])) + 1


def test_without_penalty_cross_entropy_is_keras_loss(tiny_config):
    result = train(tiny_config, load_dataset(tiny_config.data, tiny_config.training.seed))
    h = result.history
    assert h["penalty"] == [0.0] * 3
    assert "memorized_noise" not in h
    np.testing.assert_allclose(h["val_cross_entropy"], h["val_loss"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(h["cross_entropy"], h["loss"], atol=1e-6, rtol=0)


def test_cross_entropy_comes_from_the_logits_not_clipped_probabilities():
    """A confident mistake costs its full cross-entropy, as in Keras's loss (TF backend)."""
    import keras

    from fitgap_gui.core.config.schema import TrainingConfig
    from fitgap_gui.core.model.build import compile_model

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(2, activation="softmax")])
    compile_model(model, TrainingConfig())
    model.layers[0].set_weights([np.array([[0.0, 40.0]]), np.zeros(2)])
    scores = model.evaluate(
        np.ones((4, 1), np.float32), np.zeros(4, np.int64), verbose=0, return_dict=True
    )
    # -log(1e-7) = 16.1 would be the clipped value; the logits give 40.
    assert scores["cross_entropy"] == pytest.approx(40.0, rel=1e-4)
    assert scores["loss"] == pytest.approx(40.0, rel=1e-4)


def test_large_training_sets_are_measured_on_a_fixed_subsample():
    state = np.random.get_state()
    rows = train_eval_rows(25_000, seed=4)
    assert len(rows) == TRAIN_EVAL_SAMPLES == len(np.unique(rows))
    assert np.all(np.diff(rows) > 0) and rows[-1] < 25_000
    np.testing.assert_array_equal(rows, train_eval_rows(25_000, seed=4))  # once per run
    assert not np.array_equal(rows, train_eval_rows(25_000, seed=5))
    assert np.array_equal(np.random.get_state()[1], state[1])  # global RNG untouched
    np.testing.assert_array_equal(train_eval_rows(300, seed=4), np.arange(300))


def test_early_stopping_can_watch_val_cross_entropy(tiny_config):
    from fitgap_gui.core.diagnosis.verdict import would_have_stopped

    config = tiny_config.replace(
        {
            "training.epochs": 12,
            "model.l2": 0.01,
            "early_stopping.enabled": True,
            "early_stopping.monitor": "val_cross_entropy",
            "early_stopping.patience": 1,
        }
    )
    result = train(config, load_dataset(config.data, config.training.seed))
    replay = would_have_stopped(result.history, 1, 0.0, "val_cross_entropy")
    assert result.best_epoch == replay.best_epoch
    assert result.stopped_epoch == replay.stopped_epoch
    assert result.epochs_run == len(result.history["val_cross_entropy"])


def test_the_measurements_reuse_the_validation_trace_of_the_test_step(monkeypatch):
    """One trace of Keras's test step per run: validation's.

    ``test_on_batch`` traced it again for the whole training set and again for the
    flipped rows (another length): two more traces, most of a second on digits.  The
    measurements now run one forward pass of their own (the logits), never the test step.
    """
    from fitgap_gui.core.model import build as model_module

    config = RunConfig.from_dict(
        {
            # No test part: 288 validation rows, a whole number of batches of 16, make
            # Keras trace one fixed-shape validation step first (its own rule, not
            # FitGap's); with 360 the one trace is validation's, of any length.
            "data": {
                "source": "digits",
                "train_fraction": 0.1,
                "label_noise": 0.2,
                "test_split": 0,
            },
            "model": {"hidden_units": [8]},
            "training": {"epochs": 2, "batch_size": 16, "seed": 1},
        }
    )
    dataset = load_dataset(config.data, config.training.seed)
    traced: list[tuple] = []
    compile_model = model_module.compile_model

    def compile_counting(model, *args, **kwargs):
        test_step = model.test_step

        def counting(data):  # runs once per trace, never per call of the compiled step
            traced.append(tuple(None if t is None else tuple(t.shape) for t in data))
            return test_step(data)

        model.test_step = counting
        return compile_model(model, *args, **kwargs)

    monkeypatch.setattr(model_module, "compile_model", compile_counting)
    result = train(config, dataset)
    assert result.history["train_eval_accuracy"][-1] > 0
    assert result.history["memorized_noise"][-1] >= 0
    assert traced == [((None, 64), (None,))]  # validation's batches, of any length
