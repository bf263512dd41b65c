"""What every ``fitgap`` command shares: exit codes, the parser, the config it builds.

Exit codes: 0 done, 2 bad input (one ``error:`` line on stderr, no traceback), 1 anything
unexpected, 130 stopped with Ctrl+C, 141 standard output closed (128 + SIGPIPE).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from fitgap_gui.core.config.defaults import default_config
from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.experiments.executors import make_executor
from fitgap_gui.core.experiments.plans import MAX_PLAN_RUNS
from fitgap_gui.core.store.stored import checked_run_id
from fitgap_gui.core.textsafe import printable
from fitgap_gui.core.userfiles import os_error_text, shown

EXIT_OK, EXIT_UNEXPECTED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
#: File name endings ``--data`` reads as a table (data.source "csv").
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".xlsx", ".xlsm")
#: What a shell reports for a command ended by SIGPIPE: its reader went away.
EXIT_CLOSED_PIPE = 141


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one ``error:`` line, like every other bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"error: {printable(message)} (see '{self.prog} --help')\n")


def quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def source_for_path(path: str) -> str:
    """The data source a file path implies: .npz, a table file (source "csv": CSV, TSV,
    Parquet, Excel), or a folder of images."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".npz":
        return "npz"
    if suffix in TABLE_SUFFIXES:
        return "csv"
    try:
        is_dir = p.is_dir()
    except OSError as exc:  # a name too long for the file system
        raise FitGapError(os_error_text(p, exc)) from None
    if is_dir:
        return "images"
    raise FitGapError(
        f"{path}: cannot tell the data type; use a .npz file, a table (.csv, .tsv, "
        ".parquet, .xlsx) or an image folder"
    )


def load_config(args: argparse.Namespace) -> RunConfig:
    """The --config file (or the window's default preset) with --data, --epochs and
    --seed applied.  Keys a config file leaves out keep their documented defaults
    (``RunConfig``'s, docs/ARCHITECTURE.md); without --config the command starts where
    the window does (``defaults.default_config``), and a --data file there starts with
    ``RunConfig``'s data settings: the preset's handicaps are the built-in sets'."""
    config = RunConfig.load(args.config) if args.config else default_config()
    changes: dict[str, Any] = {}
    if getattr(args, "data", None) and not args.config:
        changes.update({f"data.{k}": v for k, v in RunConfig().to_dict()["data"].items()})
    if getattr(args, "data", None):
        source = config.data.source if config.data.source in ("npz", "csv", "images") else None
        changes["data.source"] = source or source_for_path(args.data)
        changes["data.path"] = args.data
    if getattr(args, "label", None) is not None:
        changes["data.label_column"] = label_column(args.label)
    if getattr(args, "epochs", None) is not None:
        changes["training.epochs"] = args.epochs
    if getattr(args, "seed", None) is not None:
        changes["training.seed"] = args.seed
    return config.replace(changes) if changes else config


def label_column(text: str) -> str | int:
    """``--label``: a column name, or a whole number (a 0-based column, -1 the last)."""
    try:
        return int(text)
    except ValueError:
        return text


def add_label_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--label",
        metavar="COLUMN",
        help="a table's label column: its name, or a 0-based number (sets data.label_column)",
    )


def format_epoch(epoch: int, total: int, metrics: dict[str, float]) -> str:
    parts = [f"epoch {epoch:>{len(str(total))}}/{total}"]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        if key in metrics:
            parts.append(f"{key} {metrics[key]:.4f}")
    return "  ".join(parts)


