"""Where FitGap's ``resources/`` (presets, icons, the .desktop file) is on this machine.

A checkout, an editable install and a PyInstaller folder have it next to the package;
a wheel installs it as data files into ``<prefix>/share/fitgap`` (see pyproject.toml).
No Qt here: the CLI's ``install-desktop`` uses it too.
"""

from __future__ import annotations

import sys
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def candidates() -> tuple[Path, ...]:
    return (
        _PACKAGE.parent / "resources",
        _PACKAGE / "resources",
        Path(sys.prefix) / "share" / "fitgap",
    )


def resources_dir() -> Path | None:
    """The first folder that holds FitGap's presets, or None if none does."""
    for candidate in candidates():
        if (candidate / "presets").is_dir():
            return candidate
    return None
