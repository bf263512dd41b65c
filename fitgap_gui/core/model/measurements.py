"""The inference-mode numbers: the training set measured like the validation set, each epoch.

Keras's ``loss``/``accuracy`` are running means over the epoch, taken with dropout
and augmentation active and with weights that change on every step; ``val_loss`` is
one pass at the epoch's end in inference mode, and both hold the weight penalty.
The gap between two such numbers is partly an artefact.  So each run also records:

* ``cross_entropy`` / ``val_cross_entropy``: the data loss without the penalty, from
  Keras's own ``SparseCategoricalCrossentropy`` metric compiled beside ``accuracy``
  (computed by Keras the way it computes its loss, from the softmax's logits on the
  TensorFlow backend; it never touches the gradients);
* ``penalty``: the weight penalty (the sum of ``model.losses``) at the epoch's end, so
  ``val_loss == val_cross_entropy + penalty``;
* ``train_eval_cross_entropy`` / ``train_eval_accuracy``: one inference-mode pass of
  the model over the training set, at most ``TRAIN_EVAL_SAMPLES`` of it (a fixed
  subsample drawn once per run from its own generator), with the end-of-epoch weights:
  it yields the softmax's logits per example, from which the cross-entropy (as Keras
  computes it from logits) and the accuracy are taken, and which per-example views
  receive (``on_logits``: ``core.results.examples``), so they cost no second pass;
* ``memorized_noise`` (label noise only): the fraction of the flipped training samples
  the network now predicts with their flipped, wrong label (from the same logits).

Once a run has ended, ``evaluate_delivered`` measures the model it delivers on the test
part, with the same test step: after ``fit``, so no history holds it and nothing
decides with it.

Inference draws no random numbers, so none of this changes the run: Keras's own
history stays equal to the plain program's (tests/core/run/test_faithfulness.py).  The
functions here use numpy and Keras only (Keras imported inside them, a deferred heavy
import), so the exported Keras script carries this very code.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: The training samples measured each epoch: all of them up to this many, else a
#: fixed subsample of this size (the mean's standard error is then below 0.5 %).
TRAIN_EVAL_SAMPLES = 10_000
#: The keys this module adds to each epoch's logs (``memorized_noise`` with label noise).
TRAIN_EVAL_KEYS = (
    "cross_entropy",
    "val_cross_entropy",
    "penalty",
    "train_eval_cross_entropy",
    "train_eval_accuracy",
)


def cross_entropy_metric():
    """Keras's own cross-entropy metric under the name the history uses."""
    import keras  # deferred: Keras is a heavy import

    return keras.metrics.SparseCategoricalCrossentropy(name="cross_entropy")


def train_eval_rows(n_train: int, seed: int) -> np.ndarray:
    """The training rows measured each epoch, drawn once per run, never from Keras's RNG."""
    if n_train <= TRAIN_EVAL_SAMPLES:
        return np.arange(n_train)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_train, size=TRAIN_EVAL_SAMPLES, replace=False))


def weight_penalty(model) -> float:
    """The sum of ``model.losses`` (the L1/L2 penalty) with the current weights."""
    import keras  # deferred: Keras is a heavy import

    return float(sum(float(keras.ops.convert_to_numpy(loss)) for loss in model.losses))


#: Rows per compiled call, times the widest layer: ~64 MB of float32 activations at most.
CHUNK_FLOATS = 2**24


def widest_layer(layers: list[dict[str, Any]], input_shape: tuple[int, ...]) -> int:
    """Floats per sample in the widest layer output of a layer plan (a conv map: pixels x
    filters, at most)."""
    pixels = math.prod(input_shape)
    widths = [spec.get("units", 0) for spec in layers]
    return max(pixels, *widths, *(pixels * spec.get("filters", 1) for spec in layers))


