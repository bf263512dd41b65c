"""Opening a file the user named (a data file, a config): one clear line per failure.

Every way a path can fail (missing, a link loop, a name too long for the file
system, no permission, a FIFO or device) becomes the caller's FitGapError with
one line that says what is really wrong.  The path is checked with ``stat`` before
it is opened, and opened non-blocking, so a FIFO is refused without waiting for a
writer that never comes.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from fitgap_gui.core.errors import FitGapError

#: A path longer than this is shown shortened in messages (its start and its end).
_SHOWN_CHARS = 300
#: The usual limit on one file or folder name (Linux, macOS, Windows).
_NAME_MAX = 255


def shown(path: Path | str) -> str:
    """The path for a one-line message: whole when short, its ends when very long."""
    text = str(path)
    if len(text) <= _SHOWN_CHARS:
        return text
    return f"{text[:120]}...{text[-120:]} ({len(text):,} characters)"


def _too_long(path: Path | str) -> str:
    text = os.fsencode(str(path))
    longest = max((len(part) for part in text.split(b"/")), default=0)
    if longest > _NAME_MAX:
        return (
            f"{shown(path)}: a file or folder name in this path is {longest} bytes long; "
            f"the file system allows {_NAME_MAX}"
        )
    return f"{shown(path)}: the path is {len(text):,} bytes long, too long for the file system"


def os_error_text(path: Path | str, exc: OSError, missing: str = "no such file") -> str:
    """One line for an OSError raised by stat or open of ``path``."""
    code = exc.errno
    if code == errno.ENOENT:
        return f"{shown(path)}: {missing}"
    if code == errno.ELOOP:
        return f"{shown(path)}: symbolic link loop (a link that leads back to itself)"
    if code == errno.ENAMETOOLONG:
        return _too_long(path)
    if code == errno.ENOTDIR:
        return f"{shown(path)}: a part of the path is a file, not a folder"
    if code in (errno.EACCES, errno.EPERM):
        return f"{shown(path)}: permission denied"
    return f"{shown(path)}: cannot read ({exc.strerror or type(exc).__name__})"


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def stat_path(
    path: Path, error: type[FitGapError], missing: str = "no such file"
) -> os.stat_result:
    """``os.stat`` of any path; a missing, looping, too long or unreadable one is refused."""
    try:
        return os.stat(path)
    except OSError as exc:
        raise error(os_error_text(path, exc, missing)) from None
    except ValueError:  # an embedded NUL character
        raise error(f"{shown(path)!r}: the path holds a NUL character") from None


def stat_regular(
    path: Path, error: type[FitGapError], what: str, missing: str = "no such file"
) -> os.stat_result:
    """``os.stat`` of a regular file; folders, FIFOs, devices and bad paths are refused."""
    info = stat_path(path, error, missing)
    if stat.S_ISDIR(info.st_mode):
        raise error(f"{shown(path)} is a folder, not {what}")
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{shown(path)} is not a regular file (it is {_kind(info.st_mode)})")
    return info


def open_regular(
    path: Path, error: type[FitGapError], what: str, missing: str = "no such file"
) -> tuple[BinaryIO, int]:
    """The file opened for binary reading, and its size; never blocks on a FIFO.

    The stat comes first (the clear message), then a non-blocking open and an
    ``fstat`` of what was opened, so a FIFO swapped in between is refused too.
    """
    stat_regular(path, error, what, missing)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise error(os_error_text(path, exc, missing)) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise error(f"{shown(path)} is not a regular file (it is {_kind(info.st_mode)})")
    return os.fdopen(fd, "rb"), info.st_size


def default_home() -> Path:
    """``$FITGAP_HOME``, else the platform's user data folder for FitGap."""
    env = os.environ.get("FITGAP_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("FitGap", appauthor=False))
