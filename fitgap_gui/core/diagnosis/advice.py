"""What to try next: ranked advice for a verdict, and what early stopping would have done.

Each advice item is a concrete lever change in dotted config keys
(``{"model.dropout": 0.3}``) that validates against the run's config, so the window can
apply it and start the run in one click; ``verdict.diagnose`` reaches the verdict and
asks ``advice_for`` for the items.  ``would_have_stopped`` replays Keras's early
stopping on the history (``results.early_stopping``) for the advice and the numbers.
No Keras, no Qt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.diagnosis.inputs import unscaled_reasons
from fitgap_gui.core.errors import ConfigError
from fitgap_gui.core.results.early_stopping import replay_early_stopping
from fitgap_gui.core.results.stats import plain

#: Fewer finished epochs than this cannot show a trend.
MIN_EPOCHS = 5

History = Mapping[str, Sequence[float | None]]


# -- words ------------------------------------------------------------------------------------------
def epochs_text(n: int) -> str:
    """'1 epoch', '3 epochs'."""
    return f"{n} epoch{'' if n == 1 else 's'}"


def widths_text(widths: list[int]) -> str:
    """Hidden layer widths for a person: '128 units', '64 and 32 units'."""
    if not widths:
        return "no hidden layer"
    if len(widths) == 1:
        return f"{widths[0]} units"
    return ", ".join(str(w) for w in widths[:-1]) + f" and {widths[-1]} units"


# -- early stopping, replayed --------------------------------------------------------------------
@dataclass(frozen=True)
class StopEstimate:
    """What Keras's EarlyStopping would have done on this history."""

    patience: int
    monitor: str
    min_delta: float
    stopped_epoch: int | None  # 1-based; None: it would not have fired
    best_epoch: int | None
    epochs_run: int
    #: Where ``patience`` comes from ("the run's early stopping", "the advice's: ...").
    patience_from: str = ""

    @property
    def epochs_saved(self) -> int:
        return 0 if self.stopped_epoch is None else self.epochs_run - self.stopped_epoch

    @property
    def message(self) -> str:
        if self.stopped_epoch is None:
            return f"early stopping (patience {self.patience}) would not have stopped this run"
        return (
            f"with patience {self.patience} would have stopped at epoch {self.stopped_epoch} "
            f"and saved {epochs_text(self.epochs_saved)} (best epoch {self.best_epoch})"
        )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(epochs_saved=self.epochs_saved, message=self.message)
        return out


def would_have_stopped(
    history: History,
    patience: int = 3,
    min_delta: float = 0.0,
    monitor: str = "val_loss",
    patience_from: str = "",
) -> StopEstimate:
    """What ``keras.callbacks.EarlyStopping`` would have done on a finished history
    (``results.early_stopping``: Keras's rule, NaN included, checked against Keras)."""
    values = history.get(monitor, ())
    replay = replay_early_stopping(values, monitor, patience, min_delta)
    return StopEstimate(
        patience,
        monitor,
        min_delta,
        replay.stopped_epoch,
        replay.best_epoch,
        len(values),
        patience_from,
    )


# -- advice -----------------------------------------------------------------------------------------
@dataclass
class Advice:
    """One thing to try: a plain-language title, why, and the config change that does it."""

    key: str
    title: str
    why: str
    changes: dict[str, Any]
    score: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "why": self.why, "changes": self.changes}


def valid_changes(config: RunConfig, changes: dict[str, Any]) -> bool:
    """Whether ``changes`` validate against ``config`` and actually change something."""
    try:
        changed = config.replace(changes)
    except ConfigError:
        return False
    return changed != config


def _scaled_widths(widths: list[int], factor: float, lo: int, hi: int) -> list[int]:
    return [int(min(hi, max(lo, round(w * factor)))) for w in widths]


def _early_stopping_advice(history: History, numbers, config: RunConfig, score: float):
    """Turn on early stopping with a patience that outlasts the curve's noise."""
    es = config.early_stopping
    if es.enabled:
        return []
    window = numbers.get("smoothing_window", 0)
    patience = max(es.patience, window)
    stop = would_have_stopped(history, patience, es.min_delta, es.monitor)
    if stop.stopped_epoch is None:
        return []
    past = numbers.get("epochs_past_best") or 0
    curve = "validation cross-entropy" if numbers.get("curves") != "keras" else "validation loss"
    why = (
        f"{curve} was best at epoch {numbers.get('best_epoch')} and has not improved for "
        f"{epochs_text(past)}; training {stop.message}, keeping the best weights"
    )
    if patience != es.patience:
        why += (
            f". Patience {patience}, not the {es.patience} in the early stopping settings: "
            f"the validation curve wobbles over about {epochs_text(window)}, and a shorter "
            "patience would stop on a wobble instead of a real turn"
        )
    return [
        Advice(
            "early_stopping",
            f"Turn on early stopping (patience {patience})",
            why,
            {"early_stopping.enabled": True, "early_stopping.patience": patience},
            score + min(2.0, stop.epochs_saved / 10),
        )
    ]


