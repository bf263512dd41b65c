"""Where FitGap's resources (presets, icons) are, in a checkout or an installed copy."""

from __future__ import annotations

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.resource_files import resources_dir

__all__ = ["default_config", "resources_dir"]


def default_config() -> RunConfig:
    """The preset the window opens with; the plain defaults if it is missing or bad."""
    folder = resources_dir()
    if folder is not None:
        try:
            return RunConfig.load(folder / "presets" / "default.json")
        except FitGapError:
            pass  # a broken preset must not keep the window from opening
    return RunConfig()
