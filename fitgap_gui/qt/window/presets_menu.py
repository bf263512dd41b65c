"""File → Open config…, Save config… and the Presets submenu.

Configs are the JSON of ``fitgap train --config`` (RunConfig.load / save), so a file
saved here trains the same run from a terminal.  Presets are the ``*.json`` files of
``resources/presets`` (core/presets.py): each changes only the settings it holds, and
its tooltip lists them.  The dialogs live only in the action handlers; ``open_config``
and ``save_config`` take a path, so tests call them directly.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu

from fitgap_gui.core.config.defaults import resources_dir
from fitgap_gui.core.config.presets import Preset, load_preset
from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.qt.window import settings
from fitgap_gui.qt.window.host import ConfigHost

JSON_FILTER = "FitGap config (*.json);;All files (*)"


def preset_files() -> list[Path]:
    folder = resources_dir()
    return sorted((folder / "presets").glob("*.json")) if folder is not None else []


def preset_title(path: Path) -> str:
    """'early-stopping.json' -> 'Early stopping'."""
    return Preset(path, {}).title


class ConfigFiles:
    """The config actions of one window."""

    def __init__(self, host: ConfigHost) -> None:
        self.host = host

    def open_config(self, path: str | Path) -> RunConfig | None:
        """Load a config file into the controls; a bad file is one error line."""
        try:
            config = RunConfig.load(path)
        except FitGapError as exc:
            self.host.show_error(str(exc))
            return None
        self.host.controls.set_config(config)
        self.host.statusBar().showMessage(f"Loaded the settings of {Path(path).name}.")
        return config

    def apply_preset(self, path: str | Path) -> RunConfig | None:
        """Change only the settings the preset names; every other lever keeps its value."""
        try:
            preset = load_preset(path)
            config = preset.apply(self.host.controls.config())
        except FitGapError as exc:
            self.host.show_error(str(exc))
            return None
        self.host.controls.set_config(config)
        self.host.statusBar().showMessage(f"Preset {preset.title}: {preset.description}")
        return config

    def save_config(self, path: str | Path) -> bool:
        """Write the controls' config as JSON (a bad lever or an unwritable path: error)."""
        try:
            config = self.host.controls.config()
            config.save(path)
        except FitGapError as exc:
            self.host.show_error(str(exc))
            return False
        except OSError as exc:
            self.host.show_error(f"cannot write {path} ({exc.strerror or exc})")
            return False
        self.host.statusBar().showMessage(f"Saved the settings to {path}.")
        return True

    # -- the dialogs (not used by tests) --------------------------------------------------------
    def choose_and_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.host.window(), "Open config", settings.last_folder("config"), JSON_FILTER
        )
        if path:
            settings.remember_folder("config", path)
            self.open_config(path)

    def choose_and_save(self) -> None:
        start = str(Path(settings.last_folder("config") or Path.home()) / "fitgap-config.json")
        path, _ = QFileDialog.getSaveFileName(self.host.window(), "Save config", start, JSON_FILTER)
        if path:
            if not Path(path).suffix:
                path += ".json"
            settings.remember_folder("config", path)
            self.save_config(path)


def install(host: ConfigHost) -> tuple[ConfigFiles, QMenu]:
    """File → Open/Save config and Presets; returns the config files and the menu."""
    files = ConfigFiles(host)
    window = host.window()
    open_action = QAction("&Open config…", window)
    # Ctrl+O is File → Open data…; a shared shortcut would fire neither.
    open_action.setShortcut(QKeySequence("Ctrl+Shift+O"))
    open_action.triggered.connect(files.choose_and_open)
    save_action = QAction("&Save config…", window)
    save_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Save))
    save_action.triggered.connect(files.choose_and_save)
    host.add_menu_action("file", open_action)
    host.add_menu_action("file", save_action)

    presets = QMenu("&Presets", window)
    presets.setToolTipsVisible(True)  # each tooltip lists everything its preset sets
    for path in preset_files():
        try:
            preset = load_preset(path)
        except FitGapError:
            continue  # a broken preset file must not keep the window from opening
        action = QAction(preset.title, presets)
        action.setToolTip(preset.description)
        action.setStatusTip(preset.description)
        action.triggered.connect(lambda _checked=False, p=path: files.apply_preset(p))
        presets.addAction(action)
    presets.setEnabled(bool(presets.actions()))
    host.add_menu_action("file", presets.menuAction())
    return files, presets