def _against_overfitting(history: History, numbers, config: RunConfig) -> list[Advice]:
    m, d = config.model, config.data
    items = _early_stopping_advice(history, numbers, config, 3.0)
    if d.label_noise > 0:
        items.append(
            Advice(
                "label_noise",
                "Remove the label noise",
                f"{d.label_noise:.0%} of the training labels are wrong on purpose; a network "
                "that fits them learns noise that validation cannot confirm",
                {"data.label_noise": 0.0},
                2.4 + 2 * d.label_noise,
            )
        )
    if d.train_fraction < 1.0:
        more = round(min(1.0, d.train_fraction * 2), 3)
        items.append(
            Advice(
                "more_data",
                f"Use more training data ({d.train_fraction:.0%} -> {more:.0%})",
                "with few examples the network can memorize each one; more examples make "
                "memorizing harder than learning the pattern",
                {"data.train_fraction": more},
                2.8 if d.train_fraction <= 0.5 else 2.0,
            )
        )
    if m.dropout < 0.6:
        rate = 0.3 if m.dropout < 0.3 else round(m.dropout + 0.2, 2)
        verb = "Add" if m.dropout == 0 else "Raise"
        items.append(
            Advice(
                "dropout",
                f"{verb} dropout ({m.dropout:g} -> {rate:g})",
                "silencing random hidden units on each step stops the network from relying "
                "on a few memorized features",
                {"model.dropout": rate},
                2.5,
            )
        )
    if m.l2 < 1.0:
        l2 = 1e-3 if m.l2 == 0 else min(1.0, m.l2 * 10)
        verb = "Add" if m.l2 == 0 else "Raise"
        items.append(
            Advice(
                "l2",
                f"{verb} an L2 weight penalty ({plain(m.l2)} -> {plain(l2)})",
                "penalizing large weights keeps the learned function smooth, so it cannot "
                "bend around single noisy examples",
                {"model.l2": l2},
                2.3,
            )
        )
    if m.hidden_units and max(m.hidden_units) > 8:
        factor = 0.25 if max(m.hidden_units) >= 64 else 0.5
        widths = _scaled_widths(m.hidden_units, factor, 4, 8192)
        items.append(
            Advice(
                "smaller_model",
                f"Reduce capacity ({widths_text(m.hidden_units)} to {widths_text(widths)})",
                "fewer hidden units leave less room to store individual training examples",
                {"model.hidden_units": widths},
                1.8,
            )
        )
    return items


def _against_underfitting(numbers, config: RunConfig, tags) -> list[Advice]:
    m, t = config.model, config.training
    items = []
    widths = _scaled_widths(m.hidden_units or [8], 4, 32, 8192)
    if widths != m.hidden_units:
        items.append(
            Advice(
                "bigger_model",
                f"Add capacity ({widths_text(m.hidden_units)} to {widths_text(widths)})",
                "the network cannot even fit its training data; more hidden units can "
                "represent a more detailed function",
                {"model.hidden_units": widths},
                3.0 if max(m.hidden_units or [0]) < 32 else 2.0,
            )
        )
    if m.dropout > 0 or m.l2 > 0 or m.l1 > 0:
        changes: dict[str, Any] = {}
        if m.dropout > 0:
            changes["model.dropout"] = 0.0 if m.dropout <= 0.2 else round(m.dropout / 2, 3)
        if m.l2 > 0:
            changes["model.l2"] = 0.0 if m.l2 <= 1e-4 else m.l2 / 10
        if m.l1 > 0:
            changes["model.l1"] = 0.0 if m.l1 <= 1e-4 else m.l1 / 10
        strong = m.dropout >= 0.3 or m.l2 >= 1e-2 or m.l1 >= 1e-2
        items.append(
            Advice(
                "less_regularization",
                "Loosen the regularization",
                "dropout and weight penalties fight memorizing, but here the network is not "
                "yet fitting even the training data",
                changes,
                2.8 if strong else 2.0,
            )
        )
    es = config.early_stopping
    cut_short = es.enabled and numbers["epochs"] < t.epochs
    if cut_short:
        patience = max(2 * es.patience, 5)
        items.append(
            Advice(
                "more_patience",
                f"Give early stopping more patience ({es.patience} -> {patience})",
                f"early stopping ended the run after {numbers['epochs']} of "
                f"{epochs_text(t.epochs)}, "
                "before the network had learned enough",
                {"early_stopping.patience": patience},
                2.7,
            )
        )
    elif "still_learning" in tags:
        items.append(
            Advice(
                "more_epochs",
                f"Train longer ({t.epochs} -> {min(100_000, t.epochs * 2)} epochs)",
                "training cross-entropy was still falling by about "
                f"{plain(-numbers['train_loss_slope'])} per epoch when the run ended",
                {"training.epochs": min(100_000, t.epochs * 2)},
                2.6,
            )
        )
    if t.learning_rate <= 0.01:
        lr = round(t.learning_rate * 3, 6)
        items.append(
            Advice(
                "higher_learning_rate",
                f"Raise the learning rate ({plain(t.learning_rate)} -> {plain(lr)})",
                "larger steps reach a better fit in the same number of epochs",
                {"training.learning_rate": lr},
                1.8,
            )
        )
    return items


