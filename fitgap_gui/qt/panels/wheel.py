"""The mouse wheel changes a spin box or combo box only when it has focus.

The desktop convention: scrolling a panel over its controls scrolls the panel, and
never changes the lever under the pointer (Dropout 0.00 -> 0.10 by accident).  A
control takes the wheel once clicked or tabbed into.  ``guard_wheel(root)`` is the one
place that does it, for every spin box and combo box under ``root``: each gets
``Qt.StrongFocus`` (not the default wheel focus) and an event filter that hands an
unfocused wheel to the scroll area around it (or, with none, lets it propagate).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QWidget,
)


class _WheelOnlyWhenFocused(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if (
            event.type() == QEvent.Type.Wheel
            and isinstance(watched, QWidget)
            and not watched.hasFocus()
        ):
            area = watched.parentWidget()
            while area is not None and not isinstance(area, QAbstractScrollArea):
                area = area.parentWidget()
            if area is not None:  # the panel scrolls, as if the control were not there
                QApplication.sendEvent(area.viewport(), event)
            else:
                event.ignore()  # not accepted: Qt hands it on to the parent widgets
            return True
        return False


def guard_wheel(root: QWidget) -> None:
    """Every spin box and combo box under ``root`` takes the wheel only when focused."""
    guard = root.findChild(_WheelOnlyWhenFocused)
    if guard is None:
        guard = _WheelOnlyWhenFocused(root)
    for widget in root.findChildren(QAbstractSpinBox) + root.findChildren(QComboBox):
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        widget.removeEventFilter(guard)
        widget.installEventFilter(guard)
