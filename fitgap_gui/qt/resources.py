"""Where FitGap's resources (presets, icons) are, in a checkout or an installed copy."""

from __future__ import annotations

from pathlib import Path

from ..core.config import RunConfig
from ..core.errors import FitGapError

_PACKAGE = Path(__file__).resolve().parent.parent


def resources_dir() -> Path | None:
    """``resources/`` next to the package (a checkout or main.py), else inside it."""
    for candidate in (_PACKAGE.parent / "resources", _PACKAGE / "resources"):
        if (candidate / "presets").is_dir():
            return candidate
    return None


def default_config() -> RunConfig:
    """The preset the window opens with; the plain defaults if it is missing or bad."""
    folder = resources_dir()
    if folder is not None:
        try:
            return RunConfig.load(folder / "presets" / "default.json")
        except FitGapError:
            pass  # a broken preset must not keep the window from opening
    return RunConfig()
