"""How FitGap writes numbers and names for people: one style everywhere.

Losses have four decimals ("0.4321"), accuracies are percentages with one decimal
("90.6%"), gaps carry their sign, durations never read "0.00 s", runs are "run 7",
layer widths read "512-512" rather than a Python list, and a run's status reads the
same wherever it is shown (``status_text``).  Panels, status messages
and summaries call these instead of writing their own format specs, so the same
number never appears in three shapes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

#: What a missing number shows.
MISSING = "–"


def _shown(value: float | None, as_text: Callable[[float], str]) -> str:
    """``as_text(value)``, or the dash for no number: None, or NaN (a metric not reported)."""
    if value is None or math.isnan(value):
        return MISSING
    return as_text(value)


def format_number(value: float) -> str:
    """Compact and exact enough to tell levers apart: 0.5, 0.001 -> 1e-3, 2.5e-4."""
    if value == 0:
        return "0"
    if abs(value) < 0.01 or abs(value) >= 1e5:
        mantissa, exponent = f"{value:.2e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exponent)}"
    return f"{value:.4g}"


def format_loss(value: float | None) -> str:
    """A loss: ``0.4321``."""
    return _shown(value, lambda v: f"{v:.4f}")


def format_loss_change(value: float | None) -> str:
    """A signed loss difference (a gap, a slope): ``+0.0412``, ``-0.0041``."""
    return _shown(value, lambda v: f"{v:+.4f}")


def format_accuracy(value: float | None) -> str:
    """An accuracy (a share in [0, 1]) as a percentage: ``90.6%``."""
    return _shown(value, lambda v: f"{v * 100:.1f}%")


def format_accuracy_change(value: float | None) -> str:
    """A signed accuracy difference in percentage points: ``+12.3 pp``."""
    return _shown(value, lambda v: f"{v * 100:+.1f} pp")


def format_percent(share: float) -> str:
    """A share of rows or labels: 0.25 -> ``25%``, 0.125 -> ``12.5%``."""
    return f"{share * 100:.3g}%"


def format_duration(seconds: float) -> str:
    """A wall-clock time: ``under 1 ms``, ``42 ms``, ``1.3 s``, ``2 min 05 s``."""
    if seconds < 0.001:
        return "under 1 ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def format_units(widths: Sequence[int]) -> str:
    """Hidden layer widths: ``512-512``, or ``no hidden layer``."""
    return "-".join(str(w) for w in widths) or "no hidden layer"


def format_value(value: object) -> str:
    """Any lever value in words: lists as layer widths, floats compact, booleans on/off."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, tuple)):
        return format_units([int(v) for v in value])
    if isinstance(value, float):
        return format_number(value)
    if value is None:
        return "none"
    return str(value)


def run_label(run_id: int, *, capital: bool = False) -> str:
    """The one way a run is named when it has no name of its own: ``run 7``.

    It matches the name the store gives a new run, so the legend, the Runs tab and
    the status bar agree.  ``capital`` starts a sentence: ``Run 7``.
    """
    return f"{'Run' if capital else 'run'} {run_id}"


def format_validation_loss(metrics: Mapping[str, float | None]) -> str:
    """The validation loss of one epoch, saying what holds the weight penalty.

    ``val_cross_entropy 0.5200 (Keras's val_loss 0.8600 includes the weight penalty
    0.3400)``; without a penalty only the cross-entropy; a run stored before the
    cross-entropy was measured shows Keras's ``val_loss``, labelled so.
    """
    cross_entropy, val_loss = metrics.get("val_cross_entropy"), metrics.get("val_loss")
    if cross_entropy is None:
        return f"val_loss {format_loss(val_loss)} (Keras's, with any weight penalty)"
    text = f"val_cross_entropy {format_loss(cross_entropy)}"
    penalty = metrics.get("penalty")
    if penalty is not None and math.isfinite(penalty) and penalty > 0:
        text += (
            f" (Keras's val_loss {format_loss(val_loss)} includes the weight penalty "
            f"{format_loss(penalty)})"
        )
    return text


def format_training_loss(metrics: Mapping[str, float | None]) -> str:
    """The training cross-entropy measured at the epoch's end (an old run: Keras's loss)."""
    measured = metrics.get("train_eval_cross_entropy")
    if measured is None:
        return f"loss {format_loss(metrics.get('loss'))} (Keras's running mean)"
    return f"training cross-entropy {format_loss(measured)} (end of epoch)"


@dataclass(frozen=True)
class StatusWords:
    """How one run status reads for people, in three lengths."""

    #: The Runs tab's narrow column: a word or two.
    short: str
    #: The top bar: "run 7: early-stopped at epoch 7 of 20".
    word: str
    #: The status line when the run ends; ``{epochs}`` is its epochs run.
    ended: str


#: Every status of ``core.results.records.STATUSES``, worded once for the whole window.
STATUS_WORDS: dict[str, StatusWords] = {
    "completed": StatusWords("done", "completed", "completed {epochs} epochs"),
    "stopped": StatusWords("stopped", "stopped by you", "stopped by you after {epochs} epochs"),
    "early_stopped": StatusWords(
        "early stop", "early-stopped", "early-stopped after {epochs} epochs"
    ),
    "diverged": StatusWords(
        "diverged",
        "diverged",
        "diverged at epoch {epochs}: the loss became NaN or infinite (learning rate too high?)",
    ),
    "failed": StatusWords("failed", "failed", "failed"),
    "running": StatusWords("running", "running", "running"),
    "interrupted": StatusWords("interrupted", "interrupted", "interrupted"),
    "branched": StatusWords(
        "branched",
        "branched",
        "branched at epoch {epochs}; its child goes on with the changed levers",
    ),
}


def status_text(
    status: str, form: Literal["short", "word", "ended"] = "word", epochs: int = 0
) -> str:
    """A run's status for people (``STATUS_WORDS``); ``epochs`` fills the "ended" form.

    A status this version does not know (a newer store) reads as its name, spaced.
    """
    words = STATUS_WORDS.get(status)
    if words is None:
        return status.replace("_", " ")
    if form == "short":
        return words.short
    if form == "word":
        return words.word
    return words.ended.format(epochs=epochs)
