"""core.stats against scipy.stats computed here, and the verdict rules on edge cases."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from fitgap_gui.core.results.stats import (
    ACCURACY_BOUNDS,
    ACCURACY_CHANGE_BOUNDS,
    MIN_SEEDS,
    comparison_words,
    paired_comparison,
    t_interval,
)


def test_t_interval_equals_scipys():
    values = [0.52, 0.47, 0.55, 0.50, 0.49]
    low, high = stats.t.interval(
        0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values)
    )
    got = t_interval(values)
    assert got.mean == pytest.approx(np.mean(values))
    assert (got.low, got.high) == (pytest.approx(low), pytest.approx(high))
    assert got.n == 5


def test_t_interval_edge_cases_are_json_safe():
    assert t_interval([]).to_dict() == {"mean": None, "low": None, "high": None}
    assert t_interval([0.4]).to_dict() == {"mean": 0.4, "low": None, "high": None}
    assert t_interval([0.4, 0.4, 0.4]).to_dict() == {"mean": 0.4, "low": 0.4, "high": 0.4}
    assert t_interval([0.4, None, float("nan"), 0.6]).n == 2


def test_paired_comparison_equals_ttest_rel_and_t_interval_of_differences():
    baseline = [0.51, 0.56, 0.49, 0.53, 0.58]
    arm = [0.46, 0.50, 0.45, 0.49, 0.52]  # lower on every seed
    diffs = np.subtract(arm, baseline)
    low, high = stats.t.interval(0.95, 4, loc=diffs.mean(), scale=stats.sem(diffs))
    got = paired_comparison(arm, baseline, "val_cross_entropy")
    assert got.difference.mean == pytest.approx(diffs.mean())
    assert (got.difference.low, got.difference.high) == (pytest.approx(low), pytest.approx(high))
    assert got.p_value == pytest.approx(stats.ttest_rel(arm, baseline).pvalue)
    assert got.verdict == "better" and got.seeds_agree == 5
    # The same numbers read as accuracies (higher is better): worse.
    assert paired_comparison(arm, baseline, "val_accuracy").verdict == "worse"
    assert paired_comparison(baseline, arm, "val_cross_entropy").verdict == "worse"


def test_noise_sized_differences_are_indistinguishable():
    baseline = [0.50, 0.55, 0.47]
    arm = [0.52, 0.53, 0.48]  # two up, one down
    got = paired_comparison(arm, baseline)
    assert stats.ttest_rel(arm, baseline).pvalue > 0.05
    assert got.verdict == "indistinguishable"
    assert got.seeds_agree == 2  # the sign of the mean difference (+0.0033) on two seeds


def test_an_arm_identical_to_the_baseline_is_indistinguishable_never_nan():
    same = [0.5, 0.6, 0.55]
    got = paired_comparison(same, same)
    assert got.verdict == "indistinguishable"
    assert got.to_dict() == {
        "mean": 0.0,
        "low": 0.0,
        "high": 0.0,
        "seeds_agree": 3,
        "verdict": "indistinguishable",
    }
    json.dumps(got.to_dict(), allow_nan=False)
    assert "same best validation" in comparison_words("+ L2 0.001", got, "best validation", 3)


def test_missing_runs_and_single_seeds_never_raise():
    one = paired_comparison([0.4], [0.5])
    assert one.verdict == "too_few_seeds" and one.difference.low is None
    none = paired_comparison([None, float("nan")], [0.5, 0.5])
    assert none.verdict == "too_few_seeds" and none.difference.mean is None
    shifted = paired_comparison([0.4, 0.5, 0.6], [0.5, 0.6, 0.7])  # a constant shift
    assert shifted.verdict == "better" and not math.isnan(shifted.difference.mean)


def test_the_sentence_is_plain_words():
    got = paired_comparison([0.46, 0.50, 0.45, 0.49, 0.52], [0.51, 0.56, 0.49, 0.53, 0.58])
    text = comparison_words("+ dropout 0.3", got, "best validation cross-entropy", 5)
    diffs = np.subtract([0.46, 0.50, 0.45, 0.49, 0.52], [0.51, 0.56, 0.49, 0.53, 0.58])
    low, high = stats.t.interval(0.95, 4, loc=diffs.mean(), scale=stats.sem(diffs))
    assert text.startswith(
        "dropout 0.3 lowers the best validation cross-entropy by "
        f"{-diffs.mean():.3f} ({-high:.3f} to {-low:.3f})"  # two significant digits
    )
    assert text.endswith("5 of 5 seeds agree")
    assert "e-" not in text


def test_a_shift_constant_up_to_rounding_is_a_verdict_without_a_warning():
    """0.45 - 0.50 and 0.55 - 0.60 differ in the 17th digit: scipy would warn of
    catastrophic cancellation (an error in this suite); it is a constant shift."""
    got = paired_comparison([0.45, 0.55, 0.65], [0.50, 0.60, 0.70], "val_cross_entropy")
    assert got.verdict == "better"
    assert got.p_value == 0.0
    assert got.seeds_agree == 3


def test_two_seeds_hold_the_numbers_but_draw_no_verdict():
    """Two seeds lower on both by a constant 0.1 (a p-value of 0 to ttest_rel) are
    still too few to sign: the interval is kept, the verdict is too_few_seeds."""
    assert MIN_SEEDS == 3
    two = paired_comparison([0.4, 0.5], [0.5, 0.6])
    assert two.verdict == "too_few_seeds" and two.p_value is None
    assert two.difference.mean == pytest.approx(-0.1) and two.difference.n == 2
    assert two.seeds_agree == 2
    assert two.to_dict()["verdict"] == "too_few_seeds"
    diffs = [-0.05, -0.07]
    low, high = stats.t.interval(0.95, 1, loc=np.mean(diffs), scale=stats.sem(diffs))
    spread = paired_comparison([0.45, 0.53], [0.5, 0.6])
    assert (spread.difference.low, spread.difference.high) == pytest.approx((low, high))
    assert spread.verdict == "too_few_seeds"
    words = comparison_words("+ dropout 0.3", spread, "test cross-entropy", 2)
    assert words.endswith("too few seeds for a verdict (2 paired, 3 needed)")
    # Pairs with a missing run count as missing: three seeds, one failed, is two.
    assert paired_comparison([0.4, 0.5, None], [0.5, 0.6, 0.7]).verdict == "too_few_seeds"
    assert paired_comparison([0.4, 0.5, 0.6], [0.5, 0.6, 0.71]).verdict == "better"


def test_accuracy_intervals_stay_between_0_and_100_percent():
    values = [1.0, 0.96, 1.0]  # scipy's t interval reaches past 1.0
    low, high = stats.t.interval(0.95, 2, loc=np.mean(values), scale=stats.sem(values))
    assert high > 1.0 and low < 0.96
    got = t_interval(values, bounds=ACCURACY_BOUNDS)
    assert got.high == 1.0 and got.low == pytest.approx(low)
    assert got.mean == pytest.approx(np.mean(values))
    near_zero = t_interval([0.0, 0.04, 0.0], bounds=ACCURACY_BOUNDS)
    assert near_zero.low == 0.0 and near_zero.high < 1.0
    assert t_interval(values).high == pytest.approx(high)  # unbounded: scipy's own
    change = paired_comparison(
        [1.0, 0.2, 1.0], [0.0, 0.0, 0.0], "val_accuracy", bounds=ACCURACY_CHANGE_BOUNDS
    )
    assert change.difference.high == 1.0 and change.difference.low >= -1.0
