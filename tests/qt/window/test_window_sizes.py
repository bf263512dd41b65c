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


def test_a_long_status_message_wraps_onto_a_second_line_instead_of_being_cut(window):
    bar = window.statusBar()
    window.resize(1400, 850)
    QApplication.processEvents()
    text = (
        "Run 12 completed 15 epochs in 6.8 s. Delivered model (epoch 15, the last): test "
        "accuracy 90.6%, test cross-entropy 0.4186 on 360 rows; training − validation "
        "accuracy -1.5 pp at epoch 15. Best epoch 12 of 15 (lowest val cross-entropy)."
    )
    assert bar.fontMetrics().horizontalAdvance(text) > bar.message_rect().width()
    bar.showMessage(text)
    QApplication.processEvents()
    assert bar.currentMessage() == text and bar.toolTip() == text
    assert bar.height() >= 2 * bar.fontMetrics().lineSpacing()  # room for both lines
    short = "Ready: press Train (Ctrl+R)."
    bar.showMessage(short)
    QApplication.processEvents()
    assert bar.lines_needed(short) == 1 and bar.height() < 2 * bar.fontMetrics().lineSpacing()
