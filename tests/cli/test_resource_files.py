"""resources/ is found in a checkout and in a wheel install (<prefix>/share/fitgap)."""

from __future__ import annotations

import glob
import sys
import tomllib
from pathlib import Path

from fitgap_gui import resource_files

ROOT = Path(__file__).resolve().parents[2]


def test_a_checkout_uses_the_resources_folder_next_to_the_package():
    assert resource_files.resources_dir() == ROOT / "resources"


def test_a_wheel_install_finds_them_in_prefix_share(tmp_path, monkeypatch):
    package = tmp_path / "site-packages" / "fitgap_gui"  # no resources/ beside it
    package.mkdir(parents=True)
    prefix = tmp_path / "prefix"
    (prefix / "share" / "fitgap" / "presets").mkdir(parents=True)
    monkeypatch.setattr(resource_files, "_PACKAGE", package)
    monkeypatch.setattr(sys, "prefix", str(prefix))
    assert resource_files.resources_dir() == prefix / "share" / "fitgap"
    (prefix / "share" / "fitgap" / "presets").rmdir()
    assert resource_files.resources_dir() is None


def test_the_wheel_carries_every_preset_icon_and_the_desktop_file():
    """pyproject's data-files globs cover every file of resources/ that the app reads."""
    data_files = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "data-files"
    ]
    shipped = {
        Path(p) for globs in data_files.values() for g in globs for p in glob.glob(str(ROOT / g))
    }
    wanted = {ROOT / "resources" / "fitgap.desktop"}
    wanted |= set((ROOT / "resources" / "presets").glob("*.json"))
    wanted |= set((ROOT / "resources" / "icons").iterdir())
    assert wanted <= shipped, sorted(str(p) for p in wanted - shipped)
