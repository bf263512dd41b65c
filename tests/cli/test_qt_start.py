"""When Qt cannot open a window, FitGap says what is missing and exits 3, never Qt's abort.

The end-to-end cases start main.py / ``python -m fitgap_gui`` in a subprocess with an
impossible platform or no display; the rest check the pieces (ldd, package names, the
platforms Qt would try) against real plugins, a real compiled library and a real socket.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from fitgap_gui import qtcheck

ROOT = Path(__file__).resolve().parents[2]
QT_ABORT = "no Qt platform plugin could be initialized"
ENTRIES = {"main.py": [str(ROOT / "main.py")], "-m fitgap_gui": ["-m", "fitgap_gui"]}


def start_gui(entry: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """Start the window through ``entry`` with no display variables, plus ``env``."""
    full = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    full.pop("FITGAP_SKIP_QT_CHECK", None)
    full.update(XDG_RUNTIME_DIR=str(tmp_path), **env)  # no stray wayland-0 socket
    return subprocess.run(
        [sys.executable, *ENTRIES[entry]],
        capture_output=True,
        text=True,
        env=full,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("entry", ENTRIES)
def test_an_unknown_platform_gets_a_clear_message(entry, tmp_path):
    result = start_gui(entry, tmp_path, QT_QPA_PLATFORM="doesnotexist")
    assert result.returncode == qtcheck.EXIT_NO_WINDOW, result.stderr
    assert result.stderr.startswith("error: FitGap cannot open its window")
    assert "'doesnotexist', which is not installed" in result.stderr
    assert "offscreen" in result.stderr and "xcb" in result.stderr  # what is available
    assert QT_ABORT not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("entry", ENTRIES)
def test_x11_without_a_display_gets_a_clear_message(entry, tmp_path):
    result = start_gui(entry, tmp_path, QT_QPA_PLATFORM="xcb")
    assert result.returncode == qtcheck.EXIT_NO_WINDOW, result.stderr
    assert "no X11 display: DISPLAY is not set" in result.stderr
    assert "QT_QPA_PLATFORM=offscreen" in result.stderr
    assert QT_ABORT not in result.stderr and "Traceback" not in result.stderr


def test_started_from_a_menu_the_message_also_becomes_a_notification(tmp_path):
    # A stand-in notify-send on PATH records what it is asked to show.
    shown = tmp_path / "shown.txt"
    tool = tmp_path / "bin" / "notify-send"
    tool.parent.mkdir()
    tool.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{shown}"\n')
    tool.chmod(0o755)
    path = f"{tool.parent}{os.pathsep}{os.environ['PATH']}"
    result = start_gui("main.py", tmp_path, QT_QPA_PLATFORM="xcb", DISPLAY=":4198", PATH=path)
    assert result.returncode == qtcheck.EXIT_NO_WINDOW
    lines = shown.read_text().splitlines()
    assert lines[:3] == ["--app-name=FitGap", "--icon=fitgap", "FitGap cannot open its window"]
    assert "nothing answers at DISPLAY=:4198" in shown.read_text()


def test_no_display_at_all_names_both_kinds(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py")],
        capture_output=True,
        text=True,
        env={k: v for k, v in env.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        | {"XDG_RUNTIME_DIR": str(tmp_path)},
        timeout=120,
        check=False,
    )
    assert result.returncode == qtcheck.EXIT_NO_WINDOW, result.stderr
    assert "neither DISPLAY (X11) nor WAYLAND_DISPLAY (Wayland) is set" in result.stderr
    assert QT_ABORT not in result.stderr


@pytest.fixture
def x_server_socket():
    """A listening abstract socket where a local X server for ``:N`` would be; yields N."""
    for number in range(4000, 4100):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(f"\0/tmp/.X11-unix/X{number}")
        except OSError:
            sock.close()
            continue
        sock.listen(4)
        yield number
        sock.close()
        return
    pytest.skip("no free abstract socket name for a stand-in X display")


def test_missing_xcb_libraries_are_named_with_the_command_that_installs_them(
    x_server_socket, monkeypatch
):
    env = {"QT_QPA_PLATFORM": "xcb", "DISPLAY": f":{x_server_socket}"}
    monkeypatch.setattr(qtcheck, "missing_libraries", lambda plugin: [])
    assert qtcheck.qt_start_problem([], env) is None  # a display and every library: go
    missing = ["libxcb-cursor.so.0", "libxkbcommon-x11.so.0"]
    monkeypatch.setattr(qtcheck, "missing_libraries", lambda plugin: missing)
    message = qtcheck.qt_start_problem([], env)
    assert "needs system libraries that are not installed: libxcb-cursor.so.0" in message
    assert "sudo apt install libxcb-cursor0 libxkbcommon-x11-0" in message
    assert "no X11 display" not in message  # the display is fine; only the libraries are not


def test_a_display_nobody_answers_is_reported(monkeypatch):
    monkeypatch.setattr(qtcheck, "missing_libraries", lambda plugin: [])
    message = qtcheck.qt_start_problem([], {"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":4199"})
    assert "nothing answers at DISPLAY=:4199" in message


@pytest.mark.skipif(
    shutil.which("gcc") is None or not sys.platform.startswith("linux"), reason="needs gcc"
)
def test_missing_libraries_reads_ldd_on_a_real_library(tmp_path):
    # A plugin that links a library which is then removed: what libxcb-cursor0 looks like.
    stub, plugin = tmp_path / "libfitgapgone.so.0", tmp_path / "libqprobe.so"
    (tmp_path / "gone.c").write_text("int fitgap_gone(void) { return 1; }\n")
    (tmp_path / "probe.c").write_text(
        "int fitgap_gone(void);\nint probe(void) { return fitgap_gone(); }\n"
    )
    gcc = ["gcc", "-shared", "-fPIC", "-o"]
    subprocess.run([*gcc, stub, tmp_path / "gone.c", "-Wl,-soname,libfitgapgone.so.0"], check=True)
    rpath = f"-Wl,-rpath,{tmp_path}"  # so the loader finds the library while it exists
    subprocess.run([*gcc, plugin, tmp_path / "probe.c", stub, rpath], check=True)
    assert qtcheck.missing_libraries(plugin) == []
    stub.unlink()
    assert qtcheck.missing_libraries(plugin) == ["libfitgapgone.so.0"]


def test_parse_ldd_lists_each_missing_library_once():
    output = (
        "\tlinux-vdso.so.1 (0x00007ffd)\n"
        "\tlibxcb-cursor.so.0 => not found\n"
        "\tlibQt6Gui.so.6 => /opt/Qt/lib/libQt6Gui.so.6 (0x00007f)\n"
        "\tlibxcb-cursor.so.0 => not found\n"
        "\tlibxkbcommon-x11.so.0 => not found\n"
    )
    assert qtcheck.parse_ldd(output) == ["libxcb-cursor.so.0", "libxkbcommon-x11.so.0"]


@pytest.mark.parametrize(
    ("soname", "package"),
    [
        ("libxcb-cursor.so.0", "libxcb-cursor0"),
        ("libxcb-icccm.so.4", "libxcb-icccm4"),
        ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
        ("libX11-xcb.so.1", "libx11-xcb1"),
        ("libEGL.so.1", "libegl1"),
        ("libdbus-1.so.3", "libdbus-1-3"),
        ("libglib-2.0.so.0", "libglib2.0-0"),
    ],
)
def test_debian_package_names(soname, package):
    assert qtcheck.debian_package(soname) == package


def test_platform_requests_follow_qt_rules():
    assert qtcheck.requested_platforms([], {"QT_QPA_PLATFORM": "xcb:dpi=96;wayland"}) == (
        ["xcb", "wayland"],
        True,
    )
    argv = ["main.py", "-platform", "offscreen"]
    assert qtcheck.requested_platforms(argv, {"QT_QPA_PLATFORM": "xcb"}) == (["offscreen"], True)


def test_windows_and_macos_have_no_display_server_to_miss(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert qtcheck.qt_start_problem([], {}) is None
    assert "not installed" in qtcheck.qt_start_problem([], {"QT_QPA_PLATFORM": "nonesuch"})


def test_platform_names_come_from_the_plugins_metadata():
    plugins = qtcheck.available_platforms(qtcheck.platform_plugin_dirs(os.environ))
    assert {"offscreen", "minimal"} <= set(plugins)
    if sys.platform.startswith("linux"):
        assert plugins["xcb"].name == "libqxcb.so"


def test_offscreen_passes_and_a_running_application_is_never_second_guessed(qapp):
    assert qtcheck.qt_start_problem([], {"QT_QPA_PLATFORM": "offscreen"}) is None
    assert qtcheck.preflight([], {"QT_QPA_PLATFORM": "doesnotexist"}) == 0  # qapp exists
