"""core/config/monitor.py: ``RunningBest``, the one running best of a monitored metric."""

from __future__ import annotations

import math

import pytest

from fitgap_gui.core.config.monitor import RunningBest, best_of, mode_of

NAN, INF = math.nan, math.inf


def test_the_direction_comes_from_the_metric():
    assert [mode_of(m) for m in ("val_loss", "val_cross_entropy", "loss")] == ["min"] * 3
    assert [mode_of(m) for m in ("val_accuracy", "train_eval_accuracy", "acc")] == ["max"] * 3


@pytest.mark.parametrize(
    ("monitor", "values", "best"),
    [
        ("val_loss", [0.9, 0.7, 0.7, 0.8], 2),  # the first of ties
        ("val_loss", [NAN, 0.9, None, INF, 0.8, -INF], 5),  # non-finite is never the best
        ("val_accuracy", [0.5, 0.7, 0.6, 0.7], 2),  # higher is better
        ("val_loss", [None, NAN], None),  # nothing finite: no best epoch
        ("val_loss", [], None),
    ],
)
def test_the_best_epoch_of_a_history(monitor, values, best):
    assert best_of(values, monitor) == best


def test_min_delta_is_a_strict_margin_and_a_kept_best_goes_on():
    running = RunningBest("val_loss", min_delta=0.05)
    assert running.update(0.6, 1) and not running.update(0.56, 2) and running.update(0.54, 3)
    assert (running.best, running.best_epoch) == (0.54, 3)
    # The store's running best starts from the value its row kept.
    kept = RunningBest("val_loss", best=0.5, best_epoch=4)
    assert not kept.update(0.5, 5) and not kept.update(NAN, 6) and kept.update(0.4, 7)
    assert kept.best_epoch == 7


def test_as_keras_a_nan_first_value_is_the_best_and_nothing_beats_it():
    running = RunningBest("val_loss", nan="as_keras")
    assert running.update(NAN, 1) and running.best_epoch == 1
    assert not running.update(0.1, 2) and not running.update(None, 3)
    later = RunningBest("val_loss", nan="as_keras")
    assert later.update(0.5, 1) and not later.update(NAN, 2) and not later.update(None, 3)
    assert later.update(0.4, 4) and later.best_epoch == 4


def test_as_keras_compares_in_float32_as_keras_ops_do():
    running = RunningBest("val_loss", nan="as_keras")
    running.update(0.1, 1)
    assert not running.update(0.1 - 1e-12, 2)  # equal in float32: no improvement
    assert RunningBest("val_loss").improves(0.1 - 1e-12, 0.1)  # the best epoch: float64
    assert RunningBest("val_loss", nan="as_keras").improves(1e39, 3e38) is False  # inf there
