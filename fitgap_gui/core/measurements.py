"""The honest numbers: the training set measured like the validation set, each epoch.

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
* ``train_eval_cross_entropy`` / ``train_eval_accuracy``: ``model.evaluate`` on the
  training set (at most ``TRAIN_EVAL_SAMPLES`` of it, a fixed subsample drawn once
  per run from its own generator) with the end-of-epoch weights, exactly the way
  ``fit`` measures the validation set;
* ``memorized_noise`` (label noise only): the fraction of the flipped training samples
  the network now predicts with their flipped, wrong label.

Inference draws no random numbers, so none of this changes the run: Keras's own
history stays equal to the plain program's (tests/test_faithfulness.py).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: The training samples measured each epoch: all of them up to this many, else a
#: fixed subsample of this size (the mean's standard error is then below 0.5 %).
TRAIN_EVAL_SAMPLES = 10_000
#: The keys this module adds to each epoch's logs (``memorized_noise`` with label noise).
HONEST_KEYS = (
    "cross_entropy",
    "val_cross_entropy",
    "penalty",
    "train_eval_cross_entropy",
    "train_eval_accuracy",
)


def cross_entropy_metric():
    """Keras's own cross-entropy metric under the name the history uses."""
    import keras

    return keras.metrics.SparseCategoricalCrossentropy(name="cross_entropy")


def train_eval_rows(n_train: int, seed: int) -> np.ndarray:
    """The training rows measured each epoch, drawn once per run, never from Keras's RNG."""
    if n_train <= TRAIN_EVAL_SAMPLES:
        return np.arange(n_train)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_train, size=TRAIN_EVAL_SAMPLES, replace=False))


def weight_penalty(model) -> float:
    """The sum of ``model.losses`` (the L1/L2 penalty) with the current weights."""
    import keras

    return float(sum(float(keras.ops.convert_to_numpy(loss)) for loss in model.losses))


def make_honest_callback(
    x_train: np.ndarray,
    y_train: np.ndarray,
    *,
    seed: int,
    batch_size: int,
    flipped_rows: np.ndarray | None = None,
):
    """A Keras callback that adds the honest numbers to each epoch's logs.

    It must come first in ``callbacks`` so that EarlyStopping, FitGap's stream and
    Keras's History all see the keys.  An epoch already told to stop (a user stop
    or a diverged loss) gets NaN instead of a measurement, keeping every column as
    long as the history.
    """
    import keras

    rows = train_eval_rows(len(x_train), seed)
    x_eval, y_eval = x_train[rows], y_train[rows]
    if flipped_rows is not None and len(flipped_rows):
        noisy = np.intersect1d(rows, flipped_rows)
        x_noisy, y_noisy = x_train[noisy], y_train[noisy]
    else:
        x_noisy = y_noisy = None

    class HonestMeasurements(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            if logs is None:
                return
            values = dict.fromkeys(("train_eval_cross_entropy", "train_eval_accuracy"), math.nan)
            if not self.model.stop_training:
                scores = self.model.evaluate(
                    x_eval, y_eval, batch_size=batch_size, verbose=0, return_dict=True
                )
                values["train_eval_cross_entropy"] = float(scores["cross_entropy"])
                values["train_eval_accuracy"] = float(scores["accuracy"])
            values["penalty"] = weight_penalty(self.model)
            if x_noisy is not None:
                values["memorized_noise"] = math.nan
                if not self.model.stop_training and len(x_noisy):
                    probs = self.model.predict(x_noisy, batch_size=batch_size, verbose=0)
                    values["memorized_noise"] = float(np.mean(probs.argmax(axis=1) == y_noisy))
            logs.update(values)

    return HonestMeasurements()
