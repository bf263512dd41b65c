"""Two pictures of the Insights tab, each a plain widget fed plain numpy.

* ``WeightNormsView``: the L2 norm of each hidden layer's kernel per epoch (the
  previous run stays as faint dashed curves, so "with L2" vs "without" compares).
* ``BoundaryView``: class regions over a grid around 2-D data, with the training
  points filled and the validation points hollow.
* ``ValidationView`` (insights_validation.py): the confusion matrix and mistakes.

Each view shows a sentence instead of its picture when it has nothing to show or
the data cannot have it (``show_message``).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from fitgap_gui.core.formatting import format_duration, format_percent, run_label
from fitgap_gui.qt.plots.theme import LIGHT, PlotTheme


def wrapped_label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class MessageStack(QStackedWidget):
    """A view's content, or a centred sentence saying why it is not shown."""

    def __init__(self, content: QWidget) -> None:
        super().__init__()
        self.message = wrapped_label()
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setMargin(16)
        self.content = content
        self.addWidget(self.message)
        self.addWidget(content)

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.setCurrentWidget(self.message)

    def show_content(self) -> None:
        self.setCurrentWidget(self.content)

    def showing_content(self) -> bool:
        return self.currentWidget() is self.content


def _style_plot(plot: pg.PlotWidget, theme: PlotTheme) -> None:
    plot.setBackground(theme.background)
    for axis in ("left", "bottom"):
        plot.getAxis(axis).setTextPen(theme.foreground)
        plot.getAxis(axis).setPen(theme.axis)


# -- weight norms ------------------------------------------------------------------------------
class WeightNormsView(MessageStack):
    """One curve per hidden layer: its kernel's L2 norm after each epoch."""

    def __init__(self) -> None:
        self.plot = pg.PlotWidget()
        self.plot.setLabel("bottom", "epoch")
        self.plot.setLabel("left", "‖W‖₂ (kernel norm)")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.legend = self.plot.addLegend(offset=(8, 8))
        super().__init__(self.plot)
        self.theme = LIGHT
        self.curves: list[pg.PlotDataItem] = []
        self._previous: list[pg.PlotDataItem] = []
        self._points: list[list[tuple[int, float]]] = []
        self._names: list[str] = []
        self._run_title = ""
        self._title = ""
        self.show_message("Train a run to see how large each hidden layer's weights grow.")

    def begin_run(
        self, run_id: int, hidden_units: list[int], theme: PlotTheme, levers: str = ""
    ) -> None:
        """Keep the last run's curves, dashed, for comparison (L2 vs none); start new ones.

        ``levers`` says what regularizes the run ("L2 0.01", "no L2"), for the title.
        """
        self.apply_theme(theme)
        for item in self._previous:
            self.plot.removeItem(item)
        self._previous = []
        for curve in self.curves:
            colour = curve.opts["pen"].color()
            curve.setPen(pg.mkPen(colour, width=1.2, style=Qt.PenStyle.DashLine))
            self.legend.removeItem(curve)
            self._previous.append(curve)
        title = run_label(run_id, capital=True) + (f" ({levers})" if levers else "")
        if self._previous:
            self.legend.addItem(self._previous[0], f"{self._run_title} (dashed)")
            title += f" · dashed: {self._run_title}"
        self._title = title
        self.plot.setTitle(title, color=theme.foreground, size="10pt")
        self._run_title = run_label(run_id) + (f" {levers}" if levers else "")
        self.curves, self._points = [], []
        self._names = [f"hidden {i + 1} ({u} units)" for i, u in enumerate(hidden_units)]

    def apply_theme(self, theme: PlotTheme) -> None:
        self.theme = theme
        _style_plot(self.plot, theme)
        self.legend.setLabelTextColor(theme.foreground)
        self.legend.setBrush(pg.mkBrush(*theme.legend_brush))
        self.legend.setPen(pg.mkPen(theme.legend_pen))
        if self._title:
            self.plot.setTitle(self._title, color=theme.foreground, size="10pt")

    def add_epoch(self, epoch: int, norms: list[float | None]) -> None:
        while len(self.curves) < len(norms):
            i = len(self.curves)
            name = self._names[i] if i < len(self._names) else f"hidden {i + 1}"
            colour = self.theme.palette[i % len(self.theme.palette)]
            curve = self.plot.plot([], [], pen=pg.mkPen(colour, width=2), name=name)
            self.curves.append(curve)
            self._points.append([])
        for curve, points, norm in zip(self.curves, self._points, norms, strict=False):
            if norm is not None:
                points.append((epoch, norm))
                xs, ys = zip(*points, strict=True)
                curve.setData(list(xs), list(ys))
        if self.curves:
            self.show_content()
        else:
            self.show_message("This network has no hidden layer, so there is no weight norm.")


