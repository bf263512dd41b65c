"""The training-thread side of the Insights tab: decision grids and validation insight.

``InsightProbe`` watches one run from the worker thread (Keras models are not safe
to use from two threads) and hands out plain numpy payloads through ``emit(kind,
payload)``; the GUI thread only ever sees those:

* ``"boundary"``: class probabilities over a grid around 2-D data, refreshed while
  training.  The refresh is adaptive: it waits until the training time since the
  last refresh is at least ``(1 - budget) / budget`` times what the last grid cost,
  so drawing the boundary never takes more than ``budget`` (10%) of the run.
* ``"validation"``: the confusion matrix and misclassified examples for the best
  weights, after the run.  When early stopping restored them the model has them
  already; otherwise the probe kept a copy of the weights at the best epoch
  (reading weights draws no random numbers, so the run's numbers do not change).
* ``"examples"``: the per-example dynamics so far (``core.results.examples``), after
  each measured epoch and once more at the end (with the delivered model's classes):
  ``{"dynamics": ExampleDynamics}``, a snapshot the GUI thread may read.
* ``"unavailable"``: an insight failed (it never fails the run); ``reason`` says why.

No Qt here, so the probe can be tested and timed without a window.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from fitgap_gui.core.config.monitor import RunningBest
from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import Dataset
from fitgap_gui.core.diagnosis.insights import PredictFn, decision_grid, validation_insight
from fitgap_gui.core.results.examples import ExampleDynamics
from fitgap_gui.core.results.records import EpochMetrics, RunResult

Emit = Callable[[str, dict], None]

#: Most misclassified examples sent to the view (it shows the most confident ones).
MISCLASSIFIED_LIMIT = 24
#: Share of training time the live decision boundary may cost.
BUDGET = 0.10
RESOLUTION = 100


#: Rows per model call; bounds memory for big validation sets or fine grids.
BATCH = 4096


def predict_fn(model) -> PredictFn:
    """A predict function for a Keras model: inference mode (no dropout), numpy out.

    Calls the model directly instead of ``model.predict``: for a few thousand rows
    that avoids ``predict``'s per-call setup, which costs more than the math.
    """
    import keras

    def predict(x: np.ndarray) -> np.ndarray:
        parts = [
            keras.ops.convert_to_numpy(model(x[i : i + BATCH], training=False))
            for i in range(0, len(x), BATCH)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, model.output_shape[-1]))

    return predict


def is_points2d(dataset: Dataset) -> bool:
    return (
        dataset.kind == "points2d" and dataset.x_train.ndim == 2 and dataset.x_train.shape[1] == 2
    )


class InsightProbe:
    """Watches one run on the training thread; see the module docstring."""

    def __init__(
        self, config: RunConfig, emit: Emit, *, budget: float = BUDGET, resolution: int = RESOLUTION
    ) -> None:
        self._emit = emit
        self._budget = budget
        self._resolution = resolution
        self._monitor = config.early_stopping.monitor
        self._dataset: Dataset | None = None
        self._live = False
        self._last_end = 0.0  # when the last grid was done (perf_counter)
        self._cost = 0.0  # seconds the last grid took
        self._started = 0.0
        self._grid_seconds = 0.0  # all grids together, for the share shown to the user
        self._best = RunningBest(self._monitor)
        self._best_weights: list[np.ndarray] | None = None
        self._pending_best = False

    def start(self, dataset: Dataset) -> None:
        """The run's data is loaded; training starts next."""
        self._dataset = dataset
        self._live = is_points2d(dataset)
        self._started = self._last_end = time.perf_counter()

    def note_epoch(self, metrics: EpochMetrics) -> None:
        """Called with each epoch's metrics (before ``inspect``): is it the best so far?"""
        if self._best.update(metrics.metrics.get(self._monitor), metrics.epoch):
            self._pending_best = True

    def inspect(self, epoch: int, model: Any) -> None:
        """The ``inspect_model`` hook: keep the best weights, refresh the boundary when due."""
        if self._pending_best:
            self._pending_best = False
            self._best_weights = model.get_weights()
        if not self._live:
            return
        now = time.perf_counter()
        waited = now - self._last_end
        if epoch > 1 and waited * self._budget < self._cost * (1.0 - self._budget):
            return
        self._send_grid(epoch, model, final=False)

    def examples(self, dynamics: ExampleDynamics) -> None:
        """The ``on_examples`` hook: hand a snapshot of the per-example record out."""
        self._emit("examples", {"dynamics": dynamics.snapshot(), "final": False})

    def finish(self, result: RunResult) -> None:
        """After the run: the boundary of the weights the run kept, the validation
        insight of the best ones.

        The boundary stays with the model as it is (the last epoch, unless early
        stopping restored the best), so an overfitted run's jagged boundary stays in
        view; the confusion matrix and mistakes describe the best epoch.
        """
        if result.examples is not None:
            self._emit("examples", {"dynamics": result.examples.snapshot(), "final": True})
        model, dataset = result.model, self._dataset
        if model is None or dataset is None or result.epochs_run == 0:
            return
        epoch, which = result.epochs_run, "last epoch"
        if result.restored_best and result.best_epoch:
            epoch, which = result.best_epoch, "best epoch, restored by early stopping"
        if self._live:
            self._send_grid(epoch, model, final=True, which=which)
        swapped = None
        best = self._best.best_epoch
        if (
            not result.restored_best
            and self._best_weights is not None
            and best is not None
            and best == result.best_epoch
        ):
            # Evaluate the copy of the best weights, then put the last ones back.
            if best != result.epochs_run:
                swapped = model.get_weights()
                model.set_weights(self._best_weights)
            epoch, which = best, "best epoch"
        try:
            self._send_validation(epoch, which, model)
        finally:
            if swapped is not None:
                model.set_weights(swapped)
            self._best_weights = None

    # -- payloads ---------------------------------------------------------------------------
    @property
    def dataset(self) -> Dataset:
        """The run's data; ``start`` sets it before any payload is computed."""
        if self._dataset is None:
            raise RuntimeError("InsightProbe.start was not called")
        return self._dataset

    def _send_grid(self, epoch: int, model: Any, *, final: bool, which: str = "") -> None:
        start = time.perf_counter()
        try:
            grid = decision_grid(predict_fn(model), self.dataset, self._resolution)
        except Exception as exc:  # an insight must never end the run
            self._live = False
            self._emit("unavailable", {"view": "boundary", "reason": str(exc)})
            return
        end = time.perf_counter()
        self._cost = end - start
        self._last_end = end
        self._grid_seconds += self._cost
        elapsed = end - self._started
        self._emit(
            "boundary",
            {
                "epoch": epoch,
                "final": final,
                "which": which,
                "xs": grid.xs,
                "ys": grid.ys,
                "probabilities": grid.probabilities.astype(np.float32),
                "seconds": self._cost,
                "share": self._grid_seconds / elapsed if elapsed > 0 else 0.0,
            },
        )

    def _send_validation(self, epoch: int, which: str, model: Any) -> None:
        try:
            insight = validation_insight(predict_fn(model), self.dataset, limit=MISCLASSIFIED_LIMIT)
        except Exception as exc:
            self._emit("unavailable", {"view": "validation", "reason": str(exc)})
            return
        wrong = [
            {
                "index": m.index,
                "true_name": m.true_name,
                "predicted_name": m.predicted_name,
                "confidence": m.confidence,
                "image": m.image,
            }
            for m in insight.misclassified
        ]
        self._emit(
            "validation",
            {
                "epoch": epoch,
                "which": which,
                "confusion": insight.confusion,
                "class_names": insight.class_names,
                "accuracy": insight.accuracy,
                "n_wrong": int(len(insight.predicted) - np.trace(insight.confusion)),
                "misclassified": wrong,
                "is_image": self.dataset.kind == "image" and bool(self.dataset.image_shape),
            },
        )
