"""Qt test fixtures: fail a test that leaves a QThread running; close windows after.

The thread check follows napari's ``_dangling_qthreads``: every ``QThread.start``
during a test is recorded, and after the test (once the top-level widgets are
closed, which is when FitGap stops its threads) any that still runs fails the test.
"""

from __future__ import annotations

import traceback
import weakref

import pytest


@pytest.fixture(scope="session", autouse=True)
def _gc_in_gui_thread(qapp):
    """As in the app: Python's garbage collector runs on the GUI thread only."""
    from fitgap_gui.app import collect_garbage_in_gui_thread

    collect_garbage_in_gui_thread(qapp)


@pytest.fixture(autouse=True)
def _no_dangling_qthreads(qapp, monkeypatch):
    from PySide6.QtCore import QThread
    from PySide6.QtWidgets import QApplication

    started: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    original_start = QThread.start

    def recording_start(self, *args, **kwargs):
        started[self] = "".join(traceback.format_stack(limit=6)[:-1])
        return original_start(self, *args, **kwargs)

    monkeypatch.setattr(QThread, "start", recording_start)
    yield
    for widget in QApplication.topLevelWidgets():
        widget.close()
    QApplication.processEvents()
    dangling = []
    for thread, where in list(started.items()):
        try:
            running = thread.isRunning()
        except RuntimeError:  # the C++ object is gone, so the thread is too
            continue
        if running:
            dangling.append(where)
    if dangling:
        pytest.fail(
            "a QThread is still running after the test; started at:\n" + "\n".join(dangling)
        )


@pytest.fixture
def window(qtbot):
    """The real main window, shown offscreen, with its own run store (FITGAP_HOME).

    Its experiments train in its own process, one run after another (Preferences: one
    worker), so a test sees runs in plan order; tests of parallel runs choose workers.
    """
    from fitgap_gui.qt.window.main_window import MainWindow
    from fitgap_gui.qt.window.preferences import ExecutorChoice, save_choice

    save_choice(ExecutorChoice(workers=1))
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    return win


@pytest.fixture
def ready_window(window, qtbot):
    """The window once TensorFlow is imported and Train is enabled."""
    with qtbot.waitSignal(window.engine_ready, timeout=120_000):
        window.start_engine_loading()
    return window


@pytest.fixture
def panel(qtbot):
    """A bare PlotsPanel, shown offscreen (no window, no TensorFlow)."""
    from fitgap_gui.qt.plots.plots import PlotsPanel

    panel = PlotsPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    return panel


@pytest.fixture
def finished_runs(qtbot):
    """Start a sequence with ``start()`` in ``window``; the stored runs once it has ended."""
    from fitgap_gui.core.store.runstore import RunStore

    def run(window, start, timeout: int = 240_000) -> list:
        with qtbot.waitSignal(window.training_ended, timeout=timeout):
            assert start()
        return sorted(RunStore().list_runs(), key=lambda r: r.run_id)

    return run
