"""Graphics items that keep the plots cheap to repaint with many runs overlaid.

``FrozenLayer`` draws the curves and markers of every finished run of one plot
from a single cached image: Qt would otherwise re-stroke each of them (20 runs x
1,000 points) on every paint the live run triggers.  The items stay in the scene
(their data, pens, visibility and downsampling are unchanged) but are flagged
``ItemHasNoContents``, so the scene skips them and only the layer draws them
(their children, such as a line's label, are still drawn by the scene).  The layer
also draws the plot's background and grid into the image, so that a live epoch's
repaint blits one opaque image instead of blending the grid and every curve again.  The
image is redrawn when the view range or size changes or a frozen curve changes;
painting into anything but a raster device (an SVG export) draws the curves as
vectors instead.

``EpochAxis`` is an x axis that puts ticks on whole epochs only; ``ValueAxis``
writes every tick of a y axis with the same number of decimals (0.0, 0.5, 1.0).
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPaintEngine, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem

_NO_CONTENTS = QGraphicsItem.GraphicsItemFlag.ItemHasNoContents
#: Alpha (0-255) of the major grid lines (pyqtgraph's showGrid(alpha=0.25)).
GRID_ALPHA = 64


def _drawn(item: QGraphicsItem) -> QGraphicsItem:
    """The item that paints: a PlotDataItem draws through its curve child."""
    return item.curve if isinstance(item, pg.PlotDataItem) else item


class FrozenLayer(pg.GraphicsObject):
    """The finished runs' curves of one plot, painted from one cached image."""

    def __init__(self, plot: pg.PlotItem) -> None:
        super().__init__()
        view = plot.getViewBox()
        self.view = view
        self.axes = {"x": plot.getAxis("bottom"), "y": plot.getAxis("left")}
        self.background = QColor("#ffffff")
        self.grid = QColor("#555555")
        self.items: list[QGraphicsItem] = []
        self._image: QImage | None = None
        #: How many times the image was drawn (tests check it is not per paint).
        self.renders = 0
        self.setParentItem(view)  # view-box pixels, clipped to the data area with it
        self.setZValue(-1)  # under the live curves (the view's child group is at 0)
        view.sigTransformChanged.connect(self.invalidate)
        view.sigResized.connect(self.invalidate)

    def freeze(self, item: QGraphicsItem) -> None:
        """Draw ``item`` (a PlotDataItem, a line, a scatter) from the image from now on."""
        if item not in self.items:
            self.items.append(item)
            _drawn(item).setFlag(_NO_CONTENTS, True)
            self.invalidate()

    def thaw(self, item: QGraphicsItem) -> None:
        if item in self.items:
            self.items.remove(item)
            _drawn(item).setFlag(_NO_CONTENTS, False)
            self.invalidate()

    def set_colours(self, background: str, grid: str) -> None:
        self.background, self.grid = QColor(background), QColor(grid)
        self.invalidate()

    def invalidate(self, *_args: object) -> None:
        """Draw the image again at the next paint (data, pens or the view changed)."""
        self._image = None
        self.update()

    def boundingRect(self) -> QRectF:
        return self.view.boundingRect()

    def _grid_colour(self, alpha: float, opaque: bool) -> QColor:
        """The grid colour at ``alpha``; on the opaque image, mixed with the background
        beforehand (the same pixels, but Qt draws opaque lines about twice as fast)."""
        if not opaque:
            colour = QColor(self.grid)
            colour.setAlphaF(alpha)
            return colour
        grid, back = self.grid, self.background
        return QColor.fromRgbF(
            grid.redF() * alpha + back.redF() * (1 - alpha),
            grid.greenF() * alpha + back.greenF() * (1 - alpha),
            grid.blueF() * alpha + back.blueF() * (1 - alpha),
        )

    def _paint_grid(self, painter: QPainter, *, opaque: bool = False) -> None:
        """Lines at the axes' ticks, as pyqtgraph's grid draws them (major stronger)."""
        rect = self.view.boundingRect()
        (x0, x1), (y0, y1) = self.view.viewRange()
        for name, low, high, length in (
            ("x", x0, x1, rect.width()),
            ("y", y0, y1, rect.height()),
        ):
            levels = self.axes[name].tickValues(low, high, length)
            seen: set[float] = set()
            for level, (_spacing, values) in enumerate(levels):
                density = min(max(0.05 * length / (len(values) + 1), 0.0), 1.0)
                alpha = GRID_ALPHA / (level + 1) * density / 255
                painter.setPen(QPen(self._grid_colour(alpha, opaque), 0))
                lines = []
                for value in values:
                    if value in seen:  # a major tick is not drawn again as a minor one
                        continue
                    seen.add(value)
                    if name == "x":
                        x = self.view.mapFromView(QPointF(value, y0)).x()
                        lines.append(QLineF(x, rect.top(), x, rect.bottom()))
                    else:
                        y = self.view.mapFromView(QPointF(x0, value)).y()
                        lines.append(QLineF(rect.left(), y, rect.right(), y))
                painter.drawLines(lines)  # one call per level, not one per line

    def _paint_curves(self, painter: QPainter) -> None:
        for item in self.items:
            drawn = _drawn(item)
            if not drawn.isVisibleTo(self.view):
                continue
            # Qt asks an item for its bounding rect before painting it, and some items
            # (InfiniteLine) compute what they paint there; the scene skips that for
            # items without contents, so ask here.
            drawn.boundingRect()
            transform, _ok = drawn.itemTransform(self)
            painter.save()
            painter.setTransform(transform, True)
            painter.setOpacity(drawn.effectiveOpacity())  # a faint run stays faint
            drawn.paint(painter, None, None)
            painter.restore()

    def paint(self, painter: QPainter, *_args: object) -> None:
        engine = painter.paintEngine()
        if engine is None or engine.type() != QPaintEngine.Type.Raster:
            self._paint_grid(painter)  # SVG and printers get vectors, not a bitmap
            self._paint_curves(painter)
            return
        rect = self.view.boundingRect()
        ratio = painter.device().devicePixelRatioF() if painter.device() else 1.0
        if self._image is None or self._image.devicePixelRatioF() != ratio:
            width, height = max(int(rect.width() * ratio), 1), max(int(rect.height() * ratio), 1)
            # Opaque: drawn with a copy, not blended, at every paint.
            image = QImage(width, height, QImage.Format.Format_RGB32)
            image.setDevicePixelRatio(ratio)
            image.fill(self.background)
            inner = QPainter(image)
            self._paint_grid(inner, opaque=True)
            self._paint_curves(inner)
            inner.end()
            self._image = image
            self.renders += 1
        painter.drawImage(rect.topLeft(), self._image)


