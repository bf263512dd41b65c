"""The generalization lab's numbers, from finished runs: pure functions, no Keras.

Three experiments (``core.experiments.lab`` plans and runs them):

* **randomization**: per level of random training labels, the final training accuracy
  (``train_eval_accuracy``: the training rows measured like validation, on the labels
  trained on), the delivered model's test accuracy, the epochs until that training
  accuracy first reached ``FIT_ACCURACY``, and a permutation p-value;
* **double descent**: per hidden width, the parameter count, final training error and
  delivered test error, and the interpolation threshold;
* **learning-rate range test**: the loss per batch, smoothed, and a suggested rate.

Everything here reads plain numbers (a run's history and ``test``), so the same
functions rebuild the tables from the store (``lab_from_store``) and the report.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from fitgap_gui.core.errors import ConfigError
from fitgap_gui.core.model.memory import count_dense_params
from fitgap_gui.core.results.stats import ACCURACY_BOUNDS, t_interval

#: Training accuracy that counts as "fitted" (Zhang et al. fit to ~100 %).
FIT_ACCURACY = 0.99
#: Training error at or below which a width counts as interpolating (the threshold).
INTERPOLATION_ERROR = 0.05
#: The smoothing of the learning-rate range test's loss: fastai's ``lr_find`` uses 0.98
#: over 100 batches, whose average lags ~50 batches (4 of 8 decades of rate); FitGap
#: keeps the lag at ``SMOOTHING_SPAN`` of the batches run, up to 0.98.
SMOOTHING_BETA = 0.98
SMOOTHING_SPAN = 0.05
#: Batches left out of the suggestion at the start, while the smoothed loss settles
#: (fastai's ``skip_start``); at most a fifth of the batches run.
WARMUP_STEPS = 10
#: The range test stops once the smoothed loss exceeds this multiple of its minimum.
DIVERGENCE_FACTOR = 4.0
#: The key each experiment's test-error curves are kept under, and what it says.
STUDY_KEY = "test_error_by_epoch"
STUDY_NOTE = (
    "recorded for study in the double-descent experiment only: the test part evaluated "
    "after each epoch; kept apart from the runs' histories and never used to choose"
)


def noise_for_level(level: float, n_classes: int) -> float:
    """``data.label_noise`` that gives ``level`` of the training labels uniformly random.

    FitGap's label noise gives a share q of the training rows another class, drawn
    uniformly among the others.  A label replaced by a uniformly random one (Zhang et
    al.) keeps its true class with probability 1/K, so replacing a share p is, row by
    row, the same distribution as flipping q = p (K - 1) / K: each replaced row's label
    is uniform over all K classes.  The one difference: the number of replaced rows
    that kept their true class is fixed (rounded) rather than binomial.
    """
    if not 0.0 <= level <= 1.0:
        raise ValueError(f"a level is a fraction from 0 to 1, not {level}")
    return level * (n_classes - 1) / n_classes


def level_for_noise(noise: float, n_classes: int) -> float:
    """The inverse of ``noise_for_level``: a stored run's level of random labels."""
    return noise * n_classes / (n_classes - 1) if n_classes > 1 else 0.0


def interval(values: Sequence[float | None]) -> dict[str, float | None]:
    """``{mean, low, high}``: the mean and 95 % t interval over repeats, within 0-1."""
    found = t_interval(values, bounds=ACCURACY_BOUNDS)
    return {"mean": found.mean, "low": found.low, "high": found.high}


def final_value(history: dict[str, list[float | None]], key: str) -> float | None:
    """The last finite value of ``key`` (a stopped epoch's measurement may be NaN)."""
    for value in reversed(history.get(key, [])):
        if value is not None and math.isfinite(value):
            return float(value)
    return None


def epochs_to_fit(
    history: dict[str, list[float | None]], target: float = FIT_ACCURACY
) -> int | None:
    """The first epoch (from 1) whose inference-mode training accuracy reached ``target``."""
    for epoch, value in enumerate(history.get("train_eval_accuracy", []), start=1):
        if value is not None and value >= target:
            return epoch
    return None


def permutation_p_value(score: float, null_scores: Sequence[float]) -> float:
    """(C + 1) / (N + 1): C of N null scores at least ``score`` (scikit-learn's
    ``permutation_test_score``); never 0, at least 1 / (N + 1)."""
    c = sum(1 for s in null_scores if s >= score)
    return (c + 1) / (len(null_scores) + 1)


