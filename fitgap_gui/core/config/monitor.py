"""What "better" means for a monitored metric, and the running best, decided in one place.

Keras's ``MonitorCallback._set_monitor_op`` (``mode="auto"``) picks the direction
from the metric: a loss or cross-entropy is better when lower, an accuracy when
higher, and ``min_delta`` is the margin an improvement must beat.  ``RunningBest``
keeps the best value and epoch of one metric as epochs arrive; the best epoch of a
history (``results.records.best_epoch``), the live run, the store's running best and
the replay of early stopping (``results.early_stopping``) all use it, so they agree with Keras and with
each other.  Pure Python: no Keras, no NumPy.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable
from typing import Literal

#: What early stopping may watch (Keras's own names; ``val_cross_entropy`` is the
#: validation loss without the weight penalty).
Monitor = Literal["val_loss", "val_cross_entropy", "val_accuracy", "loss", "accuracy"]
MONITORS: tuple[str, ...] = Monitor.__args__  # type: ignore[attr-defined]

Mode = Literal["min", "max"]
#: How a value that is not a finite number (NaN, infinite, missing) counts:
#: ``"never_best"``: never the best (a diverged epoch is no result; FitGap's best epoch);
#: ``"as_keras"``: as Keras's ``MonitorCallback._is_improvement`` compares it (early
#: stopping): anything improves on no best, a NaN included, and nothing improves on a
#: NaN best or is improved by a NaN.
NanRule = Literal["never_best", "as_keras"]


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


def _float32(value: float) -> float:
    """``value`` rounded to float32, as ``keras.ops`` compares Python floats."""
    try:
        return float(struct.unpack("f", struct.pack("f", value))[0])
    except OverflowError:  # beyond float32's range: infinite there
        return math.copysign(math.inf, value)


class RunningBest:
    """The best value of one monitored metric so far, and the epoch it came at.

    The shape of Keras's ``MonitorCallback``: ``monitor`` names the metric (its
    direction is ``mode_of(monitor)``), ``min_delta`` is the margin an improvement must
    beat, ``nan`` says how a non-finite value counts (``NanRule``).  Ties keep the first
    epoch.  With ``nan="as_keras"`` values are compared in float32, as Keras compares
    them, so a replay stops where Keras stops even on a near tie.
    """

    def __init__(
        self,
        monitor: str,
        min_delta: float = 0.0,
        nan: NanRule = "never_best",
        *,
        best: float | None = None,
        best_epoch: int | None = None,
    ) -> None:
        self.monitor = monitor
        self.mode: Mode = mode_of(monitor)
        self.min_delta = abs(min_delta)
        self.nan: NanRule = nan
        #: The best value so far (None before the first counted one; given: a best
        #: kept elsewhere, such as the store's row, goes on from there).
        self.best: float | None = best
        #: Its epoch, as the caller numbers them (None before the first counted one).
        self.best_epoch: int | None = best_epoch

    def improves(self, value: float | None, reference: float | None = None) -> bool:
        """Whether ``value`` beats ``reference`` (default: the best so far) by the margin."""
        reference = self.best if reference is None else reference
        if self.nan == "never_best":
            if value is None or not math.isfinite(value):
                return False
            return is_better(self.monitor, value, reference, self.min_delta)
        value = math.nan if value is None else value
        if reference is None:
            return True
        if self.mode == "max":  # Keras: ops.greater(value - min_delta, reference)
            return _float32(value - self.min_delta) > _float32(reference)
        return _float32(value + self.min_delta) < _float32(reference)  # ops.less

    def update(self, value: float | None, epoch: int) -> bool:
        """Take one epoch's value; True (and it becomes the best) when it improves."""
        if not self.improves(value):
            return False
        self.best = math.nan if value is None else float(value)
        self.best_epoch = epoch
        return True


def best_of(values: Iterable[float | None], monitor: str) -> int | None:
    """1-based epoch of the best of ``values`` (the first of ties; non-finite never),
    or None when none is finite."""
    running = RunningBest(monitor)
    for epoch, value in enumerate(values, start=1):
        running.update(value, epoch)
    return running.best_epoch