class EpochAxis(pg.AxisItem):
    """An epoch axis: ticks on whole epochs only, written as integers."""

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:
        levels = super().tickSpacing(minVal, maxVal, size)
        whole = [(spacing, offset) for spacing, offset in levels if spacing >= 1]
        return whole or [(1.0, 0.0)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [str(round(v * scale)) for v in values]


class ValueAxis(pg.AxisItem):
    """A value axis whose ticks all have the same decimals ("0.5, 1.0", not "0.5, 1").

    pyqtgraph formats each tick level apart (major ticks 0, 1, 2; minor 0.5, 1.5);
    here every level uses the decimals of the finest labelled level.
    """

    _finest = 0.0

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:
        levels = super().tickValues(minVal, maxVal, size)
        spacings = [spacing for spacing, values in levels[:2] if len(values)]
        self._finest = min(spacings) if spacings else 0.0
        return levels

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        if self.logMode or spacing <= 0:
            return super().tickStrings(values, scale, spacing)
        step = min(spacing, self._finest or spacing) * scale
        decimals = 0 if step >= 1 else min(-math.floor(math.log10(step) + 1e-9), 6)
        if step < 1 and not math.isclose(round(step, decimals), step, rel_tol=1e-6):
            decimals += 1  # 0.25 needs two decimals, 0.5 one
        return [f"{v * scale:.{decimals}f}" for v in values]
