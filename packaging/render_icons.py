"""Render resources/icons/fitgap.svg to the PNG sizes a desktop theme asks for.

Run after editing the SVG: ``.venv/bin/python packaging/render_icons.py``.  The PNGs are
committed, so neither the app nor ``fitgap install-desktop`` needs QtSvg at run time.
"""

from __future__ import annotations

import os
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SIZES = (16, 32, 48, 64, 128, 256)


def render(svg: Path, sizes: tuple[int, ...] = SIZES) -> list[Path]:
    """Write ``fitgap-<size>.png`` next to ``svg`` for each size; returns their paths."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"error: {svg} is not a valid SVG")
    written = []
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        out = svg.with_name(f"fitgap-{size}.png")
        if not image.save(str(out)):
            raise SystemExit(f"error: cannot write {out}")
        written.append(out)
    return written


if __name__ == "__main__":
    for path in render(ICONS / "fitgap.svg"):
        print(path)
