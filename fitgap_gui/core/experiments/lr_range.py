"""The learning-rate range test (Smith 2017): one short run, the rate rising every batch.

The network and its compile come from the run's own plans (``core.model.build``), with a
constant rate that this loop sets before each batch: ``steps`` rates spaced
exponentially from ``min_rate`` to ``max_rate``.  Each batch's own loss (Keras's
``train_on_batch`` resets the metrics per call, so it is that batch's, penalty included)
is smoothed with a bias-corrected moving average (``smoothing_beta``: it lags 5 % of
the batches); the test stops once the smoothed loss
exceeds ``DIVERGENCE_FACTOR`` times its minimum (or is not finite).  Batches are drawn
from the training rows only, reshuffled every pass with the run's seed.

This is not a FitGap run (its rate is not the config's), so it has no row in the run
store: its curve is kept as a lab record (``core.experiments.labstore``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import Dataset
from fitgap_gui.core.experiments.lab_results import (
    diverged,
    exponential_rates,
    lr_range_payload,
    smooth_losses,
    smoothing_beta,
)
from fitgap_gui.core.kerasimport import import_keras
from fitgap_gui.core.model import build

#: (step from 1, rate, loss, smoothed) after each batch.
OnStep = Callable[[int, float, float, float], None]

DEFAULT_MIN_RATE = 1e-7
DEFAULT_MAX_RATE = 10.0
DEFAULT_STEPS = 100


def range_config(config: RunConfig, min_rate: float) -> RunConfig:
    """The run's config with a constant rate (the loop sets it per batch)."""
    return config.replace(
        {"training.lr_schedule": {"kind": "constant"}, "training.learning_rate": min_rate}
    )


def lr_range_test(
    config: RunConfig,
    dataset: Dataset,
    *,
    min_rate: float = DEFAULT_MIN_RATE,
    max_rate: float = DEFAULT_MAX_RATE,
    steps: int = DEFAULT_STEPS,
    on_step: OnStep | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Run the range test; returns ``{"rates", "losses", "smoothed", "suggested"}``.

    ``rates`` holds the rates actually run (fewer than ``steps`` when the loss
    diverged or ``should_stop`` said so).
    """
    rates = exponential_rates(min_rate, max_rate, steps)
    keras = import_keras()
    config = range_config(config, min_rate)
    keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(config.training.seed)
    model = build.build_model(
        config.model, dataset.input_shape, dataset.n_classes, dataset.image_shape
    )
    build.compile_model(model, config.training)
    x, y = dataset.x_train, dataset.y_train
    batch = min(config.training.batch_size, len(x))
    rng = np.random.default_rng(config.training.seed)
    order: np.ndarray = np.empty(0, dtype=np.int64)
    run_rates: list[float] = []
    losses: list[float] = []
    smoothed: list[float] = []
    beta = smoothing_beta(steps)
    for step, rate in enumerate(rates, start=1):
        if should_stop is not None and should_stop():
            break
        if len(order) < batch:
            order = np.concatenate([order, rng.permutation(len(x))])
        rows, order = order[:batch], order[batch:]
        model.optimizer.learning_rate = float(rate)
        logs = model.train_on_batch(x[rows], y[rows], return_dict=True)
        run_rates.append(float(rate))
        losses.append(float(logs["loss"]))
        smoothed = smooth_losses(losses, beta)
        if on_step is not None:
            on_step(step, float(rate), losses[-1], smoothed[-1])
        if diverged(smoothed):
            break
    return lr_range_payload(run_rates, losses, smoothed)
