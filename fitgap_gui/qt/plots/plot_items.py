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

``LiveCurve`` draws a curve that grows one point per epoch: it keeps its path and
adds the new segment to it, and tells Qt that only that segment changed, so a
live epoch repaints a few pixels of each plot instead of the whole plot.

``EpochAxis`` is an x axis that puts ticks on whole epochs only; ``ValueAxis``
writes every tick of a y axis with the same number of decimals (0.0, 0.5, 1.0).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPaintEngine, QPainter, QPainterPath, QPen
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
            try:
                self._paint_grid(inner, opaque=True)
                self._paint_curves(inner)
            finally:  # a painter left open on a dropped image crashes Qt
                inner.end()
            self._image = image
            self.renders += 1
        painter.drawImage(rect.topLeft(), self._image)


class LiveCurve(pg.GraphicsObject):
    """A curve that grows by a point per epoch and repaints only its new segment.

    pyqtgraph's ``PlotDataItem`` re-checks, re-clips and re-bounds the whole array at
    every ``setData``, and its bounding rect (the data's extent) changes with every
    point, so Qt repaints the whole plot, axes included.  Here the bounding rect is
    the view's visible range (it changes only with the view), a ``setData`` that
    adds points to the end extends the kept path, and only the rectangle of the new
    segments is marked for repainting.  Anything else rebuilds the path.

    It offers what the panel uses of a ``PlotDataItem``: ``xData``/``yData`` (the
    values given, not their log), ``setData``, ``setPen`` (and ``opts["pen"]``), ``setLogMode`` (a log-y
    plot) and ``dataBounds`` (pyqtgraph's autorange, for "ignore outliers").
    """

    def __init__(self) -> None:
        super().__init__()
        self.xData: np.ndarray | None = None
        self.yData: np.ndarray | None = None
        #: As pyqtgraph's curves keep it: ``opts["pen"]``.
        self.opts: dict[str, object] = {"pen": pg.mkPen(None)}
        self.log_y = False
        self._path = QPainterPath()
        #: The last point drawn (x, y in drawn units), None when the next one starts anew.
        self._last: tuple[float, float] | None = None
        self._rect: QRectF | None = None

    # -- data ----------------------------------------------------------------------------------
    def setData(self, x: object, y: object) -> None:
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        old = 0 if self.xData is None else len(self.xData)
        grows = (
            0 < old < len(x)
            and len(y) == len(x)
            and np.array_equal(self.xData, x[:old])
            and np.array_equal(self.yData, y[:old], equal_nan=True)
        )
        self.xData, self.yData = x, y
        if not grows:
            self._rebuild()
            self.update()
            return
        # The new segments: from the last point drawn through each new finite point.
        corners = [QPointF(*self._last)] if self._last is not None else []
        for px, py in zip(x[old:], self._drawn_y(y[old:]), strict=True):
            if not (math.isfinite(px) and math.isfinite(py)):
                self._last = None  # a gap: the next finite point starts a new line
                continue
            point = QPointF(px, py)
            if self._last is None:
                self._path.moveTo(point)
            else:
                self._path.lineTo(point)
            self._last = (float(px), float(py))
            corners.append(point)
        if corners:
            xs, ys = [c.x() for c in corners], [c.y() for c in corners]
            dirty = QRectF(QPointF(min(xs), min(ys)), QPointF(max(xs), max(ys)))
            self.update(self._padded(dirty))

    def _drawn_y(self, y: np.ndarray) -> np.ndarray:
        if not self.log_y:
            return y
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(y > 0, np.log10(np.where(y > 0, y, 1.0)), np.nan)

    def _rebuild(self) -> None:
        self._path = QPainterPath()
        self._last = None
        if self.xData is None or not len(self.xData):
            return
        y = self._drawn_y(self.yData)
        self._path = pg.arrayToQPath(self.xData, y, connect="finite")
        finite = np.flatnonzero(np.isfinite(self.xData) & np.isfinite(y))
        if len(finite) and finite[-1] == len(y) - 1:
            self._last = (float(self.xData[-1]), float(y[-1]))
            if self._path.elementCount() == 0:
                # One point makes no path; without a moveTo the next lineTo would
                # start the curve at (0, 0).
                self._path.moveTo(QPointF(*self._last))

    def _padded(self, rect: QRectF) -> QRectF:
        """``rect`` grown by a few pixels (the pen and antialiasing reach past a point)."""
        px, py = self.pixelVectors()
        dx = 3 * (px.length() if px is not None else 0.0)
        dy = 3 * (py.length() if py is not None else 0.0)
        return rect.adjusted(-dx, -dy, dx, dy)

    def setPen(self, pen: object) -> None:
        self.opts["pen"] = pg.mkPen(pen)
        self.update()

    def setLogMode(self, x: bool, y: bool) -> None:
        if bool(y) != self.log_y:
            self.log_y = bool(y)
            self._rebuild()
            self.update()

    def dataBounds(
        self, ax: int, frac: float = 1.0, orthoRange: tuple[float, float] | None = None
    ) -> tuple[float | None, float | None]:
        if self.xData is None or not len(self.xData):
            return (None, None)
        y = self._drawn_y(self.yData)
        values, other = (self.xData, y) if ax == 0 else (y, self.xData)
        if orthoRange is not None:
            values = values[(other >= orthoRange[0]) & (other <= orthoRange[1])]
        values = values[np.isfinite(values)]
        if not values.size:
            return (None, None)
        if frac >= 1.0:
            return (float(values.min()), float(values.max()))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            low, high = np.percentile(values, [50 * (1 - frac), 50 * (1 + frac)])
        return (float(low), float(high))

    # -- drawing -------------------------------------------------------------------------------
    def viewTransformChanged(self) -> None:
        super().viewTransformChanged()
        self.prepareGeometryChange()  # the bounding rect is the view's range
        self._rect = None

    def boundingRect(self) -> QRectF:
        if self._rect is None:
            view = self.viewRect()
            if view is None:
                return QRectF()
            self._rect = self._padded(view)
        return self._rect

    def paint(self, painter: QPainter, *_args: object) -> None:
        if self._path.isEmpty():
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setPen(self.opts["pen"])
        painter.drawPath(self._path)


def _round_mantissa(log_value: float) -> bool:
    """Whether 10**log_value is 1, 2 or 5 times a power of ten."""
    mantissa = 10 ** (log_value - math.floor(log_value + 1e-9))
    return any(math.isclose(mantissa, m, rel_tol=1e-6) for m in (1.0, 2.0, 5.0, 10.0))


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
        # On a log axis the minor level has no spacing (None): 2, 3, ... 9 of a decade.
        spacings = [s for s, values in levels[:2] if len(values) and s is not None]
        self._finest = min(spacings) if spacings else 0.0
        return levels

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        if self.logMode:
            # Only 1, 2 and 5 of each decade get text: a narrow log range otherwise
            # labels 6, 7, 8, 9 and 10 of a decade one on top of the other.
            texts = super().tickStrings(values, scale, spacing)
            return [t if _round_mantissa(v) else "" for v, t in zip(values, texts, strict=True)]
        if spacing <= 0:
            return super().tickStrings(values, scale, spacing)
        step = min(spacing, self._finest or spacing) * scale
        decimals = 0 if step >= 1 else min(-math.floor(math.log10(step) + 1e-9), 6)
        if step < 1 and not math.isclose(round(step, decimals), step, rel_tol=1e-6):
            decimals += 1  # 0.25 needs two decimals, 0.5 one
        return [f"{v * scale:.{decimals}f}" for v in values]