def chunk_rows(widest_layer: int) -> int:
    """How many rows one ``test_on_batch`` call takes: all 10,000 for a 1,024-wide net."""
    return max(256, CHUNK_FLOATS // max(1, widest_layer))


def keras_scores(model, x: np.ndarray, y: np.ndarray, rows_per_call: int) -> dict[str, float]:
    """Keras's own test step over ``x``: cross-entropy and accuracy.

    ``model.evaluate`` would build a tf.data pipeline and callbacks on every call,
    which cost more than a whole epoch on small data (measured in
    benchmarks/bench_eval_cost.py); one compiled call per chunk does the same
    arithmetic.  Chunk means are combined weighted by their sizes, as Keras's
    metrics do across batches.
    """
    test_step = compiled_test_step(model)
    totals = {"cross_entropy": 0.0, "accuracy": 0.0}
    for start in range(0, len(x), rows_per_call):
        xc, yc = x[start : start + rows_per_call], y[start : start + rows_per_call]
        scores = test_step(xc, yc)
        for key in totals:
            totals[key] += float(scores[key]) * len(xc)
    return {key: total / len(x) for key, total in totals.items()}


def compiled_test_step(model):
    """``(x, y) -> logs``: one call of the test step that ``fit`` runs on the validation set.

    On TensorFlow this calls ``model.test_function`` itself with an ``(x, y)`` batch:
    the step it runs for validation was traced for batches of any length, so this
    reuses that trace.  ``test_on_batch`` passes ``(x, y, None)`` and traces the
    step again for each new batch length (the whole training set, then the flipped
    rows): up to a second per run on small data (benchmarks/RESULTS.md, section 7b).
    Other backends' ``test_function`` takes other arguments: ``test_on_batch`` there.
    """
    import keras  # deferred: Keras is a heavy import

    if keras.backend.backend() != "tensorflow":
        return lambda x, y: model.test_on_batch(x, y, return_dict=True)
    model.make_test_function()

    def test_step(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        model.reset_metrics()  # what test_on_batch does first: this batch alone
        return model.test_function([(x, y)])

    return test_step


def logits_function(model):
    """``x -> logits``: the model in inference mode, the softmax's inputs per row.

    On TensorFlow one traced call (any batch length) returns the logits Keras's softmax
    keeps beside its output (what its cross-entropy reads); elsewhere, or for a model
    whose output carries none, the log of the probabilities (equal up to a constant per
    row, which neither a margin nor a cross-entropy sees).
    """
    import keras  # deferred: Keras is a heavy import

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf  # deferred: the backend itself

        @tf.function(reduce_retracing=True)
        def forward(x):
            out = model(x, training=False)
            logits = getattr(out, "_keras_logits", None)
            return logits if logits is not None else tf.math.log(tf.maximum(out, 1e-45))

        return lambda x: np.asarray(forward(x), dtype=np.float32)

    def forward_other(x: np.ndarray) -> np.ndarray:
        probs = np.asarray(keras.ops.convert_to_numpy(model(x, training=False)))
        return np.log(np.maximum(probs.astype(np.float64), 1e-300)).astype(np.float32)

    return forward_other


def scores_from_logits(logits: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Cross-entropy (the mean of ``-log softmax`` at the label) and accuracy."""
    z = np.asarray(logits, dtype=np.float64)
    shifted = z - z.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1))
    at = np.arange(len(y))
    cross_entropy = float(np.mean(log_norm - shifted[at, y])) if len(y) else math.nan
    accuracy = float(np.mean(np.argmax(z, axis=1) == y)) if len(y) else math.nan
    return {"cross_entropy": cross_entropy, "accuracy": accuracy}


def make_train_eval_callback(
    x_train: np.ndarray,
    y_train: np.ndarray,
    *,
    seed: int,
    widest_layer: int = 1024,
    flipped_rows: np.ndarray | None = None,
    on_logits=None,
):
    """A Keras callback that adds the inference-mode numbers to each epoch's logs.

    It must come first in ``callbacks`` so that EarlyStopping, FitGap's stream and
    Keras's History all see the keys.  An epoch already told to stop (a user stop
    or a diverged loss) gets NaN instead of a measurement, keeping every column as
    long as the history.  ``on_logits(epoch, logits)`` (epoch counted from 1; rows in
    ``callback.rows`` order) receives each measured epoch's logits.
    """
    import keras  # deferred: Keras is a heavy import

    rows = train_eval_rows(len(x_train), seed)
    x_eval, y_eval = x_train[rows], y_train[rows]
    per_call = chunk_rows(widest_layer)
    noisy = None
    if flipped_rows is not None and len(flipped_rows):
        noisy = np.flatnonzero(np.isin(rows, flipped_rows))  # positions within ``rows``

    class TrainEvalMeasurements(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.rows = rows
            self._forward: Any = None

        def on_train_begin(self, logs=None):
            self._forward = None  # traced for this model, once per fit

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            if logs is None:
                return
            measure = not self.model.stop_training
            values = dict.fromkeys(("train_eval_cross_entropy", "train_eval_accuracy"), math.nan)
            logits = None
            if measure:
                if self._forward is None:
                    self._forward = logits_function(self.model)
                parts = [
                    self._forward(x_eval[start : start + per_call])
                    for start in range(0, len(x_eval), per_call)
                ]
                logits = np.concatenate(parts)
                scores = scores_from_logits(logits, y_eval)
                values["train_eval_cross_entropy"] = scores["cross_entropy"]
                values["train_eval_accuracy"] = scores["accuracy"]
            values["penalty"] = weight_penalty(self.model)
            if noisy is not None:
                # Accuracy against the flipped labels = the share predicted as flipped.
                values["memorized_noise"] = math.nan
                if logits is not None and len(noisy):
                    predicted = np.argmax(logits[noisy], axis=1)
                    values["memorized_noise"] = float(np.mean(predicted == y_eval[noisy]))
            logs.update(values)
            if logits is not None and on_logits is not None:
                on_logits(epoch + 1, logits)

    return TrainEvalMeasurements()


def delivered_epoch(early_stopping, epochs_run: int) -> int:
    """The epoch whose weights ``fit`` leaves in the model: the one it delivers.

    Keras 3's ``EarlyStopping`` with ``restore_best_weights`` sets its best epoch's
    weights back at the end of ``fit`` whenever it kept them (stopped early or not);
    otherwise the model holds the last epoch run's.  ``epochs_run`` counts from 1.
    """
    early = early_stopping
    if early is not None and early.restore_best_weights and early.best_weights is not None:
        return int(early.best_epoch) + 1
    return epochs_run


def evaluate_delivered(
    model,
    x_test: np.ndarray,
    y_test: np.ndarray,
    epoch: int,
    *,
    rows_per_call: int = 10_000,
    scores=None,
) -> dict[str, Any]:
    """The delivered model's test numbers: ``{"epoch", "cross_entropy", "accuracy", "n"}``.

    Called once, after ``fit`` returned, on the model the run delivers (the restored
    best epoch's weights when early stopping restored them, else the last epoch's):
    ``epoch`` names that epoch.  The cross-entropy is Keras's own metric over the
    softmax's logits, from the compiled test step ``fit`` runs on the validation set
    (``keras_scores``), so it is computed as ``val_cross_entropy`` is.  Inference draws
    no random numbers.  ``scores(model, x, y) -> {"cross_entropy", "accuracy"}`` replaces
    that step for a model compiled without FitGap's metrics (``FitGapCallback``).  A
    model whose cross-entropy is not finite (a diverged run) has no accuracy either: NaN.
    """
    if scores is None:
        found = keras_scores(model, x_test, y_test, rows_per_call)
    else:
        found = scores(model, x_test, y_test)
    cross_entropy = float(found["cross_entropy"])
    accuracy = float(found["accuracy"]) if math.isfinite(cross_entropy) else math.nan
    return {
        "epoch": int(epoch),
        "cross_entropy": cross_entropy,
        "accuracy": accuracy,
        "n": len(y_test),
    }
