"""Install or remove FitGap's launcher in the user's application menu (freedesktop.org).

``install`` writes ``$XDG_DATA_HOME/applications/fitgap.desktop`` (from
``resources/fitgap.desktop``) whose Exec starts *this* installation: the interpreter that
runs now with ``-m fitgap_gui``, or the frozen executable of a PyInstaller build.  The icon
goes into the user's hicolor theme.  ``uninstall`` removes exactly those files.  No Qt here.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from fitgap_gui.core.errors import FitGapError
from fitgap_gui.resource_files import candidates
from fitgap_gui.resource_files import resources_dir as find_resources

APP_ID = "fitgap"
ICON_SIZES = (16, 32, 48, 64, 128, 256)
# Characters that make the desktop-entry spec require a quoted Exec argument.
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def resources_dir() -> Path:
    """FitGap's ``resources/`` folder with its .desktop file (see resource_files.py)."""
    folder = find_resources()
    if folder is None or not (folder / f"{APP_ID}.desktop").is_file():
        places = ", ".join(str(c) for c in candidates())
        raise FitGapError(
            f"cannot find FitGap's resources folder (with {APP_ID}.desktop) in {places}"
        )
    return folder


def data_home() -> Path:
    """``$XDG_DATA_HOME``, or ``~/.local/share`` when it is unset or not absolute (XDG spec)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if os.path.isabs(value) else Path.home() / ".local" / "share"


def launcher_command() -> list[str]:
    """The command that starts this installation of FitGap's window."""
    if getattr(sys, "frozen", False):  # PyInstaller: the executable is FitGap itself
        return [sys.executable]
    return [sys.executable, "-m", "fitgap_gui"]


def installed_paths(home: Path | None = None) -> list[Path]:
    """Every file ``install`` writes, the launcher first."""
    home = home or data_home()
    icons = home / "icons" / "hicolor"
    return [
        home / "applications" / f"{APP_ID}.desktop",
        icons / "scalable" / "apps" / f"{APP_ID}.svg",
        *(icons / f"{n}x{n}" / "apps" / f"{APP_ID}.png" for n in ICON_SIZES),
    ]


def desktop_entry(command: Sequence[str], template: str) -> str:
    """``template`` (a .desktop file) with Exec and TryExec set to run ``command``."""
    lines = []
    for line in template.splitlines():
        if line.startswith("Exec="):
            line = "Exec=" + " ".join(exec_quote(arg) for arg in command)
        elif line.startswith("TryExec="):
            line = "TryExec=" + _escape_string(command[0])
        lines.append(line)
    return "\n".join(lines) + "\n"


def exec_quote(arg: str) -> str:
    """One Exec argument, quoted and escaped as the desktop-entry spec asks."""
    if arg and not (_RESERVED & set(arg)):
        quoted = arg
    else:
        inner = "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg)
        quoted = f'"{inner}"'
    return _escape_string(quoted.replace("%", "%%"))


def install(home: Path | None = None, command: Sequence[str] | None = None) -> list[Path]:
    """Write the launcher and icons for the current user; returns the files written."""
    if sys.platform in ("win32", "darwin"):
        raise FitGapError("install-desktop makes a Linux (freedesktop.org) menu entry")
    source = resources_dir()
    launcher, svg, *pngs = installed_paths(home)
    entry = desktop_entry(command or launcher_command(), (source / f"{APP_ID}.desktop").read_text())
    copies = [(source / "icons" / f"{APP_ID}.svg", svg)]
    copies += [
        (source / "icons" / f"{APP_ID}-{n}.png", p) for n, p in zip(ICON_SIZES, pngs, strict=True)
    ]
    try:
        for src, dst in copies:
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(src.read_bytes())
        launcher.parent.mkdir(parents=True, exist_ok=True)
        launcher.write_text(entry, encoding="utf-8")
        # Menus re-read an icon theme whose folder is newer than their cache.
        os.utime(svg.parents[2])
    except OSError as exc:
        raise FitGapError(f"cannot install the launcher: {exc}") from exc
    return [launcher, *(dst for _, dst in copies)]


def uninstall(home: Path | None = None) -> list[Path]:
    """Remove what ``install`` wrote (and the folders it left empty); returns the removed files."""
    removed = []
    for path in installed_paths(home):
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise FitGapError(f"cannot remove {path}: {exc}") from exc
        removed.append(path)
        if path.suffix != ".desktop":  # icons: hicolor/64x64/apps, then hicolor/64x64
            _remove_if_empty(path.parent)
            _remove_if_empty(path.parent.parent)
    return removed


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not empty: other icons live there too
        folder.rmdir()


def _escape_string(value: str) -> str:
    # The spec's string escapes apply to the whole value before Exec quoting is read.
    return value.replace("\\", "\\\\")
