"""Unscaled inputs: the first advice is to scale them, never a larger learning rate."""

from __future__ import annotations

import numpy as np

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.diagnosis.inputs import input_spread, inputs_for_diagnosis
from fitgap_gui.core.diagnosis.verdict import diagnose


def _penguin_like_inputs() -> np.ndarray:
    rng = np.random.default_rng(0)
    n = 300
    return np.column_stack(
        [
            rng.normal(44, 5.4, n),  # bill length, mm
            rng.normal(4200, 800, n),  # body mass, g
            rng.normal(0.5, 0.02, n),  # a narrow ratio
        ]
    )


def _underfitting_history() -> dict:
    n = 12  # loss stuck high, accuracy near chance: "underfitting"
    loss = np.linspace(2.3, 2.2, n)
    return {
        "loss": list(loss),
        "val_loss": list(loss + 0.01),
        "accuracy": [0.15] * n,
        "val_accuracy": [0.14] * n,
    }


def test_unscaled_inputs_put_scaling_first_with_the_numbers():
    spread = input_spread(_penguin_like_inputs())
    assert spread is not None
    assert 0.015 < spread["std_min"] < 0.025 and 700 < spread["std_max"] < 900
    config = RunConfig().replace({"data.scale": "none"})
    diagnosis = diagnose(_underfitting_history(), config, n_classes=10, inputs=spread)
    assert diagnosis.verdict == "underfitting"
    first = diagnosis.advice[0]
    assert first.key == "scale_inputs" and first.changes == {"data.scale": "standard"}
    ratio = f"{round(spread['std_max'] / spread['std_min'], -3):,.0f}x"
    assert f"feature spreads differ {ratio}" in first.why, first.why
    assert "values reach " in first.why
    assert "higher_learning_rate" not in [a.key for a in diagnosis.advice]
    assert diagnosis.to_dict()["numbers"]["unscaled_inputs"] == spread


def test_scaled_or_even_inputs_get_no_scaling_advice():
    history = _underfitting_history()
    scaled = RunConfig().replace({"data.scale": "standard"})
    assert inputs_for_diagnosis("standard", _penguin_like_inputs()) is None
    even = input_spread(np.random.default_rng(1).normal(0, 1, (200, 3)))
    for config, inputs in ((scaled, None), (RunConfig(), even)):
        keys = [a.key for a in diagnose(history, config, n_classes=10, inputs=inputs).advice]
        assert "scale_inputs" not in keys and "higher_learning_rate" in keys, keys