# -- decision boundary ------------------------------------------------------------------------
def class_colours(theme: PlotTheme, n: int) -> np.ndarray:
    """(n, 3) RGB, 0-255, from the theme's palette."""
    colours = [pg.mkColor(theme.palette[i % len(theme.palette)]) for i in range(n)]
    return np.array([[c.red(), c.green(), c.blue()] for c in colours], dtype=np.float32)


def region_image(probabilities: np.ndarray, colours: np.ndarray, background: str) -> np.ndarray:
    """RGBA (x, y, 4) uint8: each cell tinted with its class, stronger where surer.

    ``probabilities`` is ``(ny, nx, k)`` as ``core.insights.DecisionGrid`` has it.
    """
    k = probabilities.shape[-1]
    winner = probabilities.argmax(axis=-1)
    sure = (probabilities.max(axis=-1) - 1.0 / k) / (1.0 - 1.0 / k)  # 0 at a tie, 1 certain
    weight = (0.12 + 0.38 * np.clip(sure, 0.0, 1.0))[..., None]
    bg = pg.mkColor(background)
    base = np.array([bg.red(), bg.green(), bg.blue()], dtype=np.float32)
    rgb = base * (1.0 - weight) + colours[winner] * weight
    rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255.0)], axis=-1)
    return np.ascontiguousarray(rgba.transpose(1, 0, 2).astype(np.uint8))  # ImageItem: [x, y]


def margins(probabilities: np.ndarray) -> np.ndarray:
    """Per class, its probability minus the best other one, ``(k, y, x)``: 0 on its border."""
    out = []
    for c in range(probabilities.shape[-1]):
        others = np.delete(probabilities, c, axis=-1).max(axis=-1)
        out.append(probabilities[..., c] - others)
    return np.stack(out)


def zero_crossings(field: np.ndarray, xs: np.ndarray, ys: np.ndarray):
    """Line segments where ``field`` (rows: y) crosses zero, as (x, y) point pairs.

    Marching squares, vectorized: each grid cell whose corners change sign gets a
    segment between the interpolated crossings on its edges (a saddle gets two).
    About a millisecond for a 100 x 100 grid, where pyqtgraph's IsocurveItem took
    20-300 ms of the GUI thread per refresh on a jagged boundary.
    """
    pos = field > 0
    f = field.astype(np.float64)

    def cut(f0, f1):  # where between two corners the value is zero (0..1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.clip(np.nan_to_num(f0 / (f0 - f1)), 0.0, 1.0)

    # Crossings on horizontal edges (i, j)-(i, j+1) and vertical edges (i, j)-(i+1, j).
    h_cross = pos[:, :-1] != pos[:, 1:]
    h_x = xs[:-1] + cut(f[:, :-1], f[:, 1:]) * np.diff(xs)
    h_y = np.broadcast_to(ys[:, None], h_x.shape)
    v_cross = pos[:-1, :] != pos[1:, :]
    v_y = ys[:-1, None] + cut(f[:-1, :], f[1:, :]) * np.diff(ys)[:, None]
    v_x = np.broadcast_to(xs[None, :], v_y.shape)
    # Each cell's edges in the order bottom, left, top, right: for a saddle (four
    # crossings) the pairs (bottom, left) and (top, right) are one valid reading.
    cross = np.stack([h_cross[:-1], v_cross[:, :-1], h_cross[1:], v_cross[:, 1:]])
    px = np.stack([h_x[:-1], v_x[:, :-1], h_x[1:], v_x[:, 1:]])
    py = np.stack([h_y[:-1], v_y[:, :-1], h_y[1:], v_y[:, 1:]])
    count = cross.sum(axis=0)
    first = np.argsort(~cross, axis=0, kind="stable")  # crossing edges first, in order
    segments_x, segments_y = [], []
    for a, b, cells in ((0, 1, count >= 2), (2, 3, count == 4)):
        ia, ib = first[a][cells], first[b][cells]
        cx, cy = px[:, cells], py[:, cells]
        n = np.arange(cells.sum())
        segments_x.append(np.column_stack([cx[ia, n], cx[ib, n]]).ravel())
        segments_y.append(np.column_stack([cy[ia, n], cy[ib, n]]).ravel())
    return np.concatenate(segments_x), np.concatenate(segments_y)


