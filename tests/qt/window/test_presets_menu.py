"""Presets change only what their name says, and their tooltips list everything they set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fitgap_gui.core.config.levers import LEVERS_BY_KEY, flatten
from fitgap_gui.core.config.schema import RunConfig

PRESETS = sorted((Path(__file__).resolve().parents[3] / "resources" / "presets").glob("*.json"))
#: Presets named after one lever (or one group of levers) set that and nothing else.
NAMED_AFTER = {
    "dropout-0.5": {"model.dropout"},
    "l2-0.01": {"model.l2"},
    "early-stopping": {k for k in LEVERS_BY_KEY if k.startswith("early_stopping.")},
}
#: Far from every preset's values, so any key a preset sets shows as a change.
ELSEWHERE = RunConfig().replace(
    {
        "data.source": "moons",
        "data.noise": 0.35,
        "data.validation_split": 0.3,
        "model.hidden_units": [64, 32],
        "model.activation": "tanh",
        "model.dropout": 0.1,
        "model.l2": 0.002,
        "model.l1": 1e-5,
        "training.learning_rate": 0.003,
        "training.batch_size": 64,
        "training.epochs": 33,
        "training.seed": 4,
        "early_stopping.patience": 11,
    }
)


def _changed(before: RunConfig, after: RunConfig) -> set[str]:
    a, b = flatten(before.to_dict()), flatten(after.to_dict())
    return {key for key in a if a[key] != b[key]}


@pytest.mark.parametrize("path", PRESETS, ids=[p.stem for p in PRESETS])
def test_a_preset_changes_only_what_its_name_or_tooltip_says(window, path):
    window.controls.set_config(ELSEWHERE)
    sets = set(flatten(json.loads(path.read_text())))
    titles = {
        a.text().replace(" (every setting)", "").lower(): a for a in window.presets_menu.actions()
    }
    action = titles[path.stem.replace("-", " ")]
    assert action.toolTip().startswith(
        "Sets only" if len(sets) < len(LEVERS_BY_KEY) else "Replaces"
    )
    action.trigger()
    changed = _changed(ELSEWHERE, window.controls.config())
    assert changed <= sets, f"{path.name} changed {changed - sets} without saying so"
    if path.stem in NAMED_AFTER:
        assert sets == NAMED_AFTER[path.stem], path.name
    else:  # a scenario: its tooltip names every setting it changes
        for key in changed:
            assert LEVERS_BY_KEY[key].label in action.toolTip(), (path.name, key)
    assert window.presets_menu.toolTipsVisible()


def test_the_l2_preset_keeps_the_layers_and_the_epochs(window):
    window.controls.set_config(ELSEWHERE)
    action = next(a for a in window.presets_menu.actions() if a.text() == "L2 0.01")
    action.trigger()
    config = window.controls.config()
    assert config.model.l2 == 0.01
    assert (config.model.hidden_units, config.training.epochs) == ([64, 32], 33)
    assert config.data.source == "moons"
