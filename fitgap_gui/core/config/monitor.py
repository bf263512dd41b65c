"""What "better" means for a monitored metric, decided in one place.

Keras's ``MonitorCallback._set_monitor_op`` (``mode="auto"``) picks the direction
from the metric: a loss or cross-entropy is better when lower, an accuracy when
higher, and ``min_delta`` is the margin an improvement must beat.  The engine's
best epoch, the store's running best, the diagnosis's replay of early stopping and
the experiments all call ``is_better`` so they agree with Keras and with each other.
"""

from __future__ import annotations

import math
from typing import Literal

#: What early stopping may watch (Keras's own names; ``val_cross_entropy`` is the
#: validation loss without the weight penalty).
Monitor = Literal["val_loss", "val_cross_entropy", "val_accuracy", "loss", "accuracy"]
MONITORS: tuple[str, ...] = Monitor.__args__  # type: ignore[attr-defined]

Mode = Literal["min", "max"]


def mode_of(monitor: str) -> Mode:
    """``max`` for an accuracy ('acc' or 'accuracy' in the name), else ``min``."""
    name = monitor.removeprefix("val_").removeprefix("train_eval_")
    return "max" if name in ("acc", "accuracy") or name.endswith("accuracy") else "min"


def is_better(
    monitor: str, value: float | None, best: float | None, min_delta: float = 0.0
) -> bool:
    """Whether ``value`` improves on ``best`` by more than ``min_delta`` for ``monitor``.

    As in Keras: a missing or NaN value is never better; anything finite beats a
    missing best; ``min_delta`` is a strict margin (``value < best - min_delta``).
    """
    if value is None or math.isnan(value):
        return False
    if best is None or math.isnan(best):
        return True
    if mode_of(monitor) == "max":
        return value - abs(min_delta) > best
    return value + abs(min_delta) < best


def best_index(values, monitor: str) -> int | None:
    """0-based index of the best value (the first of ties), or None when none is finite."""
    best: float | None = None
    index = None
    for i, value in enumerate(values):
        if value is not None and math.isfinite(value) and is_better(monitor, value, best):
            best, index = value, i
    return index
