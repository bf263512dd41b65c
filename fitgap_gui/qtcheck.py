"""Can Qt open a window here?  A fast check before QApplication, with a clear answer.

When Qt cannot start (an unknown ``QT_QPA_PLATFORM``, no display, or the X11 plugin
missing system libraries such as ``libxcb-cursor0``) it prints a cryptic "no Qt platform
plugin could be initialized" and aborts with a core dump.  ``preflight`` looks first and,
when it is sure Qt would fail, prints what is missing and how to install it, and returns
``EXIT_NO_WINDOW``.  It only says no when every platform Qt would try is broken, so a
setup it does not understand still gets to start.  Started from a menu (stderr is not a
terminal), it also shows the message with ``notify-send`` where that exists.  Set
``FITGAP_SKIP_QT_CHECK=1`` to skip the check.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

EXIT_NO_WINDOW = 3

_HEADLESS_HINT = "To try it without a screen: QT_QPA_PLATFORM=offscreen (nothing is shown)."
_MISSING_SO = re.compile(r"(lib[\w.+-]+?\.so[\d.]*): cannot open shared object file")
# Debian names a library package after its soname, except for a few well-known ones.
_DEBIAN_EXCEPTIONS = {
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgio-2.0.so.0": "libglib2.0-0",
    "libstdc++.so.6": "libstdc++6",
}


def preflight(
    argv: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    stream: TextIO | None = None,
) -> int:
    """0 if Qt can probably start; else print why on ``stream`` and return EXIT_NO_WINDOW."""
    env = os.environ if env is None else env
    if env.get("FITGAP_SKIP_QT_CHECK") or _application_exists():
        return 0
    problem = qt_start_problem(argv if argv is not None else sys.argv, env)
    if problem is None:
        return 0
    stream = stream or sys.stderr
    print(problem, file=stream, flush=True)
    if not stream.isatty():
        _notify_desktop(problem, env)
    return EXIT_NO_WINDOW


def _notify_desktop(problem: str, env: Mapping[str, str]) -> None:
    """Started from a menu, nobody reads stderr: also show it as a desktop notification."""
    tool = shutil.which("notify-send", path=env.get("PATH"))
    if tool is None or not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        return
    title, _, body = problem.removeprefix("error: ").partition("\n")
    # The notification is a courtesy; the message on stderr is what counts.
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(
            [tool, "--app-name=FitGap", "--icon=fitgap", title.rstrip(":"), body],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=5,
            check=False,
        )


def qt_start_problem(argv: Sequence[str], env: Mapping[str, str]) -> str | None:
    """Why Qt cannot open a window, in words a user can act on; None if it probably can."""
    try:  # QtGui and QtWidgets link the system's GL, fontconfig and xkbcommon libraries
        import PySide6.QtWidgets  # noqa: F401
    except ImportError as exc:
        return _import_problem(exc)
    plugins = available_platforms(platform_plugin_dirs(env))
    if not plugins:
        return None  # an unusual layout: let Qt look for itself
    wanted, explicit = requested_platforms(argv, env)
    if not wanted:
        return None  # Windows, macOS: one native platform, no display server to miss
    wanted = [name.lower() for name in wanted]  # Qt matches plugin keys case-insensitively
    unknown = [name for name in wanted if name not in plugins]
    if explicit and len(unknown) == len(wanted):
        names = ", ".join(sorted(plugins))
        source = "-platform" if _argv_platform(argv) else "QT_QPA_PLATFORM"
        return (
            f"error: FitGap cannot open its window: {source} asks for the Qt platform "
            f"'{';'.join(wanted)}', which is not installed.\n"
            f"Available platforms: {names}.\n"
            f"Unset QT_QPA_PLATFORM to use the desktop's own, or set it to one of these."
        )
    usable = [name for name in wanted if name in plugins]
    if not explicit:  # only the platforms this session offers are worth talking about
        offered = [name for name in usable if _has_display_variable(name, env)]
        if not offered:
            usable = [name for name in usable if name == "xcb"]  # Qt's last resort
            head = [
                "- no display: neither DISPLAY (X11) nor WAYLAND_DISPLAY (Wayland) is set. "
                "Start FitGap from a desktop session (over SSH: ssh -X)."
            ]
            return _report(head + [_library_problem(name, plugins[name]) for name in usable])
        usable = offered
    problems = [_platform_problem(name, plugins[name], env) for name in usable]
    if not problems or any(problem is None for problem in problems):
        return None
    return _report(problems)


def requested_platforms(argv: Sequence[str], env: Mapping[str, str]) -> tuple[list[str], bool]:
    """The platforms Qt will try, in order, and whether the user named them."""
    value = _argv_platform(argv) or env.get("QT_QPA_PLATFORM", "")
    names = [part.split(":", 1)[0].strip() for part in value.split(";")]
    names = [name for name in names if name]
    if names:
        return names, True
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        # Qt picks Wayland in a Wayland session and X11 otherwise; either may work.
        return ["wayland", "xcb"], False
    return [], False


def platform_plugin_dirs(env: Mapping[str, str]) -> list[Path]:
    """Folders Qt searches for platform plugins: PySide6's own and the user's overrides."""
    dirs = [Path(p) for p in env.get("QT_QPA_PLATFORM_PLUGIN_PATH", "").split(os.pathsep) if p]
    dirs += [Path(p) / "platforms" for p in env.get("QT_PLUGIN_PATH", "").split(os.pathsep) if p]
    try:
        from PySide6.QtCore import QLibraryInfo

        plugins = QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)
        if plugins:
            dirs.append(Path(plugins) / "platforms")
    except ImportError:
        pass
    return [d for d in dirs if d.is_dir()]


def available_platforms(dirs: Sequence[Path]) -> dict[str, Path]:
    """Platform name -> plugin file, from each plugin's own metadata (read, not loaded)."""
    from PySide6.QtCore import QPluginLoader

    found: dict[str, Path] = {}
    for folder in dirs:
        for plugin in sorted(folder.iterdir()):
            if plugin.suffix not in (".so", ".dll", ".dylib"):
                continue
            # One file may serve several names (libqwayland.so: wayland, wayland-egl, ...).
            keys = QPluginLoader(str(plugin)).metaData().get("MetaData", {}).get("Keys", [])
            for key in keys:
                found.setdefault(str(key).lower(), plugin)
    return found


