"""The top bar's progress box: never cuts its text.

A ``QProgressBar`` keeps its size hint whatever its text says, so "run 18:
early-stopped at epoch 17 of 60" was cut to "run 18: early-stopped at ep".
``ProgressBox`` asks for the width of the text it shows now (``%v``/``%m``
filled in), so the layout makes room for it; its tooltip holds the same text.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QProgressBar

#: Room for the frame and the text's margins, in pixels.
PADDING = 24


class ProgressBox(QProgressBar):
    def __init__(self) -> None:
        super().__init__()
        self.valueChanged.connect(lambda _value: self._text_changed())

    def setFormat(self, text: str) -> None:  # noqa: N802 - Qt's name
        super().setFormat(text)
        self._text_changed()

    def setRange(self, lo: int, hi: int) -> None:  # noqa: N802 - Qt's name
        super().setRange(lo, hi)
        self._text_changed()

    def _text_changed(self) -> None:
        self.setToolTip(self.text())
        self.updateGeometry()

    def text_width(self) -> int:
        """The pixels its text needs, with the frame."""
        return self.fontMetrics().horizontalAdvance(self.text()) + PADDING

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        hint = super().minimumSizeHint()
        return QSize(max(hint.width(), self.text_width()), hint.height())

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        hint = super().sizeHint()
        return QSize(max(hint.width(), self.text_width()), hint.height())
