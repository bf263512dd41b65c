"""The controls panel as a user meets it: the wheel scrolls the panel, not the lever
under the pointer, and the levers used most are reachable without scrolling."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QWidget

from fitgap_gui.qt.panels.controls import MAIN_LEVERS


def _wheel(widget: QWidget) -> None:
    """One notch of the wheel, upwards, over ``widget`` (a spin box would step up)."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(
        centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0), QPoint(0, 120),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
        False,
    )  # fmt: skip
    QApplication.sendEvent(widget, event)


def test_the_wheel_changes_a_lever_only_when_it_has_focus(controls, qtbot):
    controls.more_levers.setChecked(True)  # every row: the panel scrolls
    controls.resize(360, 400)
    bar = controls.verticalScrollBar()
    assert bar.maximum() > 0
    for box in (controls.dropout, controls.optimizer, controls.epochs):
        assert box.focusPolicy() == Qt.FocusPolicy.StrongFocus
    bar.setValue(bar.maximum())  # scrolled down: the wheel up has room to scroll
    controls.ensureWidgetVisible(controls.dropout)
    before, scrolled = controls.dropout.value(), bar.value()
    assert scrolled > 0
    _wheel(controls.dropout)
    assert controls.dropout.value() == before  # unchanged: the panel scrolled instead
    assert bar.value() != scrolled
    text = controls.optimizer.currentText()
    _wheel(controls.optimizer)
    assert controls.optimizer.currentText() == text
    # Focused (clicked or tabbed into), it takes the wheel as usual.
    controls.dropout.setFocus()
    qtbot.waitUntil(controls.dropout.hasFocus, timeout=2000)
    _wheel(controls.dropout)
    assert controls.dropout.value() != before


def test_the_main_levers_fit_the_default_window_without_scrolling(window):
    window.resize(1400, 850)  # the default size (app.py)
    window.show()
    controls = window.controls
    QApplication.processEvents()
    assert not controls.more_levers.isChecked()
    assert controls.verticalScrollBar().maximum() == 0
    viewport = controls.viewport()
    for key in ("training.epochs", "early_stopping.patience", "model.dropout", "model.l2"):
        _form, row = controls._rows[key]
        assert row.isVisible(), key
        bottom = row.mapTo(viewport, QPoint(0, row.height())).y()
        assert bottom <= viewport.height(), key
    assert not controls.seed.isVisible() and not controls.batch_size.isVisible()
    assert controls.more_levers.isVisible()
    assert {"training.epochs", "early_stopping.patience"} <= MAIN_LEVERS
    controls.more_levers.setChecked(True)
    assert controls.seed.isVisible() and controls.batch_size.isVisible()
    assert controls.more_levers.text() == "Fewer levers"
