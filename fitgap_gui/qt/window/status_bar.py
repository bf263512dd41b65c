"""The window's status line: a message too long for one line wraps onto a second.

``QStatusBar`` draws its message on one line and cuts it at the right edge ("... test
cross-entropy 0.4186 on 360 rows; ... lowest val cross er").  This bar keeps
``showMessage``/``currentMessage`` as they are and only paints differently: the message
word-wrapped in the room left of the permanent widgets (the busy bar), the bar two lines
tall while it needs them, and the whole message as its tooltip.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QStatusBar, QWidget

#: Space around the message, as QStatusBar leaves it.
MARGIN = 6


class WrappingStatusBar(QStatusBar):
    """A status bar whose message wraps instead of being cut (see the module)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeGripEnabled(False)
        self.messageChanged.connect(self._fit)

    def message_rect(self) -> QRect:
        """Where the message goes: left of the visible permanent widgets."""
        right = self.width() - MARGIN
        for child in self.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly):
            if child.isVisible() and child.x() > self.width() // 2:
                right = min(right, child.x() - MARGIN)
        return QRect(MARGIN, 0, max(right - MARGIN, 1), self.height())

    def lines_needed(self, text: str) -> int:
        """1 or 2: the lines ``text`` takes, wrapped at word boundaries in the room."""
        room = self.message_rect().width()
        flags = int(Qt.TextFlag.TextWordWrap)
        height = self.fontMetrics().boundingRect(QRect(0, 0, room, 10_000), flags, text).height()
        return 2 if height > self.fontMetrics().lineSpacing() * 1.5 else 1

    def _fit(self, text: str) -> None:
        self.setToolTip(text)
        lines = self.lines_needed(text) if text else 1
        self.setMinimumHeight(self.fontMetrics().lineSpacing() * lines + 8)
        self.update()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit(self.currentMessage())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        text = self.currentMessage()
        if not text:
            super().paintEvent(event)
            return
        painter = QPainter(self)
        painter.setPen(self.palette().windowText().color())
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(self.message_rect(), int(flags) | int(Qt.TextFlag.TextWordWrap), text)
