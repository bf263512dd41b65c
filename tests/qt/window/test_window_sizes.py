"""The window at its default and minimum sizes: the progress box shows its whole text,
and every plot keeps a readable height."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

TEXTS = ("run 18: early-stopped at epoch 17 of 60", "2 of 15 runs finished, 2 training")


def test_the_progress_box_never_cuts_its_text(window):
    box = window.progress
    for size in ((1400, 850), (window.minimumSizeHint().width(), 600)):
        window.resize(*size)
        for text in TEXTS:
            box.setFormat(text)
            QApplication.processEvents()
            needed = box.fontMetrics().horizontalAdvance(box.text())
            assert box.width() >= needed + 8, (size, text, box.width(), needed)
            assert box.toolTip() == text


def test_at_the_minimum_size_every_plot_keeps_a_readable_height(window):
    from fitgap_gui.qt.plots.plots import PLOT_MIN_HEIGHT

    hint = window.minimumSizeHint()
    window.resize(hint.width(), hint.height())
    QApplication.processEvents()
    for name, plot in window.plots.plots.items():
        if plot.isVisible():
            assert plot.height() >= PLOT_MIN_HEIGHT, (name, plot.height())
