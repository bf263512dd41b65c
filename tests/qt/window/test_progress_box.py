"""The top bar's progress box shows its whole text at the default and minimum sizes."""

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
