"""The engine: results, early stopping bookkeeping, stop requests, the recorded run."""

from __future__ import annotations

import pytest

from fitgap_gui.core.data.datasets import load_dataset
from fitgap_gui.core.model.measurements import TRAIN_EVAL_KEYS
from fitgap_gui.core.results.records import best_epoch
from fitgap_gui.core.run.session import run_recorded
from fitgap_gui.core.run.training import choose_steps_per_execution, train
from fitgap_gui.core.store.runstore import RunStore


def test_completed_run_reports_every_epoch(tiny_config):
    seen = []
    result = train(tiny_config, load_dataset(tiny_config.data, 1), on_epoch=seen.append)
    assert result.status == "completed"
    assert result.epochs_run == 3 == len(seen) == len(result.history["loss"])
    keras_keys = {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert set(result.history) == keras_keys | set(TRAIN_EVAL_KEYS) | {"learning_rate"}
    assert result.best_epoch == best_epoch(result.history, "val_cross_entropy")
    assert result.stopped_epoch is None


def test_early_stopping_uses_keras_and_reports_1_based_epochs(tiny_config):
    # A learning rate this small cannot improve val_loss by min_delta=10: Keras stops
    # after `patience` epochs past the first, and restores epoch 1's weights.
    config = tiny_config.replace(
        {
            "training.epochs": 20,
            "training.learning_rate": 1e-5,
            "early_stopping.enabled": True,
            "early_stopping.patience": 2,
            "early_stopping.min_delta": 10.0,
        }
    )
    result = train(config, load_dataset(config.data, 1))
    assert result.status == "early_stopped"
    assert result.epochs_run == 3
    assert result.stopped_epoch == 3
    assert result.best_epoch == 1
    assert result.restored_best is True


def test_stop_request_ends_the_run_and_drops_the_unfinished_epoch(tiny_config):
    config = tiny_config.replace({"training.epochs": 50})
    seen = []
    result = train(
        config,
        load_dataset(config.data, 1),
        on_epoch=seen.append,
        should_stop=lambda: len(seen) >= 2,
    )
    assert result.status == "stopped"
    assert result.epochs_run == 2 == len(result.history["loss"])


def test_recorded_run_commits_each_epoch_before_telling(tiny_config, fitgap_home):
    store = RunStore()
    committed_when_told = []

    def on_epoch(run_id, metrics):
        committed_when_told.append(len(RunStore().history(run_id).get("loss", [])) == metrics.epoch)

    result = run_recorded(tiny_config, store, on_epoch=on_epoch)
    assert committed_when_told == [True, True, True]
    stored = store.get_run(result.run_id)
    assert stored.status == "completed"
    assert stored.history["val_loss"] == pytest.approx(result.history["val_loss"])
    assert store.model_path(result.run_id).exists()


def test_steps_per_execution_is_a_whole_epoch_on_small_data_and_bounded_on_large():
    assert choose_steps_per_execution(1437, 32, 10_000) == 45
    large = choose_steps_per_execution(60_000, 32, 100_000)
    assert 1 < large < 1875


def test_weight_norms_of_a_diverging_run_read_none_without_a_warning():
    """Weights finite but too large to square (a run on its way to NaN): the norm is
    None, as for NaN, and no RuntimeWarning escapes (pytest turns warnings into errors)."""
    import keras
    import numpy as np

    from fitgap_gui.core.run.training import hidden_weight_norms

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.Dense(2)])
    kernel = model.layers[0].kernel
    kernel.assign(np.full(kernel.shape, 1e20, dtype="float32"))
    assert hidden_weight_norms(model) == [None]
    kernel.assign(np.ones(kernel.shape, dtype="float32"))
    assert hidden_weight_norms(model) == [pytest.approx(6**0.5)]
