"""The diagnosis's words: digits that tell numbers apart, a rise beyond the noise, a
plateau, a run still improving, and one patience that says where it comes from."""

from __future__ import annotations

import re

import numpy as np

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.diagnosis.verdict import diagnose
from fitgap_gui.core.results.stats import plain_pair


def _history(loss, val) -> dict:
    return {"loss": list(loss), "val_loss": list(val)}


def test_two_numbers_get_the_digits_that_make_them_differ():
    assert plain_pair(0.1031, 0.1056) == ("0.1031", "0.1056")
    assert plain_pair(0.5, 0.9) == ("0.50", "0.90")
    assert plain_pair(0.25, 0.25) == ("0.25", "0.25")


def test_a_small_real_rise_is_overfitting_and_its_numbers_differ():
    # Validation cross-entropy climbs 0.098 -> 0.106 steadily (no noise) after epoch 10.
    epochs = np.arange(1, 31)
    loss = 0.5 * np.exp(-epochs / 4) + 0.005
    val = 0.098 + 0.3 * np.exp(-epochs / 2) + 0.0004 * np.maximum(0, epochs - 10)
    d = diagnose(_history(loss, val))
    assert d.verdict == "overfitting", d.summary
    first, second = re.search(r"rose from ([\d.]+) to ([\d.]+)", d.summary).groups()
    assert first != second


def test_a_flat_noisy_tail_is_a_plateau_not_overfitting():
    # The reported case: validation wobbles around 0.103-0.106 while training collapses.
    epochs = np.arange(1, 31)
    loss = 0.6 * np.exp(-epochs / 4) + 0.002
    wobble = np.random.default_rng(1).normal(scale=0.003, size=30)
    val = np.where(epochs < 8, 0.4 - 0.04 * epochs, 0.104) + np.where(epochs < 8, 0, wobble)
    val[-1] = val[9] + 0.0025  # ends a little above epoch 10: within its wobble
    d = diagnose(_history(loss, val))
    assert d.verdict != "overfitting", d.summary
    assert d.summary.startswith("plateau since epoch"), d.summary
    assert d.numbers["val_rise_since_stall"] <= 2 * d.numbers["val_epoch_noise"]


def test_a_run_still_improving_at_its_end_says_so_and_advises_more_epochs():
    # Best epoch is the last, validation still falls by about 0.03 per epoch.
    epochs = np.arange(1, 16)
    loss = 1.6 - 0.07 * epochs
    val = 1.7 - 0.03 * epochs
    config = RunConfig().replace({"training.epochs": 15})
    d = diagnose(_history(loss, val), config)
    assert d.summary.startswith("still improving"), d.summary
    assert d.advice and d.advice[0].key == "more_epochs"
    assert d.advice[0].changes == {"training.epochs": 30}


def test_one_patience_in_the_advice_and_in_would_have_stopped():
    epochs = np.arange(1, 61)
    loss = 1.5 * np.exp(-epochs / 8) + 0.01
    val = 0.5 + 1.0 * np.exp(-epochs / 5) + 0.004 * np.maximum(0, epochs - 15) ** 1.3
    d = diagnose(_history(loss, val))  # early stopping off, patience 3 in its settings
    stop = d.numbers["would_have_stopped"]
    (advice,) = [a for a in d.advice if a.key == "early_stopping"]
    assert advice.changes["early_stopping.patience"] == stop["patience"]
    assert f"patience {stop['patience']}" in advice.title
    assert stop["patience_from"].startswith("the advice's")
    assert f"with patience {stop['patience']} would have stopped" in stop["message"]
    on = RunConfig().replace({"early_stopping.enabled": True, "early_stopping.patience": 4})
    assert diagnose(_history(loss, val), on).numbers["would_have_stopped"]["patience"] == 4
