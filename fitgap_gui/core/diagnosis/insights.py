"""What the network learned, as plain arrays for the insight views.

* ``validation_insight``: class probabilities on the validation set, the confusion
  matrix and the misclassified examples (with images for image-like data).
* ``decision_grid``: class probabilities over a grid spanning 2-D data, to draw the
  decision boundary under the training and validation points.

Everything takes a *predict function* ``x -> probabilities (n, n_classes)``;
``run.insights_probe.predict_fn(model)`` makes one from a Keras model.  The rest is numpy, cheap
enough to refresh every few epochs (a 100 x 100 grid took 8 ms for a [64] and
28 ms for a [256, 256] network on two shared cores).  Call the predict function on the thread that trains, through the
``inspect_model`` hook of ``run_recorded``/``train``: a Keras model is not safe to
use from two threads at once::

    def inspect(epoch, model):            # runs on the worker thread
        if epoch % 5 == 0:
            emit(decision_grid(predict_fn(model), dataset))
    run_recorded(config, store, dataset=dataset, inspect_model=inspect)

After a run, ``validation_insight(predict_fn(result.model), dataset)`` describes the
weights the run kept (the best ones when early stopping restored them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from fitgap_gui.core.data.datasets import Dataset
from fitgap_gui.core.errors import DataError

PredictFn = Callable[[np.ndarray], np.ndarray]


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts ``[true class, predicted class]`` (rows: truth), as scikit-learn lays it out."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{len(y_true)} true labels but {len(y_pred)} predictions")
    flat = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes)


@dataclass
class Misclassified:
    """One validation example the model got wrong."""

    index: int  # row in dataset.x_val
    true: int
    predicted: int
    true_name: str
    predicted_name: str
    confidence: float  # the probability given to the wrong class
    image: np.ndarray | None = field(default=None, repr=False)


@dataclass
class ValidationInsight:
    """Predictions on the validation set and what they add up to."""

    probabilities: np.ndarray  # (n_val, n_classes)
    predicted: np.ndarray  # (n_val,)
    confusion: np.ndarray  # (n_classes, n_classes), rows: true class
    class_names: list[str]
    misclassified: list[Misclassified]

    @property
    def accuracy(self) -> float:
        total = self.confusion.sum()
        return float(np.trace(self.confusion) / total) if total else float("nan")


def example_image(dataset: Dataset, row: np.ndarray) -> np.ndarray | None:
    """A sample as an image of ``dataset.image_shape`` (plus channels), or None."""
    if dataset.kind != "image" or not dataset.image_shape:
        return None
    shape = tuple(dataset.image_shape)
    pixels = int(np.prod(shape))
    if row.size == pixels:
        return row.reshape(shape)
    if row.size % pixels == 0:  # colour: (h, w, channels)
        return row.reshape(shape + (row.size // pixels,))
    return None


def misclassified_examples(
    dataset: Dataset, predicted: np.ndarray, probabilities: np.ndarray, limit: int | None = 64
) -> list[Misclassified]:
    """The wrong validation predictions, most confident first (those teach the most)."""
    wrong = np.flatnonzero(predicted != dataset.y_val)
    confidence = probabilities[wrong, predicted[wrong]] if len(wrong) else np.zeros(0)
    order = wrong[np.argsort(-confidence, kind="stable")][:limit]
    names = dataset.class_names
    return [
        Misclassified(
            index=int(i),
            true=int(dataset.y_val[i]),
            predicted=int(predicted[i]),
            true_name=names[dataset.y_val[i]],
            predicted_name=names[predicted[i]],
            confidence=float(probabilities[i, predicted[i]]),
            image=example_image(dataset, dataset.x_val[i]),
        )
        for i in order
    ]


def validation_insight(
    predict: PredictFn, dataset: Dataset, *, limit: int | None = 64
) -> ValidationInsight:
    """Predict the validation set once; confusion matrix and misclassified examples."""
    probabilities = np.asarray(predict(dataset.x_val), dtype=np.float64)
    predicted = probabilities.argmax(axis=1)
    return ValidationInsight(
        probabilities=probabilities,
        predicted=predicted,
        confusion=confusion_matrix(dataset.y_val, predicted, dataset.n_classes),
        class_names=list(dataset.class_names),
        misclassified=misclassified_examples(dataset, predicted, probabilities, limit),
    )


@dataclass
class DecisionGrid:
    """Class probabilities on a regular grid over 2-D data.

    ``probabilities[iy, ix]`` belongs to the point ``(xs[ix], ys[iy])``: rows are y,
    as in a matrix (for pyqtgraph's ImageItem, which indexes ``[x, y]``, pass
    ``probabilities.transpose(1, 0, 2)`` with ``rect = extent``).
    """

    xs: np.ndarray  # (resolution,)
    ys: np.ndarray  # (resolution,)
    probabilities: np.ndarray  # (resolution, resolution, n_classes)

    @property
    def predicted(self) -> np.ndarray:
        return self.probabilities.argmax(axis=-1)

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """(x_min, y_min, width, height) of the grid, for placing an image."""
        return (
            float(self.xs[0]),
            float(self.ys[0]),
            float(self.xs[-1] - self.xs[0]),
            float(self.ys[-1] - self.ys[0]),
        )


def grid_axes(dataset: Dataset, resolution: int = 100, margin: float = 0.1):
    """Grid coordinates spanning training and validation points, padded by ``margin``."""
    if dataset.x_train.ndim != 2 or dataset.x_train.shape[1] != 2:
        raise DataError(
            f"{dataset.name}: a decision boundary needs 2-D points, "
            f"not samples of shape {dataset.input_shape}"
        )
    points = np.concatenate([dataset.x_train, dataset.x_val])
    lo, hi = points.min(axis=0), points.max(axis=0)
    pad = np.maximum((hi - lo) * margin, 1e-6)
    lo, hi = lo - pad, hi + pad
    xs = np.linspace(lo[0], hi[0], resolution, dtype=np.float32)
    ys = np.linspace(lo[1], hi[1], resolution, dtype=np.float32)
    return xs, ys


def decision_grid(
    predict: PredictFn, dataset: Dataset, resolution: int = 100, margin: float = 0.1
) -> DecisionGrid:
    """Probabilities over a ``resolution`` x ``resolution`` grid around the data."""
    xs, ys = grid_axes(dataset, resolution, margin)
    gx, gy = np.meshgrid(xs, ys)  # (resolution, resolution), rows are y
    points = np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)
    probabilities = np.asarray(predict(points), dtype=np.float64)
    return DecisionGrid(xs, ys, probabilities.reshape(resolution, resolution, -1))