def advice_for(
    verdict: str, numbers: dict[str, Any], config: RunConfig, tags, history: History
) -> list[Advice]:
    """Ranked advice for a verdict; each item's changes validate against ``config``."""
    t = config.training
    items: list[Advice] = []
    unscaled = unscaled_reasons(numbers.get("unscaled_inputs"))
    if unscaled:  # the cause of swinging or stuck curves: first, before any lever
        items.append(
            Advice(
                "scale_inputs",
                "Scale the inputs (data.scale: standard)",
                "; ".join(unscaled) + ": the network's steps are sized for the largest "
                "feature, so the loss swings and the small features are barely learned",
                {"data.scale": "standard"},
                20.0,
            )
        )
    if numbers.get("diverged"):
        lr = t.learning_rate / 10
        items.append(
            Advice(
                "lower_learning_rate",
                f"Lower the learning rate ({plain(t.learning_rate)} -> {plain(lr)})",
                "the loss became infinite or NaN: the steps were too large",
                {"training.learning_rate": lr},
                10.0,
            )
        )
    if verdict == "overfitting" or "gap_opening" in tags:
        items += _against_overfitting(history, numbers, config)
    elif verdict == "underfitting":
        items += _against_underfitting(numbers, config, tags)
    elif "still_improving" in tags:
        # Validation is lowest at the last epoch and still falling: the run ended too soon.
        es = config.early_stopping
        if es.enabled and numbers["epochs"] < t.epochs:
            patience = max(2 * es.patience, 5)
            items.append(
                Advice(
                    "more_patience",
                    f"Give early stopping more patience ({es.patience} -> {patience})",
                    "validation was still improving when early stopping ended the run",
                    {"early_stopping.patience": patience},
                    2.7,
                )
            )
        epochs = min(100_000, max(t.epochs, numbers["epochs"]) * 2)
        items.append(
            Advice(
                "more_epochs",
                f"Train longer ({numbers['epochs']} -> {epochs} epochs)",
                f"validation cross-entropy was still falling by about "
                f"{plain(-numbers['val_loss_slope'])} per epoch at the last epoch, its best",
                {"training.epochs": epochs},
                2.6,
            )
        )
    elif verdict == "good_fit":
        # Only worth a click when it would save a good share of the run.
        items += [
            a for a in _early_stopping_advice(history, numbers, config, 1.0) if a.score >= 2.0
        ]
    elif "too_short" in tags and not numbers.get("diverged"):
        epochs = max(20, t.epochs * 2) if numbers["epochs"] >= t.epochs else t.epochs
        items.append(
            Advice(
                "more_epochs",
                "Train for more epochs",
                f"a verdict needs at least {MIN_EPOCHS} epochs",
                {"training.epochs": epochs},
                2.0,
            )
        )
    elif "noisy" in tags:
        split = round(min(0.5, config.data.validation_split * 1.5), 3)
        items.append(
            Advice(
                "bigger_validation_set",
                f"Use a larger validation set ({config.data.validation_split:g} -> {split:g})",
                "a small validation set makes its loss jump from epoch to epoch",
                {"data.validation_split": split},
                2.0,
            )
        )
    if unscaled:  # larger steps on unscaled inputs make the swings worse
        items = [a for a in items if a.key != "higher_learning_rate"]
    ranked = sorted(items, key=lambda a: -a.score)
    return [a for a in ranked if valid_changes(config, a.changes)]
