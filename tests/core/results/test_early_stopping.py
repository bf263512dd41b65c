"""core/results/early_stopping.py: the replay stops where ``keras.callbacks.EarlyStopping``
stops, with the same best epoch, on hand-made histories (NaN included)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from fitgap_gui.core.config.monitor import mode_of
from fitgap_gui.core.results.early_stopping import EarlyStoppingReplay, replay_early_stopping

NAN = math.nan

HISTORIES = [
    ("val_loss", [1.0, 0.8, 0.7, 0.71, 0.72, 0.69, 0.70, 0.75, 0.8, 0.9, 1.0]),
    ("val_loss", [NAN, 0.9, 0.8, 0.7, 0.6, 0.5]),  # NaN first: Keras keeps it as the best
    ("val_loss", [1.0, 0.9, NAN, 0.85, 0.95, 0.96, NAN, 0.97, 0.5]),  # NaN later
    ("val_loss", [1.0, 0.99, 0.985, 0.984, 0.983, 0.982, 0.981, 0.98]),  # creeping
    ("val_loss", [0.5, 0.5 - 1e-9, 0.5 - 2e-9, 0.4, 0.4, 0.4]),  # ties in float32
    ("val_accuracy", [0.5, 0.6, 0.6, 0.61, NAN, 0.6, 0.59, 0.62, 0.6, 0.6]),
    ("val_accuracy", [NAN, NAN, 0.7, 0.8]),
]
SETTINGS = [
    {"patience": 0},
    {"patience": 2},
    {"patience": 3, "min_delta": 0.005},
    {"patience": 1, "min_delta": 0.02, "restore_best_weights": True},
    {"patience": 2, "baseline": "between"},  # 0.75 for a loss, 0.605 for an accuracy
    {"patience": 1, "start_from_epoch": 2, "restore_best_weights": True},
]


def _keras(monitor: str, values: list[float], settings: dict) -> tuple[int | None, int | None]:
    """Keras's own EarlyStopping fed ``values`` on a dummy model: (stop epoch, best epoch)."""
    from keras.callbacks import EarlyStopping

    # A fit's model tells Keras the direction; here ``mode`` says it, as FitGap reads it.
    callback = EarlyStopping(monitor=monitor, mode=mode_of(monitor), **settings)
    model = SimpleNamespace(stop_training=False, get_weights=list, set_weights=print)
    callback.set_model(model)
    callback.on_train_begin()
    stop = None
    for epoch, value in enumerate(values):
        callback.on_epoch_end(epoch, {monitor: value})
        if model.stop_training:
            stop = epoch + 1
            break
    best = callback.best_epoch + 1 if callback.best is not None else None
    return stop, best


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize(("monitor", "values"), HISTORIES)
def test_the_replay_stops_where_keras_stops(monitor, values, settings):
    if settings.get("baseline") == "between":
        settings = {**settings, "baseline": 0.75 if mode_of(monitor) == "min" else 0.605}
    stop, best = _keras(monitor, values, settings)
    # restore_best_weights keeps weights only: the replay takes no such argument.
    replayed = {k: v for k, v in settings.items() if k != "restore_best_weights"}
    replay = replay_early_stopping(values, monitor, **replayed)
    assert (replay.stopped_epoch, replay.best_epoch) == (stop, best)


def test_a_stored_history_reads_none_as_the_nan_it_was():
    stored = replay_early_stopping([None, 0.5, 0.4, 0.3], "val_loss", patience=2)
    live = replay_early_stopping([NAN, 0.5, 0.4, 0.3], "val_loss", patience=2)
    assert (stored.stopped_epoch, stored.best_epoch) == (live.stopped_epoch, live.best_epoch)
    assert (stored.stopped_epoch, stored.best_epoch) == (3, 1)


def test_the_replay_goes_on_past_the_stop_when_asked():
    values = [1.0, 1.1, 1.2, 0.5, 0.6]
    assert replay_early_stopping(values, patience=2).epochs == 3
    whole = replay_early_stopping(values, patience=2, until_stop=False)
    assert (whole.epochs, whole.stopped_epoch, whole.best_epoch, whole.wait) == (5, 3, 4, 1)
    one = EarlyStoppingReplay("val_loss", patience=1)
    assert [one.on_epoch_end(v) for v in (1.0, 0.9, 0.95)] == [False, False, True]
