"""The launcher: the .desktop file, `fitgap install-desktop [--uninstall]` into a temporary
home, Exec quoting, and `fitgap --version` answering without TensorFlow."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fitgap_gui import __version__, desktop

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = shutil.which("desktop-file-validate")
needs_validator = pytest.mark.skipif(
    VALIDATOR is None, reason="desktop-file-validate not installed (apt install desktop-file-utils)"
)


def validate(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([VALIDATOR, str(path)], capture_output=True, text=True, check=False)


def fitgap(*args: str, home: Path) -> subprocess.CompletedProcess:
    """Run ``python -m fitgap_gui ARGS`` with HOME and XDG_DATA_HOME inside ``home``."""
    env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / "data")}
    return subprocess.run(
        [sys.executable, "-m", "fitgap_gui", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def exec_argv(desktop_file: Path) -> list[str]:
    """The Exec line's argv, read as the desktop-entry spec says (no field codes used)."""
    line = next(x for x in desktop_file.read_text().splitlines() if x.startswith("Exec="))
    value = line.removeprefix("Exec=").replace("\\\\", "\\")  # string escapes first
    args: list[str] = []
    current, quoted, chars = None, False, iter(value)
    for ch in chars:
        if quoted and ch == "\\":
            current += next(chars)  # \" \` \$ \\ inside quotes
        elif ch == '"':
            quoted, current = not quoted, current or ""
        elif ch == " " and not quoted:
            if current is not None:
                args.append(current)
            current = None
        else:
            current = (current or "") + ch
    if current is not None:
        args.append(current)
    return [arg.replace("%%", "%") for arg in args]


@needs_validator
def test_shipped_desktop_file_is_valid():
    result = validate(ROOT / "resources" / "fitgap.desktop")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""  # not even a hint


def test_icons_are_shipped_as_svg_and_pngs_of_each_size():
    icons = ROOT / "resources" / "icons"
    assert (icons / "fitgap.svg").read_text().lstrip().startswith("<?xml")
    for size in desktop.ICON_SIZES:
        png = (icons / f"fitgap-{size}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        assert (width, height) == (size, size)


def test_install_then_uninstall_in_a_temporary_home(tmp_path):
    data = tmp_path / "data"
    result = fitgap("install-desktop", home=tmp_path)
    assert result.returncode == 0, result.stderr
    launcher = data / "applications" / "fitgap.desktop"
    assert str(launcher) in result.stdout
    written = desktop.installed_paths(data)
    assert all(path.is_file() for path in written)
    assert (data / "icons/hicolor/256x256/apps/fitgap.png").read_bytes() == (
        ROOT / "resources/icons/fitgap-256.png"
    ).read_bytes()
    # The launcher starts this interpreter with this package: run it for real.
    argv = exec_argv(launcher)
    assert argv == [sys.executable, "-m", "fitgap_gui"]
    assert f"TryExec={sys.executable}" in launcher.read_text()
    started = subprocess.run([*argv, "--version"], capture_output=True, text=True, timeout=60)
    assert started.stdout.strip() == f"FitGap {__version__}"
    if VALIDATOR:
        assert validate(launcher).returncode == 0, validate(launcher).stdout

    removed = fitgap("install-desktop", "--uninstall", home=tmp_path)
    assert removed.returncode == 0, removed.stderr
    assert not any(path.exists() for path in written)
    assert not (data / "icons/hicolor/64x64").exists()  # emptied folders go too
    again = fitgap("install-desktop", "--uninstall", home=tmp_path)
    assert again.returncode == 0 and "no launcher installed" in again.stdout


def test_uninstall_keeps_other_applications_icons(tmp_path):
    other = tmp_path / "icons/hicolor/64x64/apps/other.png"
    other.parent.mkdir(parents=True)
    other.write_bytes(b"not ours")
    desktop.install(tmp_path)
    desktop.uninstall(tmp_path)
    assert other.read_bytes() == b"not ours"
    assert not (tmp_path / "icons/hicolor/64x64/apps/fitgap.png").exists()


def test_data_home_follows_xdg_and_falls_back_to_local_share(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert desktop.data_home() == tmp_path / "xdg"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/is/ignored")  # the spec says so
    assert desktop.data_home() == tmp_path / ".local" / "share"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert desktop.data_home() == tmp_path / ".local" / "share"


def test_exec_quotes_paths_with_spaces_and_special_characters(tmp_path):
    command = ["/opt/my apps/$HOME/100%/py\\thon", "-m", "fitgap_gui"]
    assert desktop.exec_quote("-m") == "-m"
    assert desktop.exec_quote("/opt/my apps/py") == '"/opt/my apps/py"'
    assert desktop.exec_quote("a$b") == '"a\\\\$b"'  # \$ in the quote, then \ -> \\
    assert desktop.exec_quote("50%") == "50%%"
    entry = tmp_path / "fitgap.desktop"
    template = (ROOT / "resources" / "fitgap.desktop").read_text()
    entry.write_text(desktop.desktop_entry(command, template))
    assert exec_argv(entry) == command
    if VALIDATOR:
        result = validate(entry)
        assert result.returncode == 0, result.stdout


def test_a_frozen_build_launches_its_own_executable(monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert desktop.launcher_command() == [sys.executable]


def test_version_answers_at_once_without_tensorflow_or_qt():
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "fitgap_gui", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    elapsed = time.perf_counter() - start
    assert result.returncode == 0
    assert result.stdout.strip() == f"FitGap {__version__}"
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines()}
    heavy = {name for name in imported if name.split(".")[0] in ("tensorflow", "keras", "PySide6")}
    assert "fitgap_gui.cli" in imported  # the import log is really there
    assert heavy == set()
    assert elapsed < 2.0
