"""Name the gap: a verdict, its onset, the numbers behind it and ranked advice.

Everything here is a pure function of a history dict (``{"loss": [...],
"val_loss": [...], ...}``, the same shape as the run result JSON) plus, for context,
the RunConfig, so the window can call ``diagnose`` after every epoch and the engine
stores its ``to_dict()`` with the finished run.  No Keras, no Qt.

It reads the inference-mode curves (``core.measurements``): the training set's
cross-entropy and accuracy measured at each epoch's end in inference mode
(``train_eval_*``) against the validation cross-entropy without the weight penalty
(``val_cross_entropy``).  A history stored before those existed falls back to
Keras's ``loss``/``val_loss``/``accuracy``.  Texts are plain words and rounded
decimals, never Python reprs or scientific notation.

How the verdict is reached (all on 1-based epochs):

* The loss curves are smoothed with a centred moving average whose window grows
  with the run (3 epochs for short runs, up to 11), so a single noisy epoch never
  flips the verdict.  The wiggle left after smoothing is the curve's noise level.
* ``overfitting``: the smoothed validation loss stopped improving (see
  ``stall_onset``, and never before its last real improvement, see
  ``last_real_improvement``) at least a patience-like window ago (the *onset*), training
  loss kept falling since then, and the train/validation gap widened by more than
  the noise to at least a fifth of the validation loss.
* ``underfitting``: training loss is still high, i.e. the network has removed less
  than half of the loss it could remove (from chance level ``ln K`` down to the
  entropy of the label noise), or training accuracy is less than halfway from
  chance to what the labels allow; validation is no better.
* ``inconclusive``: too few epochs, no validation loss, curves that barely moved,
  or epoch-to-epoch noise too large to read.
* ``good_fit``: none of the above, and training accuracy is not far below
  validation accuracy (when it is, the summary says why instead).

The advice (``advice.advice_for``) is a ranked list of concrete lever changes in
dotted config keys (``{"model.dropout": 0.3}``) that validate against the run's
config, so the window can apply one and start the run in one click::

    d = diagnose(history, config, n_classes=dataset.n_classes)  # after each epoch
    d.verdict, d.onset_epoch, d.summary, d.numbers["would_have_stopped"]["message"]
    next_config = config.replace(d.advice[0].changes)            # "Apply and run"
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.diagnosis.advice import (
    MIN_EPOCHS,
    Advice,
    History,
    advice_for,
    epochs_text,
    would_have_stopped,
)
from fitgap_gui.core.diagnosis.inputs import unscaled_reasons
from fitgap_gui.core.results.records import best_epoch, finite_or_none
from fitgap_gui.core.results.stats import plain, plain_pair

Verdict = Literal["overfitting", "underfitting", "good_fit", "inconclusive"]
VERDICTS: tuple[str, ...] = Verdict.__args__  # type: ignore[attr-defined]
#: A new validation low that beats the previous one by this share of the loss is a real
#: improvement (half a percent: 0.0025 on a loss of 0.5); an onset never comes before it.
#: Creeping down by less each epoch, while training loss collapses, is not.
REAL_IMPROVEMENT = 0.005
#: Training accuracy this far below validation accuracy is not a "good fit".
ACCURACY_BELOW_VALIDATION = 0.1

#: Classes of the built-in data sets (file sources need ``n_classes`` from the Dataset).
BUILTIN_CLASSES = {"digits": 10, "moons": 2, "circles": 2, "spirals": 2, "xor": 2}


# -- small numeric and text helpers -------------------------------------------------------------
def curve_names(history: History) -> dict[str, str]:
    """The history keys the diagnosis reads: the inference-mode curves where they exist."""
    measured = "train_eval_cross_entropy" in history and "val_cross_entropy" in history
    if measured:
        return {
            "loss": "train_eval_cross_entropy",
            "val": "val_cross_entropy",
            "acc": "train_eval_accuracy",
            "val_acc": "val_accuracy",
        }
    return {"loss": "loss", "val": "val_loss", "acc": "accuracy", "val_acc": "val_accuracy"}


def _series(history: History, key: str) -> np.ndarray:
    """A history column as floats, with None (JSON's NaN) as NaN."""
    return np.array([np.nan if v is None else float(v) for v in history.get(key, ())], dtype=float)


def smoothing_window(n_epochs: int) -> int:
    """An odd window that grows with the run: 3 below 20 epochs, at most 11."""
    return int(min(11, 3 + 2 * (n_epochs // 20)))


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average; the window shrinks at the ends (no lag, no padding)."""
    n = len(values)
    half = window // 2
    csum = np.concatenate([[0.0], np.cumsum(values)])
    lo = np.clip(np.arange(n) - half, 0, n)
    hi = np.clip(np.arange(n) + half + 1, 0, n)
    return (csum[hi] - csum[lo]) / (hi - lo)


def noise_level(values: np.ndarray, smoothed: np.ndarray) -> float:
    """Robust standard deviation (MAD) of what smoothing removed."""
    if len(values) < 3:
        return 0.0
    return float(1.4826 * np.median(np.abs(values - smoothed)))


def epoch_noise(values: np.ndarray) -> float:
    """How much a curve moves from one epoch to the next on its own: a robust standard
    deviation (MAD) of its epoch-to-epoch changes about their median (the trend)."""
    steps = np.diff(values[np.isfinite(values)])
    if len(steps) < 2:
        return 0.0
    return float(1.4826 * np.median(np.abs(steps - np.median(steps))))


def slope(values: np.ndarray) -> float:
    """Least-squares change per epoch; 0 for fewer than two points."""
    if len(values) < 2:
        return 0.0
    return float(np.polyfit(np.arange(len(values), dtype=float), values, 1)[0])


def stall_onset(s_val: np.ndarray, s_loss: np.ndarray, tolerance: float) -> int:
    """First epoch (0-based) from which validation loss has nothing left to gain.

    From epoch i on, validation "still improves" if its smoothed loss will still drop
    by more than ``tolerance`` (the noise), more than 5% of its lowest value, and
    more than a tenth of what training loss will still drop.  A validation loss that creeps down by 0.03 while training
    loss falls from 1.3 to 0.05 has stopped improving in the sense that matters.
    """
    val_to_gain = s_val - np.minimum.accumulate(s_val[::-1])[::-1]
    train_to_gain = np.maximum(s_loss - s_loss[-1], 0.0)
    floor = max(tolerance, 0.05 * float(np.min(s_val)))  # 5% of the loss is not news
    improving = val_to_gain > np.maximum(floor, 0.1 * train_to_gain)
    return int(np.flatnonzero(improving)[-1] + 1) if improving.any() else 0


def last_real_improvement(values: np.ndarray, tolerance: float) -> int:
    """0-based epoch of the last new low of ``values`` that beat the previous low by more
    than ``tolerance``; 0 when there was none.  An overfitting onset is never put
    before it: validation was still getting better until then.
    """
    best = math.inf
    last = 0
    for i, value in enumerate(values):
        if not math.isfinite(value):
            continue
        if value < best - tolerance or not math.isfinite(best):
            last = i
        best = min(best, value)
    return last


def label_noise_entropy(noise: float, n_classes: int) -> float:
    """The training loss a model that learns no noise cannot beat when ``noise`` of labels are flipped."""
    if noise <= 0 or n_classes < 2:
        return 0.0
    return -((1 - noise) * math.log(1 - noise) + noise * math.log(noise / (n_classes - 1)))


# -- the diagnosis --------------------------------------------------------------------------------
@dataclass
class Diagnosis:
    """The verdict on one history; ``to_dict()`` is the run JSON's ``diagnosis``."""

    verdict: Verdict
    onset_epoch: int | None
    summary: str
    numbers: dict[str, Any] = field(default_factory=dict)
    advice: list[Advice] = field(default_factory=list)
    #: Plain-language remarks beside the verdict (why the gap is negative early, ...).
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        numbers = {
            k: finite_or_none(v) if isinstance(v, float) else v for k, v in self.numbers.items()
        }
        return {
            "verdict": self.verdict,
            "onset_epoch": self.onset_epoch,
            "summary": self.summary,
            "numbers": numbers,
            "advice": [a.to_dict() for a in self.advice],
            "notes": list(self.notes),
        }


def stop_patience(config: RunConfig, n_epochs: int) -> tuple[int, str]:
    """The one patience the diagnosis speaks of, and where it comes from: the run's early
    stopping when it is on, else the advice's (at least the curve's smoothing window, so
    a wobble does not stop it)."""
    es = config.early_stopping
    if es.enabled:
        return es.patience, "the run's early stopping"
    window = smoothing_window(n_epochs)
    if window > es.patience:
        return window, "the advice's: the validation curve wobbles over that many epochs"
    return es.patience, "the early stopping settings"


def _n_classes(config: RunConfig, n_classes: int | None) -> int | None:
    if n_classes:
        return n_classes
    return BUILTIN_CLASSES.get(config.data.source)


def diagnose(
    history: History,
    config: RunConfig | None = None,
    *,
    n_classes: int | None = None,
    inputs: Mapping[str, float] | None = None,
) -> Diagnosis:
    """Read a (possibly still growing) history; never raises on odd numbers.

    ``config`` gives context (label noise, current lever values for the advice; the
    defaults when None); ``n_classes`` (the Dataset's) sets the chance-level loss,
    otherwise it is known for the built-in data sets only.  ``inputs``: the training
    inputs' spread (``inputs.input_spread``) when they are not scaled; unscaled
    inputs put "scale the inputs" first in the advice.
    """
    config = config or RunConfig()
    k_classes = _n_classes(config, n_classes)
    names = curve_names(history)
    measured = names["loss"] == "train_eval_cross_entropy"
    loss, val = _series(history, names["loss"]), _series(history, names["val"])
    acc, val_acc = _series(history, names["acc"]), _series(history, names["val_acc"])
    n_all = min(len(loss), len(val))

    # A diverged run is read on its finite prefix; the advice leads with the cause.
    finite = np.isfinite(loss[:n_all]) & np.isfinite(val[:n_all])
    n = n_all if finite.all() else int(np.argmin(finite))
    diverged = n < n_all
    loss, val = loss[:n], val[:n]
    acc = acc[:n] if len(acc) >= n else np.array([])
    val_acc = val_acc[:n] if len(val_acc) >= n else np.array([])

    es = config.early_stopping
    patience, patience_from = stop_patience(config, min(len(loss), len(val)))
    stop = would_have_stopped(history, patience, es.min_delta, es.monitor, patience_from)
    numbers: dict[str, Any] = {
        "epochs": n_all,
        "diverged": diverged,
        "curves": "inference" if measured else "keras",
    }
    if config.data.resolved_scale == "none" and unscaled_reasons(inputs):
        numbers["unscaled_inputs"] = dict(inputs or {})
    if n_all == 0:
        why = "no validation loss to compare" if history.get("loss") else "no epochs yet"
        return _finish("inconclusive", None, why, numbers, config, [], history)

    best = best_epoch({"val_cross_entropy": list(val)})
    numbers.update(_raw_numbers(loss, val, acc, val_acc, best))
    numbers["would_have_stopped"] = stop.to_dict()
    notes = _negative_gap_notes(history, loss, val, config, measured)
    if n < MIN_EPOCHS:
        why = f"{epochs_text(n)} {'is' if n == 1 else 'are'} too few to see a trend"
        return _finish("inconclusive", None, why, numbers, config, ["too_short"], history, notes)

    w = smoothing_window(n)
    patience_window = max(3, w)
    s_loss, s_val = smooth(loss, w), smooth(val, w)
    noise_val, noise_loss = noise_level(val, s_val), noise_level(loss, s_loss)
    # Never before validation's last real improvement: it was still getting better then.
    last_gain = last_real_improvement(val, REAL_IMPROVEMENT * float(np.min(val)))
    onset = max(stall_onset(s_val, s_loss, 2 * noise_val), last_gain)  # 0-based
    gap_onset, gap_now = s_val[onset] - s_loss[onset], s_val[-1] - s_loss[-1]
    recent = slice(max(0, n - max(patience_window, n // 4)), n)
    # The curve's wobble since its stall, over its second half at least (a few epochs
    # alone understate it).
    wobble = epoch_noise(val[min(onset, last_gain, n // 2) :])
    # From its (smoothed) low since the stall: a bump at the stall is no rise.
    low_since = float(np.min(s_val[onset:]))
    rise = float(s_val[-1] - low_since)
    numbers.update(
        smoothing_window=w,
        val_loss_noise=noise_val,
        smoothed_best_epoch=int(np.argmin(s_val)) + 1,
        last_real_improvement=last_gain + 1,
        stall_epoch=onset + 1,
        val_epoch_noise=wobble,
        val_rise_since_stall=rise,
        val_loss_slope=slope(val[recent]),
        train_loss_slope=slope(loss[recent]),
    )
    val_words = "validation cross-entropy" if measured else "validation loss"
    train_words = "training cross-entropy" if measured else "training loss"

    # Overfitting: validation stalled at least a window ago, training kept improving
    # since, and the gap opened by more than the noise to a real size.
    stalled = n - 1 - onset >= patience_window
    train_fell = s_loss[onset] - s_loss[-1] > max(0.1 * s_loss[onset], 2 * noise_loss)
    gap_opened = gap_now - gap_onset > max(0.1 * s_val[onset], 2 * noise_val)
    real_gap = gap_now > 0.2 * s_val[-1]
    # A validation loss over twice the training loss (and a 10-point accuracy gap)
    # is memorizing even when training loss has flattened out too.
    acc_gap = float(smooth(acc, w)[-1] - smooth(val_acc, w)[-1]) if len(val_acc) else 1.0
    wide_gap = gap_now > 0.5 * s_val[-1] and gap_now > 2 * noise_val and acc_gap > 0.1
    # Overfitting needs validation to get worse by more than it moves on its own: twice
    # the spread of its epoch-to-epoch changes.
    rose = rise > 2 * wobble
    if stalled and real_gap and (train_fell and gap_opened or wide_gap) and not rose:
        t_from, t_to = plain_pair(s_loss[onset], s_loss[-1])
        moved = "rose only" if rise > 0 else "moved by"
        shown_rise, twice = plain_pair(abs(rise), 2 * wobble)
        summary = (
            f"plateau since epoch {onset + 1}: {val_words} {moved} {shown_rise} from its "
            f"low, less than {twice}, twice its epoch-to-epoch wobble, while "
            f"{train_words} went from {t_from} to {t_to}; the gap is training's progress, "
            "not yet validation getting worse"
        )
        tags = ["plateau", "gap_opening"]
        return _finish("inconclusive", None, summary, numbers, config, tags, history, notes)
    if stalled and real_gap and (train_fell and gap_opened or wide_gap):
        v_from, v_to = plain_pair(low_since, s_val[-1])
        t_from, t_to = plain_pair(s_loss[onset], s_loss[-1])
        summary = (
            f"overfitting since epoch {onset + 1}: {val_words} rose from {v_from} to {v_to} "
            f"(its epoch-to-epoch wobble is {plain(wobble)}) while {train_words} went from "
            f"{t_from} to {t_to}"
        )
        if best is not None and best > onset + 1:  # a later low, too small to be a real gain
            summary += (
                f" (its lowest, at epoch {best}, is only {plain(val[onset] - val[best - 1])} "
                f"below epoch {onset + 1}'s)"
            )
        return _finish("overfitting", onset + 1, summary, numbers, config, [], history, notes)
    # Still improving at the end: its best epoch is its last and validation still falls.
    fall = float(s_val[recent][0] - val[-1])
    # ... by more than its wobble, and by at least 1% of itself per epoch (a tail that
    # creeps down by less is as good as flat).
    per_epoch = -numbers["val_loss_slope"]
    still_improving = best == n and fall > 2 * wobble and per_epoch > 0.01 * val[-1]
    improving_words = (
        f"still improving: {val_words} is lowest at the last epoch ({n}, "
        f"{plain(val[-1])}) and still falls by about {plain(per_epoch)} "
        "per epoch; more epochs would show where it turns"
    )
    if still_improving and wide_gap:
        summary = f"{improving_words} (the gap is wide already: {train_words} {plain(s_loss[-1])})"
        tags = ["still_improving"]
        return _finish("good_fit", None, summary, numbers, config, tags, history, notes)
    if wide_gap:
        summary = (
            f"a wide gap is opening ({train_words} {plain(s_loss[-1])}, {val_words} "
            f"{plain(s_val[-1])}) but {val_words} is still at its low: watch the next epochs"
        )
        tags = ["gap_opening"]
        return _finish("inconclusive", None, summary, numbers, config, tags, history, notes)

    # Underfitting: judged against what the labels allow, not against zero.
    label_noise = config.data.label_noise
    poor = []
    if k_classes:
        floor = label_noise_entropy(label_noise, k_classes)
        high = floor + 0.5 * (math.log(k_classes) - floor)
        numbers["high_loss_threshold"] = high
        if s_loss[-1] > high and s_val[-1] > high:
            poor.append(f"{train_words} {plain(s_loss[-1])} is still above {plain(high)}")
    s_acc = smooth(acc, w) if len(acc) and len(val_acc) else np.array([])
    s_val_acc = smooth(val_acc, w) if len(s_acc) else np.array([])
    if len(s_acc):
        chance = 1.0 / (k_classes or 2)
        target = chance + 0.5 * (1.0 - label_noise - chance)
        if s_acc[-1] < target and s_val_acc[-1] < target:
            poor.append(f"training accuracy {s_acc[-1]:.1%} is below {target:.0%}")
    if poor:
        summary = "underfitting: " + " and ".join(poor) + "; validation is no better"
        still_learning = numbers["train_loss_slope"] < -0.01 * s_loss[-1]
        tags = ["still_learning"] if still_learning else []
        return _finish("underfitting", None, summary, numbers, config, tags, history, notes)

    # Inconclusive: flat or too noisy to read.
    spread = float(np.ptp(s_val)) + float(np.ptp(s_loss))
    level = float(np.median(np.abs(val))) or 1.0
    if spread < 0.01 * level:
        why = "the loss curves barely moved"
        return _finish("inconclusive", None, why, numbers, config, ["flat"], history, notes)
    if noise_val > 0.25 * level:
        why = f"{val_words} jumps by about {plain(noise_val)} from epoch to epoch"
        return _finish("inconclusive", None, why, numbers, config, ["noisy"], history, notes)

    # Training accuracy far below validation accuracy is not a good fit: say why.
    if len(s_acc) and s_acc[-1] < s_val_acc[-1] - ACCURACY_BELOW_VALIDATION:
        summary = _accuracy_below_validation(
            float(s_acc[-1]), float(s_val_acc[-1]), history, config, measured, k_classes
        )
        tags = ["accuracy_below_validation"]
        return _finish("inconclusive", None, summary, numbers, config, tags, history, notes)

    if still_improving:
        tags = ["still_improving"]
        return _finish("good_fit", None, improving_words, numbers, config, tags, history, notes)
    plateau = "" if not stalled else f"; a plateau since epoch {onset + 1}"
    summary = f"good fit: {val_words} follows {train_words} (gap {plain(gap_now)} nats{plateau})"
    return _finish("good_fit", None, summary, numbers, config, [], history, notes)


def _accuracy_below_validation(
    train_acc: float,
    val_acc: float,
    history: History,
    config: RunConfig,
    measured: bool,
    k_classes: int | None,
) -> str:
    """What makes training accuracy far lower than validation accuracy, in plain words."""
    text = f"training accuracy ({train_acc:.0%}) is far below validation accuracy ({val_acc:.0%})"
    reasons = []
    noise = config.data.label_noise
    if noise > 0:
        k = k_classes or 2
        # Validation-level skill scored against labels of which `noise` are flipped.
        expected = val_acc * (1 - noise) + (1 - val_acc) * noise / max(1, k - 1)
        reason = (
            f"{noise:.0%} of the training labels are wrong on purpose, so a network that "
            f"learned the real pattern scores only about {expected:.0%} against them"
        )
        memorized = _last(history, "memorized_noise")
        if memorized is not None:
            reason += f" (it predicts {memorized:.0%} of the wrong labels: "
            reason += "it is not memorizing them)" if memorized < 0.5 else "it memorizes them)"
        reasons.append(reason)
    if not measured:
        if config.model.dropout > 0:
            reasons.append(
                f"Keras measures training accuracy with dropout {config.model.dropout:g} "
                "active, and as a running mean over the epoch"
            )
        if config.model.augment_flip or config.model.augment_rotation:
            reasons.append("Keras measures training accuracy on augmented images")
    if not reasons:
        reasons.append(
            "nothing in the settings makes training harder than validation, so the "
            "validation set is probably easier by chance; try another seed or a larger "
            "validation split"
        )
    return f"{text}: " + "; ".join(reasons)


def _last(history: History, key: str) -> float | None:
    values = [v for v in history.get(key, ()) if v is not None and math.isfinite(v)]
    return float(values[-1]) if values else None


def _negative_gap_notes(
    history: History, loss: np.ndarray, val: np.ndarray, config: RunConfig, measured: bool
) -> list[str]:
    """Why validation is below training in the first epochs, with the numbers."""
    if len(val) == 0 or not val[0] < loss[0] - 0.01:
        return []
    gap = val[0] - loss[0]
    kind = "cross-entropy" if measured else "loss"
    text = (
        f"At epoch 1 validation {kind} ({plain(val[0])}) is below training {kind} "
        f"({plain(loss[0])}), a gap of {plain(gap)}: "
    )
    reasons = []
    noise, m = config.data.label_noise, config.model
    if noise > 0:
        reasons.append(
            f"only the training labels carry the {noise:.0%} label noise, and every wrong "
            "label costs cross-entropy that the validation labels do not"
        )
    keras_loss = _series(history, "loss")
    if measured and len(keras_loss) and math.isfinite(keras_loss[0]):
        active = []
        if m.dropout > 0:
            active.append(f"dropout {m.dropout:g}")
        if m.augment_flip or m.augment_rotation or m.augment_translation:
            active.append("augmentation")
        extra = f", with {' and '.join(active)} active" if active else ""
        reasons.append(
            f"Keras's own training loss ({plain(keras_loss[0])}) is higher still because it "
            f"is a running mean over the epoch while the network was still learning{extra}"
        )
    elif not measured:
        reasons.append("Keras's training loss is a running mean over an epoch of learning")
        if m.dropout > 0:
            reasons.append(f"dropout {m.dropout:g} is active while training loss is measured")
        if m.augment_flip or m.augment_rotation or m.augment_translation:
            reasons.append("training loss is measured on augmented images")
    if not reasons or (measured and noise == 0):
        reasons.append("the validation set may simply be easier than the training set")
    return [text + "; ".join(reasons) + "."]


def _raw_numbers(loss, val, acc, val_acc, best: int | None) -> dict[str, Any]:
    """The plain numbers at the best and the last epoch, from the unsmoothed history."""
    n = len(val)
    out: dict[str, Any] = {"best_epoch": best, "epochs_past_best": n - best if best else None}
    out["gap_at_best"] = float(val[best - 1] - loss[best - 1]) if best else None
    out["gap_at_last"] = float(val[-1] - loss[-1]) if n else None
    if len(acc) and len(val_acc):
        out["accuracy_gap_at_best"] = float(acc[best - 1] - val_acc[best - 1]) if best else None
        out["accuracy_gap_at_last"] = float(acc[-1] - val_acc[-1]) if n else None
    return out


def _finish(verdict, onset, summary, numbers, config, tags, history, notes=()) -> Diagnosis:
    items = advice_for(verdict, numbers, config, tags, history)
    es = config.early_stopping
    if verdict == "overfitting" and es.enabled and numbers["epochs"] < config.training.epochs:
        # The curves overfit, but early stopping already limited the damage: say so.
        kept = (numbers.get("would_have_stopped") or {}).get("best_epoch")
        summary += f"; early stopping ended the run at epoch {numbers['epochs']}"
        if es.restore_best_weights and kept:
            summary += f" and kept the weights of epoch {kept}"
    return Diagnosis(verdict, onset, summary, numbers, items, list(notes))
