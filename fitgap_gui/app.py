"""The GUI entry point: the window first, TensorFlow after it is on screen.

Importing TensorFlow takes seconds, so ``main`` shows the window before anything
heavy is imported (no tensorflow, keras, scikit-learn or data here) and starts the
import on a background thread; Train is enabled once it is done.
"""

from __future__ import annotations

import gc
import os
import sys


def make_application(argv: list[str] | None = None):
    """The QApplication, named so that QSettings has a home."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
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
        from pyqtgraph.util.garbage_collector import GarbageCollector

        app._fitgap_gc = GarbageCollector(interval=1.0)


def _app_icon():
    """FitGap's icon from resources/icons (PNG sizes; the SVG needs Qt's SVG plugin)."""
    from PySide6.QtGui import QIcon

    from .qt.resources import resources_dir

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

    from .qt.main_window import MainWindow

    window = MainWindow()
    # TensorFlow leaves ~400,000 long-lived objects: every full collection of the
    # GUI-thread collector above then stalled the window for 0.2-0.9 s (measured by
    # benchmarks/bench_responsive.py).  Once it is loaded, they leave the collector's view.
    window.engine_ready.connect(gc.freeze)
    # 1400x850 where it fits; a smaller screen gets most of its area instead.
    screen = window.screen().availableGeometry()
    window.resize(min(1400, int(screen.width() * 0.95)), min(850, int(screen.height() * 0.95)))
    window.show()
    QApplication.processEvents()
    return window


def main(argv: list[str] | None = None) -> int:
    """Run the FitGap window until it is closed; returns the exit status."""
    from .qtcheck import preflight

    if (status := preflight(argv)) != 0:  # no display or missing libs: say so, not abort
        return status
    app = make_application(argv)
    window = show_window()
    window.start_engine_loading()
    _close_on_ctrl_c(window)
    return app.exec()


def _close_on_ctrl_c(window) -> None:
    """Ctrl+C in the terminal closes the window cleanly (a run is stopped first)."""
    import signal

    from PySide6.QtCore import QTimer

    signal.signal(signal.SIGINT, lambda *_: window.close())
    # Python runs signal handlers only between bytecodes; an idle timer gives it some.
    timer = QTimer(window)
    timer.timeout.connect(lambda: None)
    timer.start(250)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
