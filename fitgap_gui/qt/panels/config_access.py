"""What a panel may ask of the controls: the RunConfig they show, and showing another.

The runs, diagnosis and experiments panels each hold only the part of the controls
panel they use (``ControlsPanel`` is all three), never its widgets:
- ``ConfigSource``: the config the controls show (experiments: an experiment's base);
- ``ConfigTarget``: show a config for the next run (runs: Load a stored run's config);
- ``ConfigEditor``: both (diagnosis: Apply and run changes the config shown).
"""

from __future__ import annotations

from typing import Protocol

from fitgap_gui.core.config.schema import RunConfig


class ConfigSource(Protocol):
    """Something that gives the RunConfig it shows."""

    def config(self) -> RunConfig:
        """The config shown; raises ConfigError naming a bad lever."""
        ...


class ConfigTarget(Protocol):
    """Something that shows a RunConfig for the next run."""

    def set_config(self, config: RunConfig) -> None: ...


class ConfigEditor(ConfigSource, ConfigTarget, Protocol):
    """Something that gives the RunConfig it shows and shows a changed one."""