class StopOnCtrlC:
    """While active, the first Ctrl+C asks for a clean stop; the second one aborts."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self) -> bool:
        return self.requested

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("stopping after this execution chunk (Ctrl+C again to abort)", file=sys.stderr)

    def __enter__(self) -> StopOnCtrlC:
        self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        signal.signal(signal.SIGINT, self._previous)


def _in_place(path: Path) -> bool:
    """Whether ``--out`` names something written in place: a device, a pipe, or a name
    under /dev or /proc (``/dev/stdout`` may lead to the file the shell redirected
    standard output to, which must be added to, not emptied)."""
    real = os.path.realpath(path)
    if real.startswith(("/dev/", "/proc/")) or str(path).startswith(("/dev/", "/proc/")):
        return True
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def check_writable(path: Path) -> None:
    """Refuse, before anything trains, an ``--out`` that cannot be written.

    A folder, a missing folder, a file or folder without write permission, a path too
    long: one ``error:`` line.  A device or pipe (``/dev/stdout``, ``/dev/null``) is
    opened for writing here (without emptying anything) and written in place at the
    end; a device that refuses only the data itself (``/dev/full``) fails then, with
    ``writing_out``'s line.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise FitGapError(f"cannot write {os_error_text(path, exc)}") from None
    except ValueError:  # a NUL character in the name
        raise FitGapError(f"cannot write {printable(str(path))}: the path holds a NUL") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise FitGapError(f"{path} is a folder; give a file name for the output")
    if info is not None:
        flags = os.O_WRONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            os.close(os.open(path, flags))  # no O_TRUNC: nothing is emptied yet
        except OSError as exc:
            raise FitGapError(f"cannot write {os_error_text(path, exc)}") from None
        return
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise FitGapError(f"cannot write {path}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise FitGapError(f"cannot write {path}: the folder {parent} is not writable")


@contextlib.contextmanager
def writing_out(path: str | Path) -> Iterator[TextIO]:
    """``--out`` opened for text, at the end of a command whose runs are stored.

    A regular file is written anew; a device or pipe in place (``_in_place``).  A
    failure (a full disk, ``/dev/full``, the file removed meanwhile) is one
    ``FitGapError`` line that says the runs are kept in the store.
    """
    path = Path(path)
    mode = "a" if _in_place(path) else "w"
    try:
        with path.open(mode, newline="", encoding="utf-8") as handle:
            yield handle
    except OSError as exc:
        raise FitGapError(
            f"cannot write {shown(path)} ({exc.strerror or type(exc).__name__}); the runs "
            "stay stored: 'fitgap runs list' shows them"
        ) from None


def write_out(path: str | Path, payload: Any) -> None:
    """``payload`` as indented JSON into ``--out`` (see ``writing_out``)."""
    with writing_out(path) as handle:
        handle.write(json.dumps(payload, indent=2) + "\n")


def run_id_arg(text: str) -> int:
    """An argparse ``type`` for a run id: a whole number the store can hold.

    Every command that takes a run id uses it, so ``99999999999999999999`` is one
    ``error:`` line everywhere (the store checks again for its other callers).
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    try:
        return checked_run_id(value)
    except FitGapError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def repeats_arg(text: str) -> int:
    """An argparse ``type`` for ``--repeats``: at most ``MAX_PLAN_RUNS``, refused at once.

    The plan itself checks again with its number of configs (``plans.check_repeats``).
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value > MAX_PLAN_RUNS:  # below 1: the command's own line (plans.check_repeats)
        raise argparse.ArgumentTypeError(
            f"{value} is more than a plan can hold: at most {MAX_PLAN_RUNS} runs per plan"
        )
    return value


def _workers(text: str) -> int | None:
    """``--workers``: a whole number >= 1, or ``auto`` (as many as the machine carries)."""
    if text == "auto":
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number or 'auto', got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"at least 1 worker, got {value}")
    return value


def add_executor_flags(parser: argparse.ArgumentParser) -> None:
    """``--workers N|auto`` and ``--ray ADDRESS``: where an experiment's runs train."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=_workers,
        default=None,
        metavar="N",
        help="train N runs at once in worker processes on this machine (default auto: "
        "N = the smallest of the usable cores, the available memory divided by one run's "
        "need (its data, the model's estimate, and ~600 MiB for TensorFlow), and the "
        "number of runs; each worker gets cores/N TensorFlow threads); 1: one after "
        "another in this process",
    )
    where.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="train each run as a Ray task: 'auto', 'ray://HOST:10001', or 'local' "
        '(needs pip install -e ".[ray]")',
    )


def executor_from_args(args: argparse.Namespace):
    """The executor that ``--workers``/``--ray`` ask for (see ``add_executor_flags``)."""

    return make_executor(
        workers=getattr(args, "workers", None), ray_address=getattr(args, "ray", None)
    )
