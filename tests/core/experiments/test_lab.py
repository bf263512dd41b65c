"""The generalization lab's pure numbers, and one tiny real double descent and range test."""

from __future__ import annotations

import numpy as np
import pytest

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import load_datasets
from fitgap_gui.core.data.steps import flip_labels
from fitgap_gui.core.experiments import lab, lab_results
from fitgap_gui.core.experiments.lr_range import lr_range_test


def test_permutation_p_value_is_scikit_learns():
    # C = 2 of N = 3 null scores at least the real one (a tie counts): (2 + 1) / (3 + 1).
    assert lab_results.permutation_p_value(0.9, [0.1, 0.9, 0.95]) == pytest.approx(0.75)
    assert lab_results.permutation_p_value(0.9, [0.1, 0.2, 0.3]) == pytest.approx(0.25)


def test_a_random_label_is_uniform_over_all_classes():
    # Flipping (K - 1) / K of the labels to another class leaves 1 / K of them true:
    # each label is then uniform over the K classes, as a uniformly random one is.
    y = np.repeat(np.arange(10), 100)
    noise = lab_results.noise_for_level(1.0, 10)
    assert noise == pytest.approx(0.9)
    flipped = flip_labels(y, noise, 10, seed=3)
    assert np.mean(flipped == y) == pytest.approx(0.1)
    assert np.bincount(flipped[y == 0], minlength=10).min() > 0
    assert lab_results.level_for_noise(noise, 10) == pytest.approx(1.0)


def test_epochs_to_fit_and_threshold_width():
    history = {"train_eval_accuracy": [0.5, 0.98, 0.991, 1.0]}
    assert lab_results.epochs_to_fit(history) == 3
    assert lab_results.epochs_to_fit({"train_eval_accuracy": [0.5, None]}) is None
    widths = [
        {"width": 1, "train_error": 0.5},
        {"width": 4, "train_error": 0.05},
        {"width": 2, "train_error": 0.2},
        {"width": 8, "train_error": 0.0},
    ]
    assert lab_results.threshold_width(widths) == 4
    assert lab_results.threshold_width(widths[:1]) is None


def test_smoothing_is_bias_corrected_and_divergence_is_four_times_the_minimum():
    assert lab_results.smooth_losses([2.0] * 5) == pytest.approx([2.0] * 5)
    assert lab_results.diverged([1.0, 0.5, 2.1])
    assert not lab_results.diverged([1.0, 0.5, 1.9])
    assert lab_results.diverged([1.0, float("nan")])


def test_suggestion_is_the_steepest_fall_between_warm_up_and_minimum():
    rates = np.logspace(-6, 1, 71)  # 0.1 decades apart
    x = np.log10(rates)
    # Flat, then falling fastest at 1e-3, lowest near 1e-1, then rising steeply.
    curve = 2.0 - np.tanh(2.0 * (x + 3.0)) + np.where(x > -1.0, 20.0 * (x + 1.0) ** 2, 0.0)
    suggested = lab_results.suggest_rate(rates, curve)
    assert suggested == pytest.approx(1e-3, rel=0.05)
    # A steeper fall inside the warm-up is left out.
    early = curve.copy()
    early[:5] = 10.0 - np.arange(5) * 2.0
    assert lab_results.suggest_rate(rates, early) == pytest.approx(1e-3, rel=0.05)
    # Minimum right after the warm-up: too short to suggest anything.
    assert lab_results.suggest_rate(rates[:20], np.linspace(1, 2, 20)) is None


@pytest.fixture(scope="module")
def tiny_lab_config():
    return RunConfig.from_dict(
        {
            "data": {"source": "digits", "train_fraction": 0.05, "scale": "minmax"},
            "model": {"hidden_units": [8], "dropout": 0.3},
            "training": {"epochs": 2, "batch_size": 16, "seed": 1},
            "early_stopping": {"enabled": True},
        }
    )


def test_double_descent_plan_switches_off_every_regularizer(tiny_lab_config):
    plan = lab.plan_double_descent(tiny_lab_config, [4, 2, 4], label_noise=0.2)
    assert [keys["width"] for keys in plan.keys] == [2, 4]
    assert [keys["params"] for keys in plan.keys] == [64 * 2 + 2 + 2 * 10 + 10, 64 * 4 + 4 + 50]
    config = plan.items[0].config
    assert config.model.dropout == 0.0 and not config.early_stopping.enabled
    assert config.data.label_noise == 0.2 and config.model.hidden_units == [2]
    assert all(isinstance(item.probe, lab.TestErrorProbe) for item in plan.items)


def test_randomization_plan_makes_levels_random_on_training_rows(tiny_lab_config):
    plan = lab.plan_randomization(tiny_lab_config, [0.0, 1.0], repeats=2, permutations=1)
    noises = [item.config.data.label_noise for item in plan.items]
    assert noises == pytest.approx([0.0, 0.0, 0.9, 0.9, 0.9])
    assert [item.config.training.seed for item in plan.items] == [1, 2, 1, 2, 3]
    assert [k["role"] for k in plan.keys][-1] == "permutation"
    assert not plan.items[0].config.early_stopping.enabled
    # The validation and test labels stay the true ones.
    clean, noisy = plan.datasets[0], plan.datasets[2]
    assert np.array_equal(clean.y_val, noisy.y_val) and np.array_equal(clean.y_test, noisy.y_test)
    assert np.mean(clean.y_train == noisy.y_train) == pytest.approx(0.1, abs=0.02)


def test_lr_range_test_rises_exponentially_and_suggests_a_rate(tiny_lab_config):
    dataset = load_datasets([("x", tiny_lab_config)])[0]
    seen = []
    payload = lr_range_test(
        tiny_lab_config,
        dataset,
        min_rate=1e-5,
        max_rate=10.0,
        steps=40,
        on_step=lambda *step: seen.append(step),
    )
    assert set(payload) == {"rates", "losses", "smoothed", "suggested"}
    rates = np.array(payload["rates"])
    assert len(rates) == len(seen) == len(payload["losses"]) <= 40
    assert np.allclose(rates[1:] / rates[:-1], (1e6) ** (1 / 39))
    assert payload["suggested"] is None or 1e-5 <= payload["suggested"] <= 10.0
