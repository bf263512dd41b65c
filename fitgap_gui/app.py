"""The GUI entry point: the window first, TensorFlow after it is on screen.

Importing TensorFlow takes seconds, so ``main`` shows the window before anything
heavy is imported (no tensorflow, keras, scikit-learn or data here) and starts the
import on a background thread; Train is enabled once it is done.  Everything
FitGap, TensorFlow and absl log goes to a rotating log file in FitGap's data folder
(core/logfiles.py), not to the terminal.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import sys

from fitgap_gui.core.config.defaults import resources_dir
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.logfiles import setup_logging
from fitgap_gui.qtcheck import preflight


def quiet_tensorflow() -> None:
    """Keep TensorFlow's C++ INFO lines and "failed call to cuInit" out of the terminal.

    Read by TensorFlow when it is imported, so this runs first; 3 hides its C++
    errors too (on a machine without a GPU "cuInit" is one, and it means nothing).
    A user who wants them sets TF_CPP_MIN_LOG_LEVEL.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def start_logging(home=None):
    """The log file (core/logfiles.py) for FitGap, TensorFlow's and absl's loggers."""
    handler = setup_logging(home)
    logging.getLogger(__name__).info("FitGap starting (pid %s)", os.getpid())
    return handler


def make_application(argv: list[str] | None = None):
    """The QApplication, named so that QSettings has a home."""
    quiet_tensorflow()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName("FitGap")
    app.setOrganizationName("FitGap")
    app.setApplicationDisplayName("FitGap")
    # Wayland and the task bar match the window to fitgap.desktop (and its icon) by this.
    app.setDesktopFileName("fitgap")
    app.setWindowIcon(_app_icon())
    collect_garbage_in_gui_thread(app)
    return app


def collect_garbage_in_gui_thread(app) -> None:
    """Run Python's cyclic garbage collector only on the GUI thread, from a timer.

    Left automatic, a collection can start on the training thread (TensorFlow
    allocates a lot) and free a finished run's plot items there; their Qt clean-up
    then waits for a lock the GUI thread holds while it waits for the GIL: the
    window freezes for good (seen twice in the benchmarks, traced with gdb).
    pyqtgraph's GarbageCollector is the known remedy: gc off, collected on a timer.
    """
    if getattr(app, "_fitgap_gc", None) is None:
        app._fitgap_gc = _gui_thread_collector()


def _gui_thread_collector():
    """pyqtgraph's GarbageCollector that leaves the older generations alone while a run
    trains (``busy``): one such collection over a run's Keras objects took ~150 ms, a
    stall of the live plots; it runs at the first check after the run instead."""
    from pyqtgraph.util.garbage_collector import GarbageCollector

    class GuiThreadCollector(GarbageCollector):
        @staticmethod
        def busy() -> bool:
            return False

        def check(self) -> None:
            young, older, oldest = gc.get_count()
            if young > self.threshold[0]:
                gc.collect(0)  # a few ms at most
            if self.busy():
                return
            if older > self.threshold[1]:
                gc.collect(1)
                if oldest > self.threshold[2]:
                    gc.collect(2)

    return GuiThreadCollector(interval=1.0)


def _app_icon():
    """FitGap's icon from resources/icons (PNG sizes; the SVG needs Qt's SVG plugin)."""
    from PySide6.QtGui import QIcon

    icon = QIcon()
    folder = resources_dir()
    if folder is not None:
        for png in sorted((folder / "icons").glob("fitgap-*.png")):
            icon.addFile(str(png))
        if icon.isNull() and (folder / "icons" / "fitgap.svg").is_file():
            icon.addFile(str(folder / "icons" / "fitgap.svg"))
    return icon


def show_window():
    """Create the main window and show it (no TensorFlow yet); returns the window."""
    from PySide6.QtWidgets import QApplication

    from fitgap_gui.qt.window.main_window import MainWindow

    window = MainWindow()
    # TensorFlow leaves ~400,000 long-lived objects: every full collection of the
    # GUI-thread collector above then stalled the window for 0.2-0.9 s (measured by
    # benchmarks/bench_responsive.py).  Once it is loaded, they leave the collector's view.
    window.engine_ready.connect(gc.freeze)
    collector = getattr(QApplication.instance(), "_fitgap_gc", None)
    if collector is not None:
        collector.busy = window.controller.is_busy
    # 1400x850 where it fits; a smaller screen gets most of its area instead.
    screen = window.screen().availableGeometry()
    window.resize(min(1400, int(screen.width() * 0.95)), min(850, int(screen.height() * 0.95)))
    window.show()
    QApplication.processEvents()
    return window


def main(argv: list[str] | None = None) -> int:
    """Run the FitGap window until it is closed; returns the exit status."""
    if (status := preflight(argv)) != 0:  # no display or missing libs: say so, not abort
        return status
    quiet_tensorflow()
    start_logging()
    app = make_application(argv)
    try:
        window = show_window()
    except FitGapError as exc:  # a run store that cannot be opened (damaged, locked)
        logging.getLogger(__name__).error("cannot start: %s", exc)
        return _refuse_to_start(str(exc))
    log_unexpected_errors(window)
    window.start_engine_loading()
    _close_on_ctrl_c(window)
    return app.exec()


def log_unexpected_errors(window) -> None:
    """An exception that reaches the event loop (a bug in a slot): its traceback goes to
    the log, one line to the window's status bar, nothing to the terminal."""
    logger = logging.getLogger("fitgap_gui")

    def hook(kind, exc, tb) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        logger.error("unexpected error", exc_info=(kind, exc, tb))
        with contextlib.suppress(RuntimeError):  # the window is already gone
            window.show_unexpected(exc)

    sys.excepthook = hook


def _refuse_to_start(message: str) -> int:
    """Say why there is no window, on stderr and in a dialog; returns exit status 2."""
    from PySide6.QtWidgets import QMessageBox

    print(f"error: {message}", file=sys.stderr, flush=True)
    QMessageBox.critical(None, "FitGap cannot start", message)
    return 2


def _close_on_ctrl_c(window) -> None:
    """Ctrl+C in the terminal closes the window cleanly (a run is stopped first)."""
    from PySide6.QtCore import QTimer

    signal.signal(signal.SIGINT, lambda *_: window.close())
    # Python runs signal handlers only between bytecodes; an idle timer gives it some.
    timer = QTimer(window)
    timer.timeout.connect(lambda: None)
    timer.start(250)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