class BoundaryView(MessageStack):
    """Class regions over the data, the boundary line, and the points on top."""

    def __init__(self) -> None:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.PlotWidget()
        self.plot.setAspectLocked(False)
        self.plot.setLabel("bottom", "x₁")
        self.plot.setLabel("left", "x₂")
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        # Segments in pairs: one item, one path, drawn in the plot's coordinates.
        self.boundary_line = pg.PlotCurveItem(connect="pairs")
        self.plot.addItem(self.boundary_line)
        self.train_points = pg.ScatterPlotItem(size=7, pxMode=True)
        self.val_points = pg.ScatterPlotItem(size=8, pxMode=True)
        self.plot.addItem(self.train_points)
        self.plot.addItem(self.val_points)
        self.caption = wrapped_label()
        column.addWidget(self.plot, 1)
        column.addWidget(self.caption)
        super().__init__(box)
        self.theme = LIGHT
        self.updates = 0  # grids drawn since the run began (tests, status)
        self._dataset = None
        self._last: dict | None = None  # the grid on show, redrawn on a theme change
        self.grid_shape: tuple[int, ...] | None = None
        self.show_message(
            "Train on 2-D data (moons, circles, spirals or xor) to watch the decision "
            "boundary being learned."
        )

    def set_points(self, dataset, theme: PlotTheme) -> None:
        """The run's training (filled) and validation (hollow) points, coloured by class."""
        self.updates = 0
        self.grid_shape = None
        self._dataset, self._last = dataset, None
        self.image.clear()
        self.boundary_line.setData([], [])
        self.apply_theme(theme)
        self.caption.setText(
            f"{len(dataset.x_train)} training points (filled) and {len(dataset.x_val)} "
            "validation points (hollow). The boundary appears after the first epoch."
        )
        self.show_content()

    def apply_theme(self, theme: PlotTheme) -> None:
        """Recolour the plot, the points and the last grid for a light or dark background."""
        self.theme = theme
        _style_plot(self.plot, theme)
        dataset = self._dataset
        if dataset is None:
            return
        colours = [pg.mkColor(theme.palette[i % len(theme.palette)]) for i in range(8)]
        self.train_points.setData(
            pos=dataset.x_train,
            brush=[pg.mkBrush(colours[int(c) % 8]) for c in dataset.y_train],
            pen=pg.mkPen(theme.marker, width=0.8),
            symbol="o",
        )
        self.val_points.setData(
            pos=dataset.x_val,
            brush=pg.mkBrush(0, 0, 0, 0),
            pen=[pg.mkPen(colours[int(c) % 8], width=2) for c in dataset.y_val],
            symbol="o",
        )
        if self._last is not None:
            self._draw(self._last)

    def show_grid(self, payload: dict) -> None:
        self._last = payload
        self._draw(payload)
        self.updates += 1

    def _draw(self, payload: dict) -> None:
        # A diverged run predicts NaN: draw a tie (no colour, no line), not garbage.
        probabilities = np.nan_to_num(payload["probabilities"], nan=0.0)
        xs, ys = payload["xs"], payload["ys"]
        self.image.setImage(
            region_image(
                probabilities,
                class_colours(self.theme, probabilities.shape[-1]),
                self.theme.background,
            ),
            autoLevels=False,
        )
        # Cell centres are the grid points: the image spans half a cell further.
        dx = (xs[-1] - xs[0]) / max(len(xs) - 1, 1)
        dy = (ys[-1] - ys[0]) / max(len(ys) - 1, 1)
        rect = QRectF(xs[0] - dx / 2, ys[0] - dy / 2, dx * len(xs), dy * len(ys))
        self.image.setRect(rect)
        self._draw_boundary(probabilities, np.asarray(xs), np.asarray(ys))
        self.grid_shape = probabilities.shape[:2]
        if payload["final"]:
            when = f"Final boundary: weights of epoch {payload['epoch']} ({payload['which']})."
        else:
            when = f"Live boundary after epoch {payload['epoch']}."
        self.caption.setText(
            f"{when} Filled: training points, hollow: validation points. "
            f"Refresh {format_duration(payload['seconds'])}, "
            f"{format_percent(payload['share'])} of training time so far."
        )

    def _draw_boundary(self, probabilities: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> None:
        k = probabilities.shape[-1]
        fields = margins(probabilities)[: 1 if k == 2 else k]  # two classes: one line
        parts = [zero_crossings(field, xs, ys) for field in fields]
        self.boundary_line.setPen(pg.mkPen(self.theme.foreground, width=1.6))
        self.boundary_line.setData(
            np.concatenate([x for x, _ in parts]), np.concatenate([y for _, y in parts])
        )
