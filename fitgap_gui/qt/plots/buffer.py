"""A run's numbers as the plots draw them: one buffer row per epoch, and smoothing.

``RunBuffer`` grows a numpy array by doubling, so an epoch is one row written, not a
copy of the history.  Its columns (``COLUMNS``) are what the curves draw: the
training and validation numbers, the two gaps, Keras's running-mean training loss
and accuracy (a View option, drawn faint) and the learning rate.  "loss"/"accuracy"
hold the training set measured at the epoch's end in inference mode
(``train_eval_*``) and "val_loss" the validation cross-entropy without the weight
penalty; a run stored before those were measured falls back to Keras's
``loss``/``accuracy``/``val_loss`` (``measured`` says which).  View options never
change the buffer: ``ema_smooth`` is applied to what is drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

#: Buffer columns: epoch, the drawn training and validation metrics, the two gaps,
#: then Keras's running-mean training loss and accuracy and the learning rate.
COLUMNS = (
    "epoch", "loss", "val_loss", "accuracy", "val_accuracy", "loss_gap", "accuracy_gap",
    "keras_loss", "keras_accuracy", "learning_rate",
)  # fmt: skip
#: The index of each column.
COL = {name: i for i, name in enumerate(COLUMNS)}
#: Where each history key is drawn: (column, the key used when it is missing).
SOURCES = {
    "loss": ("train_eval_cross_entropy", "loss"),
    "val_loss": ("val_cross_entropy", "val_loss"),
    "accuracy": ("train_eval_accuracy", "accuracy"),
    "val_accuracy": ("val_accuracy", "val_accuracy"),
    "keras_loss": ("loss", "loss"),
    "keras_accuracy": ("accuracy", "accuracy"),
    "learning_rate": ("learning_rate", "learning_rate"),
}
#: The curves of Keras's running-mean training numbers (shown only on request).
KERAS_COLUMNS = ("keras_loss", "keras_accuracy")
#: Curves drawn as they are, whatever the smoothing: a schedule is not noise.
UNSMOOTHED = frozenset(("learning_rate",))


def ema_smooth(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's smoothing: an exponential moving average, debiased at the start.

    Like TensorBoard, the average starts at 0 and is divided by ``1 - weight**n``
    (n = finite points so far), so the first points are not dragged towards 0; a
    non-finite point stays as it is and does not enter the average.
    """
    values = np.asarray(values, dtype=float)
    if weight <= 0 or values.size == 0:
        return values.copy()
    from scipy.signal import lfilter  # deferred: scipy is a second's worth of modules

    out = values.copy()
    finite = np.isfinite(values)
    points = values[finite]
    if points.size:
        # last_n = weight * last_(n-1) + (1 - weight) * x_n, in C rather than a Python loop.
        average = lfilter([1.0 - weight], [1.0, -weight], points)
        out[finite] = average / (1.0 - weight ** np.arange(1, points.size + 1))
    return out


class RunBuffer:
    """One run's epochs, a row each (``COLUMNS``), in an array that grows by doubling."""

    def __init__(self) -> None:
        self.data = np.full((64, len(COLUMNS)), np.nan)
        self.count = 0
        #: The history has the end-of-epoch training measurements (False: an old run
        #: drawn from Keras's running means; None: no epoch yet).
        self.measured: bool | None = None

    def grow(self, needed: int) -> None:
        """Room for ``needed`` rows."""
        if needed > len(self.data):
            bigger = np.full((max(needed, 2 * len(self.data)), len(COLUMNS)), np.nan)
            bigger[: self.count] = self.data[: self.count]
            self.data = bigger

    def write_row(self, epoch: int, metrics: Mapping[str, float | None]) -> None:
        """One epoch's metrics into the next row (room for it must be there)."""
        if self.measured is None:
            self.measured = "train_eval_cross_entropy" in metrics
        row = self.data[self.count]
        row[0] = epoch
        for column, (key, fallback) in SOURCES.items():
            value = metrics.get(key) if key in metrics else metrics.get(fallback)
            row[COL[column]] = np.nan if value is None else value
        row[COL["loss_gap"]] = row[COL["val_loss"]] - row[COL["loss"]]
        row[COL["accuracy_gap"]] = row[COL["accuracy"]] - row[COL["val_accuracy"]]
        self.count += 1

    def append(self, epoch: int, metrics: Mapping[str, float | None]) -> None:
        self.grow(self.count + 1)
        self.write_row(epoch, metrics)

    def extend(self, history: Mapping[str, Sequence[float | None]]) -> None:
        """A whole stored history, numbered on from the rows already here."""
        n = max((len(v) for v in history.values()), default=0)
        self.grow(self.count + n)
        for i in range(n):
            row = {k: (v[i] if i < len(v) else None) for k, v in history.items()}
            self.write_row(self.count + 1, row)

    def rows(self) -> np.ndarray:
        """The stored numbers (one row per epoch); view options never change them."""
        return self.data[: self.count]

    def column(self, column: int) -> np.ndarray:
        return self.data[: self.count, column]

    def shown(self, column: int, smoothing: float) -> np.ndarray:
        """What the curve of ``column`` draws: the raw values, or smoothed ones."""
        values = self.data[: self.count, column]
        if smoothing <= 0 or COLUMNS[column] in UNSMOOTHED:
            return values
        return ema_smooth(values, smoothing)

    def extent(self, columns: Sequence[int], log: bool) -> tuple[float, float] | None:
        """Lowest and highest finite value of ``columns`` (log10 of the positive ones)."""
        values = self.data[: self.count, list(columns)]
        values = values[np.isfinite(values)]
        if log:
            values = np.log10(values[values > 0])
        return (float(values.min()), float(values.max())) if values.size else None
