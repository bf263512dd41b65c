"""Settings remembered between sessions: last config, window geometry, splitter, folders.

They live in QSettings under organization/application "FitGap".  Where
``FITGAP_HOME`` is set (tests, scripts, a portable copy) they are an INI file in that
folder instead, beside the run store, so a test never reads or writes the user's
real settings.  ``install(window)`` restores the config when the window is built and
the layout when it is first shown; it saves the config when a run starts and
everything on close.  The window is seen as a ``host.LayoutHost``.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.qt.window.host import LayoutHost

ORGANIZATION = APPLICATION = "FitGap"
KEY_CONFIG = "config/last"
KEY_GEOMETRY = "window/geometry"
KEY_SPLITTER = "window/splitter"


def settings_file(home: str | Path | None = None) -> Path | None:
    """The INI file used instead of the native store, or None for the native one."""
    folder = home if home is not None else os.environ.get("FITGAP_HOME")
    return Path(folder).expanduser() / "settings.ini" if folder else None


def open_settings(home: str | Path | None = None) -> QSettings:
    """FitGap's QSettings: ``$FITGAP_HOME/settings.ini`` when set, else the platform's."""
    path = settings_file(home)
    if path is not None:
        return QSettings(str(path), QSettings.Format.IniFormat)
    return QSettings(ORGANIZATION, APPLICATION)


def last_folder(kind: str, settings: QSettings | None = None) -> str:
    """The folder the last file dialog of this kind ended in ('' when none yet)."""
    settings = settings or open_settings()
    folder = str(settings.value(f"folders/{kind}", "") or "")
    return folder if folder and Path(folder).is_dir() else ""


def remember_folder(kind: str, path: str | Path, settings: QSettings | None = None) -> None:
    """Remember where a file dialog of this kind was used (the folder of ``path``)."""
    settings = settings or open_settings()
    path = Path(path)
    settings.setValue(f"folders/{kind}", str(path if path.is_dir() else path.parent))
    settings.sync()


def save_config(config: RunConfig, settings: QSettings | None = None) -> None:
    settings = settings or open_settings()
    settings.setValue(KEY_CONFIG, config.to_json(indent=None))
    settings.sync()


def saved_config(settings: QSettings | None = None) -> RunConfig | None:
    """The last config, or None when there is none or it no longer validates."""
    settings = settings or open_settings()
    text = settings.value(KEY_CONFIG, "")
    if not text:
        return None
    try:
        return RunConfig.from_json(str(text), source="saved settings")
    except FitGapError:
        return None  # written by an older version with other keys: start on the preset


def save_window(host: LayoutHost, settings: QSettings | None = None) -> None:
    """Geometry, splitter sizes and the controls' config (when it validates)."""
    settings = settings or open_settings()
    settings.setValue(KEY_GEOMETRY, host.window().saveGeometry())
    settings.setValue(KEY_SPLITTER, host.splitter.saveState())
    # A half-typed value is not worth keeping; the last good config stays.
    with contextlib.suppress(FitGapError):
        settings.setValue(KEY_CONFIG, host.controls.config().to_json(indent=None))
    settings.sync()


def restore_window(host: LayoutHost, settings: QSettings | None = None) -> None:
    """Put back what ``save_window`` kept; missing or stale values are skipped."""
    settings = settings or open_settings()
    restore_layout(host, settings)
    config = saved_config(settings)
    if config is not None:
        host.controls.set_config(config)


def restore_layout(host: LayoutHost, settings: QSettings | None = None) -> None:
    """Geometry and splitter sizes (done when the window is first shown, see below)."""
    settings = settings or open_settings()
    geometry = settings.value(KEY_GEOMETRY)
    if isinstance(geometry, QByteArray) and not geometry.isEmpty():
        host.window().restoreGeometry(geometry)
    splitter = settings.value(KEY_SPLITTER)
    if isinstance(splitter, QByteArray) and not splitter.isEmpty():
        host.splitter.restoreState(splitter)


class _Remember(QObject):
    """Restores the layout on the first show and saves everything on close.

    An event filter rather than code in MainWindow: the layout is restored on the
    first Show because ``app.show_window`` sizes the window after building it.
    """

    def __init__(self, host: LayoutHost) -> None:
        super().__init__(host.window())
        self.host = host
        self.watched = host.window()
        self.shown = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if watched is self.watched:
            if event.type() == QEvent.Type.Show and not self.shown:
                self.shown = True
                restore_layout(self.host)
            elif event.type() == QEvent.Type.Close:
                save_window(self.host)
        return False


def _save_controls(host: LayoutHost) -> None:
    with contextlib.suppress(FitGapError):  # a half-typed value: keep the last good one
        save_config(host.controls.config())


def install(host: LayoutHost) -> None:
    config = saved_config()
    if config is not None:
        host.controls.set_config(config)
    # The controls' config is kept as soon as a run starts, so a crash loses nothing.
    # Not the run's own config: a sequence (compare remedies, a sweep) trains variants
    # of what the controls say, and the next session should open on the controls.
    host.live_runs.run_added.connect(
        lambda run: _save_controls(host) if run.origin == "live" else None
    )
    host.window().installEventFilter(_Remember(host))
