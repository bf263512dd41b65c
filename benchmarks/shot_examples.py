"""Screenshot of Insights → Examples on the window's default setup (offscreen).

The real window trains ``resources/presets/default.json`` (digits, a quarter of the
rows, 20 % of the labels flipped) with its own private store, then the Examples tab is
grabbed: ``resources/screenshots/examples-data-map.png`` (or the path given).

    QT_QPA_PLATFORM=offscreen FITGAP_HOME=$(mktemp -d) python benchmarks/shot_examples.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("FITGAP_HOME", tempfile.mkdtemp(prefix="fitgap-shot-"))


def main(out: str) -> None:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from fitgap_gui.core.config.defaults import default_config
    from fitgap_gui.qt.window.main_window import MainWindow
    from fitgap_gui.qt.window.preferences import ExecutorChoice, save_choice

    app = QApplication.instance() or QApplication(sys.argv)
    save_choice(ExecutorChoice(workers=1))
    window = MainWindow()
    window.resize(1500, 950)
    window.show()

    def wait(signal, start=None, seconds: float = 600) -> None:
        loop = QEventLoop()
        signal.connect(loop.quit)
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        if start is not None:
            start()
        loop.exec()

    wait(window.engine_ready, window.start_engine_loading)
    window.controls.set_config(default_config())
    wait(window.training_ended, window.train)
    insights = window.insights_panel
    window.side_tabs.setCurrentWidget(insights)
    insights.tabs.setCurrentWidget(insights.examples)
    window.splitter.setSizes([280, 560, 660])
    view = insights.examples
    view.repaint_now()
    if view.lowest_list.count():
        view.lowest_list.setCurrentRow(0)  # its margin over the epochs
    for _ in range(20):
        app.processEvents()
    window.grab().save(out)
    view.grab().save(str(Path(out).with_name(Path(out).stem + "-tab.png")))
    print(view.headline.text())
    window.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "resources/screenshots/examples-data-map.png")
