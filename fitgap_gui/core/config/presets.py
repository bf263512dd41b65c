"""Presets: small config files that change only the settings they name.

A preset is a config JSON (``resources/presets/*.json``) that may leave keys out.
Applied in the window, it changes exactly the keys it holds and keeps every other
setting, so "Dropout 0.5" sets the dropout rate and nothing else.  A preset that
sets several things (a scenario such as "Memorize noisy labels") says all of them:
``Preset.description`` lists every key it sets, worded from the lever table.  With
``fitgap train --config`` the keys left out take the defaults, as in any config.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fitgap_gui.core.config.levers import ALL_LEVERS, LEVERS_BY_KEY, Lever, flatten
from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.errors import ConfigError
from fitgap_gui.core.formatting import format_value


@dataclass(frozen=True)
class Preset:
    """One preset file: its title, and the dotted keys it sets with their values."""

    path: Path
    changes: dict[str, Any]

    @property
    def sets_everything(self) -> bool:
        return set(self.changes) >= set(LEVERS_BY_KEY)

    @property
    def title(self) -> str:
        """'early-stopping.json' -> 'Early stopping'; a whole config says so."""
        words = self.path.stem.replace("-", " ").replace("_", " ")
        title = words[:1].upper() + words[1:]
        return title + " (every setting)" if self.sets_everything else title

    @property
    def description(self) -> str:
        """Every setting the preset changes, in the lever table's order and words."""
        named = [lv for lv in ALL_LEVERS if lv.key in self.changes]
        listed = ", ".join(f"{lv.label} {_value(lv, self.changes[lv.key])}" for lv in named)
        if self.sets_everything:
            return f"Replaces every setting. {listed}."
        return f"Sets only {listed}. Every other setting stays as it is."

    def apply(self, config: RunConfig) -> RunConfig:
        """``config`` with this preset's keys changed and every other one kept."""
        return config.replace(self.changes)


def _value(lv: Lever, value: Any) -> str:
    if isinstance(value, dict):  # a learning-rate schedule, in the lever's words
        return lv.words(value)
    return f"{value[0]}x{value[1]}" if lv.kind == "size" else format_value(value)


def load_preset(path: str | Path) -> Preset:
    """Read and validate a preset (ConfigError names the file and the bad key)."""
    path = Path(path)
    config = RunConfig.load(path)  # the same checks as any config file
    raw = json.loads(path.read_text(encoding="utf-8"))
    changes = {key: config.get(key) for key in flatten(raw)}
    unknown = [key for key in changes if key not in LEVERS_BY_KEY]
    if unknown:
        raise ConfigError(f"{path}: {unknown[0]} is not a setting a preset can change")
    return Preset(path, changes)