def missing_libraries(plugin: Path) -> list[str]:
    """Sonames ``ldd`` cannot find for ``plugin`` (directly or through its dependencies)."""
    ldd = shutil.which("ldd")
    if ldd is None or not sys.platform.startswith("linux"):
        return []
    try:
        out = subprocess.run(
            [ldd, str(plugin)], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return parse_ldd(out)


def parse_ldd(output: str) -> list[str]:
    """The ``libX.so.N => not found`` names in ``ldd`` output, each once, in order."""
    names = []
    for line in output.splitlines():
        left, _, right = line.partition("=>")
        if right.strip() == "not found" and left.strip() not in names:
            names.append(left.strip())
    return names


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package that ships a library, by Debian's naming rule."""
    if soname in _DEBIAN_EXCEPTIONS:
        return _DEBIAN_EXCEPTIONS[soname]
    base, _, version = soname.partition(".so")
    version = version.lstrip(".").split(".")[0]
    base = base.lower().replace("_", "-")
    return f"{base}-{version}" if base[-1:].isdigit() and version else f"{base}{version}"


def install_hint(sonames: Sequence[str]) -> list[str]:
    """Lines telling how to install the packages that ship ``sonames``."""
    packages = " ".join(dict.fromkeys(debian_package(name) for name in sonames))
    provides = " ".join(f"'{name}()(64bit)'" for name in sonames)
    return [
        f"  Debian/Ubuntu:  sudo apt install {packages}",
        f"  Fedora:         sudo dnf install {provides}",
        "  Elsewhere: install the packages that provide these libraries.",
    ]


def _report(problems: Sequence[str | None]) -> str:
    lines = [problem for problem in problems if problem]
    return "\n".join(["error: FitGap cannot open its window:", *lines, _HEADLESS_HINT])


def _platform_problem(name: str, plugin: Path, env: Mapping[str, str]) -> str | None:
    lines = []
    if name == "xcb":
        lines += _x11_display_problem(env)
    elif name.startswith("wayland"):
        lines += _wayland_display_problem(env)
    libraries = _library_problem(name, plugin)
    if libraries:
        lines.append(libraries)
    return "\n".join(lines) if lines else None


def _library_problem(name: str, plugin: Path) -> str | None:
    missing = missing_libraries(plugin)
    if not missing:
        return None
    return "\n".join(
        [
            f"- Qt's '{name}' display plugin needs system libraries that are not installed: "
            f"{', '.join(missing)}. Install them, then start FitGap again:",
            *install_hint(missing),
        ]
    )


def _has_display_variable(name: str, env: Mapping[str, str]) -> bool:
    if name == "xcb":
        return bool(env.get("DISPLAY"))
    if name.startswith("wayland"):
        return bool(env.get("WAYLAND_DISPLAY")) or _wayland_socket(env) is not None
    return True


def _x11_display_problem(env: Mapping[str, str]) -> list[str]:
    display = env.get("DISPLAY", "")
    if not display:
        return [
            "- no X11 display: DISPLAY is not set. Start FitGap from a desktop session "
            "(over SSH: ssh -X)."
        ]
    if not _x11_reachable(display):
        return [f"- no X11 display: nothing answers at DISPLAY={display} (the X server is gone)."]
    return []


def _wayland_socket(env: Mapping[str, str]) -> Path | None:
    """The Wayland socket Qt would connect to, if it exists (WAYLAND_DISPLAY or wayland-0)."""
    name = env.get("WAYLAND_DISPLAY") or "wayland-0"
    runtime = env.get("XDG_RUNTIME_DIR", "")
    path = Path(name) if os.path.isabs(name) else (Path(runtime) / name if runtime else None)
    return path if path is not None and path.exists() else None


def _wayland_display_problem(env: Mapping[str, str]) -> list[str]:
    if _wayland_socket(env) is not None:
        return []
    if env.get("WAYLAND_DISPLAY"):
        where = env.get("XDG_RUNTIME_DIR") or "(XDG_RUNTIME_DIR is not set)"
        return [f"- no Wayland display: no socket {env['WAYLAND_DISPLAY']} in {where}."]
    return ["- no Wayland display: WAYLAND_DISPLAY is not set."]


def _x11_reachable(display: str) -> bool:
    """Whether a local X server listens at ``display`` (remote ones are assumed to)."""
    match = re.fullmatch(r"(?:unix)?:(\d+)(?:\.\d+)?", display)
    if match is None:
        return True  # host:N (SSH forwarding, remote X): do not second-guess
    path = f"/tmp/.X11-unix/X{match.group(1)}"
    for address in ("\0" + path, path):  # Linux X servers also listen on an abstract socket
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            try:
                sock.connect(address)
                return True
            except OSError:
                continue
    return False


def _import_problem(exc: ImportError) -> str:
    missing = _MISSING_SO.findall(str(exc))
    if not missing:
        return f"error: FitGap cannot open its window: Qt (PySide6) does not load: {exc}"
    return "\n".join(
        [
            "error: FitGap cannot open its window: Qt needs system libraries that are not "
            f"installed: {', '.join(missing)}. Install them, then start FitGap again:",
            *install_hint(missing),
        ]
    )


def _argv_platform(argv: Sequence[str]) -> str:
    for i, arg in enumerate(argv):
        if arg in ("-platform", "--platform") and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(("-platform=", "--platform=")):
            return arg.split("=", 1)[1]
    return ""


def _application_exists() -> bool:
    qt_gui = sys.modules.get("PySide6.QtGui")
    return qt_gui is not None and qt_gui.QGuiApplication.instance() is not None
