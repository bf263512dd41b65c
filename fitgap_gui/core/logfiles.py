"""FitGap's log file: a rotating ``fitgap.log`` in the data folder's ``logs`` folder.

``setup_logging`` puts one handler on the root logger, so FitGap's own loggers,
TensorFlow's Python logger and absl all write to the file instead of the
terminal.  A log that cannot be written (the data folder is a file, a read-only or
full disk) never stops FitGap and never prints a traceback or logging's
"--- Logging error ---": one warning line on stderr, then silence.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from logging.handlers import RotatingFileHandler
from pathlib import Path

from fitgap_gui.core.userfiles import default_home

LOG_NAME = "fitgap.log"
#: Five files of 1 MB: weeks of sessions, never a disk filler.
MAX_BYTES = 1_000_000
BACKUPS = 4
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s]: %(message)s"


def log_folder(home: str | Path | None = None) -> Path:
    """Where the log files live: ``<FitGap data folder>/logs`` (FITGAP_HOME honoured)."""
    return (Path(home).expanduser() if home else default_home()) / "logs"


def _warn_once(handler: logging.Handler, why: object) -> None:
    if not getattr(handler, "warned", False):
        handler.warned = True  # type: ignore[attr-defined]
        print(f"FitGap: cannot write the log file ({why}); going on without it.", file=sys.stderr)


class QuietRotatingFileHandler(RotatingFileHandler):
    """A rotating file whose write errors cost one warning line, never a traceback."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        _warn_once(self, sys.exc_info()[1])

    def flush(self) -> None:
        # Also called by close() at exit: a full disk must not raise there either.
        try:
            super().flush()
        except (OSError, ValueError) as exc:
            _warn_once(self, exc)


class _Silent(logging.NullHandler):
    """Stands in on the root logger when there is no file: TensorFlow then adds no
    stderr handler of its own, and logging's last-resort printer stays quiet."""


def setup_logging(home: str | Path | None = None, level: int = logging.INFO) -> logging.Handler:
    """Send every logger to the log file; returns the handler put on the root logger.

    Called again (tests, a second window), it replaces its earlier handler.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, QuietRotatingFileHandler | _Silent)]:
        root.removeHandler(old)
        old.close()
    folder = log_folder(home)
    handler: logging.Handler
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # delay: the file is opened at the first record, so a failure to open it is
        # one more write error handled quietly above.
        handler = QuietRotatingFileHandler(
            folder / LOG_NAME, maxBytes=MAX_BYTES, backupCount=BACKUPS, delay=True,
            encoding="utf-8",
        )  # fmt: skip
    except OSError as exc:
        handler = _Silent()
        _warn_once(handler, exc)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.setLevel(level)
    root.addHandler(handler)
    root.setLevel(min(root.level or logging.WARNING, level))
    logging.getLogger("fitgap_gui").setLevel(level)
    return handler


@contextmanager
def native_stderr_to_log(home: str | Path | None = None) -> Iterator[None]:
    """Send the process's C-level stderr to the log file while TensorFlow starts.

    TensorFlow's C++ start-up lines ("oneDNN custom operations are on", "Could not
    find cuda drivers") are written before absl's logging is set up and ignore
    TF_CPP_MIN_LOG_LEVEL; a desktop user reads them as errors.  Without a writable
    log they go to the null device.
    """
    try:
        folder = log_folder(home)
        folder.mkdir(parents=True, exist_ok=True)
        target = open(folder / LOG_NAME, "ab")  # noqa: SIM115 (closed below, after dup2)
    except OSError:
        target = open(os.devnull, "wb")  # noqa: SIM115
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        os.dup2(target.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        target.close()
