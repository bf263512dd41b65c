"""The presets shipped with FitGap (core/config/presets.py reads them)."""

from __future__ import annotations

from fitgap_gui.core.config.presets import load_preset
from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.resource_files import resources_dir


def test_the_plateau_preset_and_the_full_default_preset():
    presets = resources_dir() / "presets"
    plateau = load_preset(presets / "reduce-lr-on-plateau.json")
    assert plateau.changes["training.lr_schedule"]["kind"] == "plateau"
    assert "on plateau" in plateau.description
    assert load_preset(presets / "default.json").sets_everything
    changed = plateau.apply(RunConfig())
    assert changed.training.lr_schedule["patience"] == 3
