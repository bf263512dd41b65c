"""Statistics over repeats: a mean with its 95 % interval, and paired comparisons.

A comparison between two settings trained with the same seeds (seed s, s+1, ...; the
seed also draws the split) is paired: each seed gives one difference, and the
question is whether those differences are distinguishable from seed noise.  The
interval is Student's t (``scipy.stats.t.interval``), the test is
``scipy.stats.ttest_rel``; nothing here is hand-written statistics.

A verdict needs at least ``MIN_SEEDS`` paired seeds: with fewer, the comparison
still holds the numbers, and the verdict is ``too_few_seeds``.  An interval of a
bounded quantity (an accuracy, a share in 0 to 1) is clipped to its bounds: the t
interval is symmetric and would otherwise reach past 100 %.

Every result is JSON-safe: with fewer than two usable values, or differences that
are all zero, the interval is collapsed or null and the verdict is
``indistinguishable`` (``too_few_seeds`` below ``MIN_SEEDS``); never NaN, never an
exception.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from fitgap_gui.core.config.monitor import mode_of

Verdict = Literal["better", "worse", "indistinguishable", "too_few_seeds"]
CONFIDENCE = 0.95
#: Paired seeds needed before a verdict is drawn (two seeds leave one degree of freedom).
MIN_SEEDS = 3
#: The bounds of an accuracy (a share) and of a difference of two accuracies.
ACCURACY_BOUNDS = (0.0, 1.0)
ACCURACY_CHANGE_BOUNDS = (-1.0, 1.0)


def _usable(values: Sequence[float | None]) -> np.ndarray:
    return np.array([v for v in values if v is not None and math.isfinite(v)], dtype=float)


@dataclass(frozen=True)
class Interval:
    """A mean and its two-sided 95 % t interval (``low``/``high`` None below two values)."""

    mean: float | None
    low: float | None
    high: float | None
    n: int

    def to_dict(self) -> dict[str, float | None]:
        return {"mean": self.mean, "low": self.low, "high": self.high}


def t_interval(
    values: Sequence[float | None],
    confidence: float = CONFIDENCE,
    bounds: tuple[float, float] | None = None,
) -> Interval:
    """Mean and Student's t interval of the finite values (None/NaN are left out).

    ``bounds`` (``ACCURACY_BOUNDS``): the interval is clipped to them, since the
    quantity cannot lie outside (an accuracy of 0.99 ± 0.03 is 0.96 to 1.0).
    """
    from scipy import stats  # deferred: scipy is heavy to import

    x = _usable(values)
    if len(x) == 0:
        return Interval(None, None, None, 0)
    if np.all(x == x[0]):  # identical values: the point itself (scipy would give NaN)
        value = float(x[0])
        return Interval(value, value if len(x) > 1 else None, value if len(x) > 1 else None, len(x))
    mean = float(x.mean())
    sem = float(stats.sem(x))
    low, high = stats.t.interval(confidence, len(x) - 1, loc=mean, scale=sem)
    if bounds is not None:
        low, high = max(float(low), bounds[0]), min(float(high), bounds[1])
    return Interval(mean, float(low), float(high), len(x))


@dataclass(frozen=True)
class Paired:
    """An arm against the baseline, seed by seed: ``arm - baseline`` per seed."""

    difference: Interval
    seeds_agree: int
    verdict: Verdict
    p_value: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.difference.to_dict(),
            "seeds_agree": self.seeds_agree,
            "verdict": self.verdict,
        }


def paired_comparison(
    arm: Sequence[float | None],
    baseline: Sequence[float | None],
    metric: str = "val_cross_entropy",
    confidence: float = CONFIDENCE,
    bounds: tuple[float, float] | None = None,
) -> Paired:
    """Compare ``arm`` with ``baseline`` (same seeds, same order) on ``metric``.

    ``better`` or ``worse`` (by the metric's direction, ``core.monitor.mode_of``) when
    the paired t test rejects "no difference" at ``1 - confidence``, which is when the
    t interval of the mean difference excludes zero; ``indistinguishable`` otherwise;
    ``too_few_seeds`` below ``MIN_SEEDS`` finished pairs, whatever the numbers.
    ``seeds_agree`` counts the seeds whose difference has the sign of the mean
    difference (with a zero mean: the seeds with no difference at all).  ``bounds``
    clips the difference's interval (``ACCURACY_CHANGE_BOUNDS`` for accuracies).
    """
    from scipy import stats  # deferred: scipy is heavy to import

    pairs = [
        (a, b)
        for a, b in zip(arm, baseline, strict=False)
        if a is not None and b is not None and math.isfinite(a) and math.isfinite(b)
    ]
    diffs = np.array([a - b for a, b in pairs], dtype=float)
    difference = t_interval(diffs.tolist(), confidence, bounds)
    if len(diffs) == 0:
        return Paired(difference, 0, "too_few_seeds", None)
    sign = np.sign(difference.mean or 0.0)
    agree = int(np.sum(np.sign(diffs) == sign))
    if len(diffs) < MIN_SEEDS:
        return Paired(difference, agree, "too_few_seeds", None)
    if not np.any(diffs):
        return Paired(difference, agree, "indistinguishable", None)
    if np.ptp(diffs) <= 1e-12 * max(1.0, float(np.max(np.abs(diffs)))):
        # A constant shift (up to float rounding: 0.45 - 0.50 and 0.55 - 0.60 differ in
        # the 17th digit): ttest_rel has no spread to test, and scipy warns of it.
        p_value = 0.0
    else:
        p_value = float(stats.ttest_rel([a for a, _ in pairs], [b for _, b in pairs]).pvalue)
    verdict: Verdict = "indistinguishable"
    if p_value < 1.0 - confidence:
        lower_is_better = mode_of(metric) == "min"
        verdict = "better" if (sign < 0) == lower_is_better else "worse"
    return Paired(difference, agree, verdict, p_value)


def comparison_words(name: str, paired: Paired, metric_words: str, n_seeds: int) -> str:
    """The comparison in words: 'dropout 0.3 lowers ... by 0.05 (0.02 to 0.08), 5 of 5 ...'."""
    d = paired.difference
    name = name.removeprefix("+ ")
    if d.mean is None:
        return f"{name}: no finished pair of runs to compare"
    few = ""
    if paired.verdict == "too_few_seeds":
        few = f": too few seeds for a verdict ({d.n} paired, {MIN_SEEDS} needed)"
    if d.mean == 0.0 and (d.low is None or d.low == d.high == 0.0):
        return f"{name} gives the same {metric_words} as the baseline on every seed{few}"
    verb = "lowers" if d.mean < 0 else "raises"
    shown = [abs(d.mean)]
    span = ""
    if d.low is not None and d.high is not None:
        # The interval of the change in the verb's direction: "lowers by 0.05 (0.02 to 0.08)".
        low, high = (-d.high, -d.low) if d.mean < 0 else (d.low, d.high)
        shown += [low, high]
    # One number of decimals for the three: two significant digits of the smallest.
    smallest = min((abs(v) for v in shown if v), default=1.0)
    decimals = min(8, max(2, 1 - math.floor(math.log10(smallest))))
    if len(shown) == 3:
        span = f" ({shown[1]:.{decimals}f} to {shown[2]:.{decimals}f})"
    text = (
        f"{name} {verb} the {metric_words} by {shown[0]:.{decimals}f}{span}, "
        f"{paired.seeds_agree} of {n_seeds} seed{'s' if n_seeds != 1 else ''} agree"
    )
    if paired.verdict == "indistinguishable":
        text += f": not distinguishable from seed noise at {n_seeds} repeats"
    return text + few


def plain(value: float | None) -> str:
    """A rounded decimal for a sentence, never scientific: 0.0041 -> '0.004', 1.234 -> '1.23'."""
    if value is None:
        return "?"
    if not math.isfinite(value):
        return "not a number"
    if value == 0:
        return "0"
    digits = max(2, -math.floor(math.log10(abs(value))))
    return f"{value:.{min(digits, 8)}f}"


def plain_pair(a: float, b: float) -> tuple[str, str]:
    """Two numbers a sentence compares, with the digits that show their difference (two
    significant digits of it): (0.1031, 0.1056) -> ('0.1031', '0.1056'), never
    ('0.10', '0.10') or ('0.10', '0.11')."""
    if a == b or not (math.isfinite(a) and math.isfinite(b)):
        return plain(a), plain(b)
    digits = max(2, -math.floor(math.log10(abs(a))) if a else 2)
    digits = max(digits, -math.floor(math.log10(abs(b))) if b else 2)
    decimals = min(8, max(digits, 1 - math.floor(math.log10(abs(a - b)))))
    return f"{a:.{decimals}f}", f"{b:.{decimals}f}"
