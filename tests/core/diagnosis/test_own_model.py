"""A user's run read without Keras: nearest config, accuracy-like metrics, cannot-judge cases."""

from __future__ import annotations

from fitgap_gui.core.diagnosis.own_model import accuracy_key, diagnose_own, nearest_config

LEVERS = {
    "dropout": [{"layer": "d", "rate": 0.2}, {"layer": "d2", "rate": 0.4}],
    "regularizers": [{"layer": "c", "on": "kernel", "class": "L2", "factors": {"l2": 0.01}}],
    "optimizer": {"class": "SGD", "learning_rate": 0.05},
    "epochs": 12,
    "batch_size": None,
    "loss": "sparse_categorical_crossentropy",
    "n_outputs": 10,
    "early_stopping": {
        "monitor": "val_sparse_categorical_accuracy",  # not a RunConfig monitor
        "patience": 2,
        "min_delta": 0.0,
        "restore_best_weights": True,
    },
}


def test_nearest_config_takes_what_fits_and_leaves_the_rest():
    config = nearest_config(LEVERS)
    assert config.model.dropout == 0.4 and config.model.l2 == 0.01
    assert config.training.optimizer == "sgd" and config.training.learning_rate == 0.05
    assert config.training.epochs == 12 and config.training.batch_size == 32  # unknown: default
    assert not config.early_stopping.enabled  # its monitor is not one FitGap knows
    odd = nearest_config({**LEVERS, "optimizer": {"class": "Lion", "learning_rate": 50.0}})
    assert odd.training.optimizer == "adam" and odd.training.learning_rate == 0.001


def test_any_accuracy_like_metric_is_read():
    history = {
        "loss": [2.0, 1.5, 1.2, 1.0, 0.8, 0.6, 0.5],
        "sparse_categorical_accuracy": [0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85],
        "val_loss": [2.0, 1.6, 1.3, 1.2, 1.1, 1.05, 1.0],
        "val_sparse_categorical_accuracy": [0.2, 0.35, 0.45, 0.5, 0.55, 0.6, 0.62],
        "train_eval_accuracy": [0.1] * 7,
    }
    assert accuracy_key(history) == "sparse_categorical_accuracy"
    d = diagnose_own(history, LEVERS)
    assert d.numbers["accuracy_gap_at_last"] == 0.85 - 0.62
    assert not d.summary.startswith("cannot judge")


def test_it_says_when_it_cannot_judge():
    no_val = diagnose_own({"loss": [1.0, 0.5]}, LEVERS)
    assert no_val.verdict == "inconclusive" and "no validation data" in no_val.summary
    regression = diagnose_own({"loss": [1.0], "val_loss": [1.1]}, {**LEVERS, "loss": "mse"})
    assert "cannot judge" in regression.summary and "mse" in regression.summary
