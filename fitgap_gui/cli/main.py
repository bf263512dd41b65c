"""The ``fitgap`` command: the same engine as the window, without Qt.

``fitgap`` alone opens the window; ``fitgap train`` runs one configuration and
records it in the run store.  Exit codes: 0 done, 2 bad input (one ``error:`` line on
stderr, no traceback), 1 anything unexpected (one ``error:`` line naming the log file
that holds the traceback), 130 stopped with Ctrl+C, 141 the reader of standard output
went away (``fitgap runs list | head``: quiet, as Unix tools end on SIGPIPE).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from typing import NoReturn

from fitgap_gui import __version__, desktop
from fitgap_gui.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_CLOSED_PIPE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNEXPECTED,
    Parser,
)
from fitgap_gui.cli.data import add_data
from fitgap_gui.cli.examples import add_clean
from fitgap_gui.cli.experiments import add_compare, add_sweep
from fitgap_gui.cli.lab import add_lab
from fitgap_gui.cli.runs import add_runs_and_export, add_store
from fitgap_gui.cli.train import add_train
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.experiments.executors import RunFailedError
from fitgap_gui.core.logfiles import LOG_NAME, log_folder, setup_logging
from fitgap_gui.core.textsafe import printable

log = logging.getLogger(__name__)


def cmd_install_desktop(args: argparse.Namespace) -> int:

    if args.uninstall:
        removed = desktop.uninstall()
        for path in removed:
            print(f"removed {printable(path)}")
        if not removed:
            print(f"no launcher installed in {printable(desktop.data_home())}")
        return EXIT_OK
    written = desktop.install()
    command = " ".join(desktop.launcher_command())
    print(f"installed {printable(written[0])} (starts: {printable(command)})")
    print(f"icons in {printable(desktop.data_home() / 'icons' / 'hicolor')}")
    return EXIT_OK


def _add_install_desktop(sub) -> None:
    install = sub.add_parser(
        "install-desktop", help="add FitGap to your application menu (this user only)"
    )
    install.add_argument(
        "--uninstall", action="store_true", help="remove the launcher and icons again"
    )
    install.set_defaults(func=cmd_install_desktop)


def cmd_gui(args: argparse.Namespace) -> int:
    from fitgap_gui.app import main as gui_main

    return gui_main([])


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="fitgap", description="See the train/validation gap and close it.")
    parser.add_argument("--version", action="version", version=f"FitGap {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=Parser)

    add_train(sub)
    add_runs_and_export(sub)
    add_store(sub)
    _add_install_desktop(sub)
    add_sweep(sub)
    add_compare(sub)
    add_data(sub)
    add_clean(sub)
    add_lab(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse and run one command; every way it can end is an exit code (module docstring).

    A closed standard output ends the command quietly, whatever was writing (argparse's
    help, a table, an epoch line, the final flush); anything unexpected is logged with
    its traceback and said in one ``error:`` line.
    """
    try:
        code = _dispatch(argv)
        sys.stdout.flush()  # a closed pipe shows here when the output was buffered
        return code
    except BrokenPipeError:
        return _closed_pipe()
    except KeyboardInterrupt:
        _say("error: interrupted")
        return EXIT_INTERRUPTED
    except RunFailedError as exc:  # a run of a plan failed (its worker died): said in full
        _say(f"error: {printable(exc)}")
        return EXIT_UNEXPECTED
    except Exception as exc:  # the last resort: a bug, never a traceback on the terminal
        return _unexpected(exc)


def _dispatch(argv: list[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already reported
        return int(exc.code or 0)
    if args.command is None:
        return cmd_gui(args)
    try:
        return args.func(args)
    except FitGapError as exc:
        _say(f"error: {printable(exc)}")
        return EXIT_BAD_INPUT


def _say(line: str) -> None:
    """One line on stderr; a closed stderr costs nothing more."""
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr, flush=True)


def _closed_pipe() -> int:
    """Standard output's reader is gone: point stdout at the null device, so that the
    interpreter's own flush at exit finds nothing to complain about, and end with
    128 + SIGPIPE, as a shell reports a tool that SIGPIPE ended (docs/ARCHITECTURE.md,
    "CLI contract")."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return EXIT_CLOSED_PIPE


def _unexpected(exc: BaseException) -> int:
    """Log the traceback to the log file and say where it is, in one line."""
    setup_logging()
    log.error("fitgap %s failed", " ".join(sys.argv[1:]), exc_info=exc)
    where = log_folder() / LOG_NAME
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
    _say(f"error: unexpected {printable(text)}; the traceback is in {printable(where)}")
    return EXIT_UNEXPECTED


def run(argv: list[str] | None = None) -> NoReturn:
    """The ``fitgap`` command: ``main``, then an exit that skips TensorFlow's teardown.

    After a command that trained, Python's ordinary exit finalizes every TensorFlow
    object and waits for its thread pools: 0.3-0.5 s of CPU and up to seconds of wall
    time for a process that is ending anyway (benchmarks/RESULTS.md, section 7b).
    By then everything is written: the store committed each epoch, ``--out`` files
    and saved models are closed.  So once output is flushed and logging shut down,
    ``os._exit`` ends the process.  The window, a command that never imported
    TensorFlow, and one that started Ray or worker processes (their clean-up runs at
    exit) exit the ordinary way.
    """
    code = main(argv)
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away after main's own flush
        code = _closed_pipe()
    except (OSError, ValueError):
        pass
    if _nothing_to_tear_down():
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing to keep
                stream.flush()
        logging.shutdown()
        os._exit(code)
    sys.exit(code)


def _nothing_to_tear_down() -> bool:
    """TensorFlow ran here, and nothing whose clean-up ``os._exit`` would skip."""
    if "tensorflow" not in sys.modules or "PySide6" in sys.modules or "ray" in sys.modules:
        return False
    multiprocessing = sys.modules.get("multiprocessing")
    return multiprocessing is None or not multiprocessing.active_children()