def randomization_levels(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per level, in order: ``{level, run_ids, train_accuracy, test_accuracy, epochs_to_fit}``.

    ``rows`` are one per finished run: ``{level, run_id, history, test}`` (``test`` the
    delivered model's numbers, or None).
    """
    levels: dict[float, list[dict[str, Any]]] = {}
    for row in rows:
        levels.setdefault(round(float(row["level"]), 6), []).append(row)
    out = []
    for level in sorted(levels):
        runs = levels[level]
        out.append(
            {
                "level": level,
                "run_ids": [r["run_id"] for r in runs],
                "train_accuracy": interval(
                    [final_value(r["history"], "train_eval_accuracy") for r in runs]
                ),
                "test_accuracy": interval([(r["test"] or {}).get("accuracy") for r in runs]),
                "epochs_to_fit": [epochs_to_fit(r["history"]) for r in runs],
            }
        )
    return out


def randomization_payload(
    rows: Sequence[dict[str, Any]], null_scores: Sequence[float] | None
) -> dict[str, Any]:
    """The randomization JSON: ``{"levels": [...], "p_value": float | None}``.

    The p-value compares the real labels' test accuracy (level 0, mean over repeats)
    with the test accuracies of runs on fully random labels (``null_scores``); None
    without them or without a level 0.
    """
    levels = randomization_levels(rows)
    p_value = None
    real = next((lv for lv in levels if lv["level"] == 0.0), None)
    if null_scores and real is not None and real["test_accuracy"]["mean"] is not None:
        p_value = permutation_p_value(real["test_accuracy"]["mean"], null_scores)
    return {"levels": levels, "p_value": p_value}


def dense_params(input_dim: int, width: int, n_classes: int) -> int:
    """Weights and biases of one hidden layer of ``width`` between input and softmax."""
    return count_dense_params((input_dim,), [width], n_classes)


def threshold_width(widths: Sequence[dict[str, Any]], limit: float = INTERPOLATION_ERROR):
    """The smallest width whose final training error is at most ``limit``, or None."""
    fitted = [
        w["width"] for w in widths if w["train_error"] is not None and w["train_error"] <= limit
    ]
    return min(fitted) if fitted else None


def double_descent_widths(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per width: ``{width, params, run_id, train_error, test_error}``, by width.

    ``rows``: ``{width, params, run_id, history, test}`` per finished run.
    """
    out = []
    for row in sorted(rows, key=lambda r: r["width"]):
        train = final_value(row["history"], "train_eval_accuracy")
        test = (row["test"] or {}).get("accuracy")
        out.append(
            {
                "width": row["width"],
                "params": row["params"],
                "run_id": row["run_id"],
                "train_error": None if train is None else 1.0 - train,
                "test_error": None if test is None else 1.0 - float(test),
            }
        )
    return out


def double_descent_payload(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The double-descent JSON: ``{"widths": [...], "threshold_width": int | None}``."""
    widths = double_descent_widths(rows)
    return {"widths": widths, "threshold_width": threshold_width(widths)}


# -- the learning-rate range test ---------------------------------------------------------------
#: The most batches one range test runs (each a train_on_batch call: minutes, not days).
MAX_RANGE_STEPS = 100_000


def exponential_rates(low: float, high: float, steps: int) -> np.ndarray:
    """``steps`` rates from ``low`` to ``high``, each a constant factor above the last."""
    if not 0.0 < low < high or not math.isfinite(high):
        raise ConfigError(f"the rates must satisfy 0 < --min < --max, not {low} and {high}")
    if not 2 <= steps <= MAX_RANGE_STEPS:
        raise ConfigError(
            f"--steps is the number of batches the range test runs: 2 to {MAX_RANGE_STEPS:,}, "
            f"not {steps}"
        )
    return np.exp(np.linspace(math.log(low), math.log(high), steps))


def smooth_losses(losses: Sequence[float], beta: float = SMOOTHING_BETA) -> list[float]:
    """Exponential moving average with bias correction (Adam's): avg / (1 - beta**t)."""
    out, avg = [], 0.0
    for t, loss in enumerate(losses, start=1):
        avg = beta * avg + (1.0 - beta) * float(loss)
        out.append(avg / (1.0 - beta**t))
    return out


def smoothing_beta(steps: int) -> float:
    """The moving average's beta for a test of ``steps`` batches: a time constant of
    ``SMOOTHING_SPAN * steps`` batches (0.8 for 100 batches), at most ``SMOOTHING_BETA``."""
    return min(SMOOTHING_BETA, max(0.0, 1.0 - 1.0 / max(1.0, SMOOTHING_SPAN * steps)))


def diverged(smoothed: Sequence[float], factor: float = DIVERGENCE_FACTOR) -> bool:
    """Whether the last smoothed loss is past ``factor`` x the minimum so far (or not finite)."""
    last = smoothed[-1]
    return not math.isfinite(last) or last > factor * min(smoothed)


def warmup_steps(n: int) -> int:
    """Batches at the start that the suggestion leaves out (``WARMUP_STEPS``, at most n/5)."""
    return min(WARMUP_STEPS, n // 5)


def suggest_rate(rates: Sequence[float], smoothed: Sequence[float]) -> float | None:
    """The rate where the smoothed loss falls fastest per log-rate, between the end of
    the warm-up and the smoothed loss's minimum; None when that stretch has under 3
    points."""
    values = np.asarray(smoothed, dtype=float)
    finite = np.isfinite(values)
    if not finite.any():
        return None
    start = warmup_steps(len(values))
    lowest = int(np.nanargmin(np.where(finite, values, np.nan)))
    if lowest - start + 1 < 3:
        return None
    logs = np.log(np.asarray(rates[start : lowest + 1], dtype=float))
    slope = np.gradient(values[start : lowest + 1], logs)
    return float(rates[start + int(np.argmin(slope))])


def lr_range_payload(
    rates: Sequence[float], losses: Sequence[float], smoothed: Sequence[float]
) -> dict[str, Any]:
    """The range test's JSON: ``{"rates", "losses", "smoothed", "suggested"}``."""

    def finite(v: float) -> float | None:
        return float(v) if math.isfinite(v) else None

    return {
        "rates": [float(r) for r in rates],
        "losses": [finite(v) for v in losses],
        "smoothed": [finite(v) for v in smoothed],
        "suggested": suggest_rate(rates, smoothed),
    }
