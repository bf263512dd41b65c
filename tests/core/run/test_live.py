"""core/live.py: a live run's best epoch, and early stopping's countdown as Keras keeps it."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from fitgap_gui.core.config.monitor import is_better
from fitgap_gui.core.config.schema import EarlyStoppingConfig, RunConfig
from fitgap_gui.core.results.records import EpochMetrics
from fitgap_gui.core.run.live import LiveRun, early_stopping_countdown


def _keras_stop(values: list[float], monitor: str, patience: int, min_delta: float) -> int | None:
    """Drive Keras's own EarlyStopping over ``values``; the 1-based epoch it stops at."""
    from keras.callbacks import EarlyStopping

    # The fit's model tells Keras the direction; here ``mode`` says it, as FitGap reads it.
    mode = "min" if monitor.endswith("loss") else "max"
    callback = EarlyStopping(monitor=monitor, patience=patience, min_delta=min_delta, mode=mode)
    model = SimpleNamespace(stop_training=False)
    callback.set_model(model)
    callback.on_train_begin()
    for epoch, value in enumerate(values):
        callback.on_epoch_end(epoch, {monitor: value})
        if model.stop_training:
            return epoch + 1
    return None


CURVES = [
    ("val_loss", [1.0, 0.8, 0.7, 0.71, 0.72, 0.69, 0.70, 0.75, 0.8, 0.9, 1.0, 1.1]),
    ("val_loss", [1.0, 0.99, 0.985, 0.984, 0.983, 0.982, 0.981, 0.98, 0.979, 0.978]),
    ("val_accuracy", [0.5, 0.6, 0.6, 0.61, 0.605, 0.6, 0.59, 0.62, 0.6, 0.6, 0.6]),
    ("val_loss", [1.0, math.nan, 0.9, 0.95, 0.96, 0.97, 0.98]),
    # NaN first: Keras keeps it as its best, and nothing beats it.
    ("val_loss", [math.nan, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4]),
]


@pytest.mark.parametrize("monitor, values", CURVES)
@pytest.mark.parametrize("patience, min_delta", [(0, 0.0), (2, 0.0), (3, 0.005), (1, 0.02)])
def test_the_countdown_stops_where_keras_stops(monitor, values, patience, min_delta):
    stopping = EarlyStoppingConfig(
        enabled=True, monitor=monitor, patience=patience, min_delta=min_delta
    )
    keras_stop = _keras_stop(values, monitor, patience, min_delta)
    # Replay epoch by epoch as the window does; each countdown names the next stop.
    for seen in range(1, len(values) + 1):
        countdown = early_stopping_countdown({monitor: values[:seen]}, stopping, 1000)
        assert countdown is not None and countdown.patience == patience
        if keras_stop is not None and seen <= keras_stop:
            # Before Keras stops, the countdown's stop epoch is never past Keras's.
            assert countdown.stop_epoch is not None and countdown.stop_epoch <= keras_stop
        if keras_stop is not None and seen == keras_stop:
            assert countdown.stop_epoch == keras_stop
            assert countdown.waited >= patience
    if keras_stop is None:
        final = early_stopping_countdown({monitor: values}, stopping, 1000)
        assert final.stop_epoch > len(values)


def test_countdown_text_and_budget():
    stopping = EarlyStoppingConfig(enabled=True, monitor="val_loss", patience=5)
    countdown = early_stopping_countdown({"val_loss": [1.0, 0.5, 0.6, 0.7, 0.8]}, stopping, 100)
    assert countdown.text() == "3 of 5 without improvement"
    assert (countdown.best_epoch, countdown.stop_epoch) == (2, 7)
    # Past the epochs asked for, the budget ends the run first: no stop epoch.
    assert early_stopping_countdown({"val_loss": [1.0, 0.5]}, stopping, 4).stop_epoch is None
    off = EarlyStoppingConfig(enabled=False)
    assert early_stopping_countdown({"val_loss": [1.0]}, off, 10) is None


def test_is_better_follows_the_monitor_direction_and_min_delta():
    assert is_better("val_loss", 0.5, None)
    assert is_better("val_loss", 0.5, 0.6, 0.05) and not is_better("val_loss", 0.56, 0.6, 0.05)
    assert is_better("val_accuracy", 0.7, 0.6, 0.05)
    assert not is_better("accuracy", 0.64, 0.6, 0.05)


def test_a_live_run_keeps_its_best_epoch_as_epochs_arrive():
    run = LiveRun(1, "#1", RunConfig())
    for epoch, (loss, val) in enumerate([(1.0, 0.9), (0.8, 0.7), (0.6, 0.75)], start=1):
        run.append(EpochMetrics(epoch, {"loss": loss, "val_loss": val}))
    assert run.best_epoch == 2 and run.history["val_loss"] == [0.9, 0.7, 0.75]
    assert run.epochs == 3 and run.data == ("digits", None)


def test_a_non_finite_epoch_is_never_the_live_best():
    run = LiveRun(1, "#1", RunConfig())
    for epoch, val in enumerate([math.nan, 0.9, math.inf, 0.9, 0.8], start=1):
        run.append(EpochMetrics(epoch, {"loss": 1.0, "val_cross_entropy": val}))
    assert run.best_epoch == 5


def test_a_stored_run_followed_as_it_trains_keeps_its_best_against_worse_epochs():
    """A run trained elsewhere comes with its history and best epoch; a worse epoch
    that arrives later is not the best (its best value is caught up from the history)."""
    history = {"loss": [1.0, 0.8, 0.7], "val_cross_entropy": [0.9, 0.5, 0.6]}
    run = LiveRun(1, "#1", RunConfig(), history=history, best_epoch=2)
    run.append(EpochMetrics(4, {"loss": 0.6, "val_cross_entropy": 0.7}))
    assert run.best_epoch == 2
    run.append(EpochMetrics(5, {"loss": 0.5, "val_cross_entropy": 0.4}))
    assert run.best_epoch == 5
