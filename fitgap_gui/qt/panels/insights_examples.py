"""The Insights → Examples tab: which training examples the network memorizes.

It shows one run's per-example dynamics (``core.results.examples.ExampleDynamics``),
live from the worker's ``"examples"`` insight or, for a stored run, from the store:

* the data map: confidence (mean probability of the given label) against variability
  (its standard deviation over the epochs), coloured flipped / not flipped when label
  noise is on, by given class otherwise;
* how well the k lowest mean margins pick out the flipped labels (precision per epoch,
  k = the number flipped), beside the memorized-noise meter;
* the lowest-margin and most-forgotten examples, each with its thumbnail (images) or
  its first values (tables), given and predicted label; choosing one draws its margin
  over the epochs;
* "Retrain without the k lowest" / "Relabel them as predicted": ``clean_requested``.

The view is fed plain numpy; it never touches a Keras model.  Repaints are coalesced
by a short timer, so a fast run costs at most a few repaints a second.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from fitgap_gui.core.diagnosis.insights import example_image
from fitgap_gui.core.formatting import format_percent, run_label
from fitgap_gui.core.results.examples import ExampleDynamics, lowest
from fitgap_gui.qt.panels.insights_validation import thumbnail
from fitgap_gui.qt.panels.insights_views import wrapped_label
from fitgap_gui.qt.plots.theme import LIGHT, PlotTheme

#: Examples listed in each of the two lists.
LISTED = 12
#: Okabe-Ito colours: flipped labels (vermillion) and the others (blue).
FLIPPED_RGB = (213, 94, 0)
CLEAN_RGB = (0, 114, 178)
#: The slowest repaint rate: at most one every this many milliseconds.
REPAINT_MS = 250
THUMB = 28


def _plot(title: str, left: str, bottom: str) -> pg.PlotWidget:
    plot = pg.PlotWidget()
    plot.setTitle(title, size="9pt")
    plot.setLabel("left", left)
    plot.setLabel("bottom", bottom)
    plot.showGrid(x=True, y=True, alpha=0.2)
    plot.setMenuEnabled(False)
    plot.setMinimumHeight(170)
    plot.setMaximumHeight(230)
    for axis in ("left", "bottom"):
        plot.getAxis(axis).enableAutoSIPrefix(False)
    return plot


class ExamplesView(QWidget):
    """One run's per-example dynamics; see the module docstring."""

    #: (parent run id, "drop" | "relabel", k): the user asked for a cleaned run.
    clean_requested = Signal(int, str, int)

    def __init__(self) -> None:
        super().__init__()
        self.theme: PlotTheme = LIGHT
        self.run_id: int | None = None
        self.dynamics: ExampleDynamics | None = None
        self.dataset = None
        self.class_names: list[str] = []
        self.memorized: list[tuple[int, float]] = []
        self.selected: int | None = None  # position in the dynamics' rows
        self.final = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REPAINT_MS)
        self._timer.timeout.connect(self.repaint_now)

        self.headline = wrapped_label("No run yet: train one, or choose a stored run.")
        self.map_plot = _plot("Data map", "confidence", "variability")
        self.map_plot.setMinimumHeight(240)
        self.map_plot.setMaximumHeight(300)
        self.map_plot.setYRange(0, 1, padding=0.02)
        self.scatter = pg.ScatterPlotItem(size=6, pen=None)
        self.scatter.sigClicked.connect(self._on_point_clicked)
        self.map_plot.addItem(self.scatter)
        self.map_legend = self.map_plot.addLegend(offset=(5, -5), labelTextSize="8pt")
        self.precision_plot = _plot("Suspects vs the truth", "share", "epoch")
        self.precision_plot.setYRange(0, 1, padding=0.02)
        self.precision_plot.addLegend(offset=(-5, -5), labelTextSize="8pt")
        self.precision_curve = self.precision_plot.plot(
            [], [], pen=pg.mkPen(FLIPPED_RGB, width=2), name="precision of the k lowest"
        )
        self.memorized_curve = self.precision_plot.plot(
            [], [], pen=pg.mkPen((120, 120, 120), width=1), name="memorized noise"
        )
        self.chance = pg.InfiniteLine(angle=0, pen=pg.mkPen((150, 150, 150), style=Qt.DashLine))
        self.precision_plot.addItem(self.chance)
        self.margin_plot = _plot("Margin of the chosen example", "margin", "epoch")
        self.margin_curve = self.margin_plot.plot([], [], pen=pg.mkPen(CLEAN_RGB, width=2))
        self.margin_plot.addItem(pg.InfiniteLine(angle=0, pen=pg.mkPen((150, 150, 150))))

        self.lowest_list = self._list()
        self.forgotten_list = self._list()
        self.k_box = QSpinBox()
        self.k_box.setRange(1, 1)
        self.k_box.setPrefix("k = ")
        self.k_box.setToolTip(
            "How many of the lowest-margin examples (default: as many as flipped)"
        )
        self.drop_button = QPushButton("Retrain without the k lowest")
        self.relabel_button = QPushButton("Relabel them as predicted")
        for button, mode in ((self.drop_button, "drop"), (self.relabel_button, "relabel")):
            button.setToolTip(
                "A new run from scratch, same seed and split, linked to this one; the two "
                "delivered models' test numbers show whether cleaning helped"
            )
            button.clicked.connect(lambda _=False, m=mode: self._request(m))
        self.relabel_button.setToolTip(
            self.relabel_button.toolTip() + ". Each gets the class the run predicted at its "
            "best epoch (by its last, a network often predicts the memorized labels back)"
        )

        content = QWidget()
        grid = QGridLayout(content)
        grid.addWidget(self.headline, 0, 0, 1, 2)
        grid.addWidget(self.map_plot, 1, 0, 1, 2)
        grid.addWidget(self.precision_plot, 2, 0)
        grid.addWidget(self.margin_plot, 2, 1)
        grid.addWidget(QLabel("<b>Lowest margin</b> (mean so far)"), 3, 0)
        grid.addWidget(QLabel("<b>Most forgotten</b>"), 3, 1)
        grid.addWidget(self.lowest_list, 4, 0)
        grid.addWidget(self.forgotten_list, 4, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.k_box)
        buttons.addWidget(self.drop_button)
        buttons.addWidget(self.relabel_button)
        buttons.addStretch(1)
        grid.addLayout(buttons, 5, 0, 1, 2)
        grid.setRowStretch(4, 1)  # the lists take what is left
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        self._set_buttons()

    def _list(self) -> QListWidget:
        widget = QListWidget()
        widget.setIconSize(QSize(THUMB, THUMB))
        widget.setWordWrap(True)
        widget.setMinimumHeight(150)
        widget.currentItemChanged.connect(self._on_item)
        return widget

    # -- what the panel hands in -------------------------------------------------------------
    def apply_theme(self, theme: PlotTheme) -> None:
        """Light or dark plots; the titles follow on the next repaint."""
        self.theme = theme
        for plot in (self.map_plot, self.precision_plot, self.margin_plot):
            plot.setBackground(theme.background)
            for axis in ("left", "bottom"):
                plot.getAxis(axis).setTextPen(theme.foreground)
                plot.getAxis(axis).setPen(theme.axis)
        for legend in (self.map_legend, self.precision_plot.plotItem.legend):
            legend.setLabelTextColor(theme.foreground)
            legend.setBrush(pg.mkBrush(*theme.legend_brush))
        self.memorized_curve.setPen(pg.mkPen(theme.foreground, width=1))
        self._schedule()

    def begin_run(self, run_id: int, message: str | None = None) -> None:
        """A run comes into focus: nothing of the last one stays."""
        self.run_id = run_id
        self.dynamics = None
        self.dataset = None
        self.memorized = []
        self.selected = None
        self.final = False
        self.scatter.setData([], [])
        self.precision_curve.setData([], [])
        self.memorized_curve.setData([], [])
        self.margin_curve.setData([], [])
        self.lowest_list.clear()
        self.forgotten_list.clear()
        self.headline.setText(
            message or f"{run_label(run_id, capital=True)}: the examples follow its first epoch."
        )
        self._set_buttons()

    def set_dataset(self, dataset) -> None:
        """The run's data (for thumbnails and rows of the lists)."""
        self.dataset = dataset
        self.class_names = list(getattr(dataset, "class_names", []) or [])

    def add_memorized(self, epoch: int, value: float | None) -> None:
        if value is not None:
            self.memorized.append((epoch, value))
            self._schedule()

    def show_dynamics(self, dynamics: ExampleDynamics, *, final: bool = False) -> None:
        self.dynamics = dynamics
        self.final = final
        self._schedule()

    def show_message(self, text: str) -> None:
        self.headline.setText(text)

    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    # -- painting ------------------------------------------------------------------------------
    def repaint_now(self) -> None:
        dyn = self.dynamics
        if dyn is None or not dyn.epochs:
            return
        confidence, variability, aum = dyn.confidence(), dyn.variability(), dyn.aum()
        forgot = dyn.forgetting_events()
        self._paint_map(dyn, confidence, variability)
        self._paint_precision(dyn)
        k = int(np.sum(dyn.flipped)) if dyn.noise_known else max(1, dyn.n // 20)
        if self.k_box.maximum() != dyn.n:
            self.k_box.setRange(1, dyn.n)
            self.k_box.setValue(k)
        self.headline.setText(self._headline(dyn))
        self._fill(self.lowest_list, lowest(aum, LISTED), dyn, aum, forgot)
        order = np.lexsort((aum, -forgot))[:LISTED]  # most forgotten, then lowest margin
        self._fill(self.forgotten_list, order, dyn, aum, forgot)
        self._paint_margin()
        self._set_buttons()

    def _paint_map(self, dyn: ExampleDynamics, confidence, variability) -> None:
        self.map_plot.setTitle("Data map", size="9pt", color=self.theme.foreground)
        self.map_legend.clear()
        if dyn.noise_known:
            flipped = np.asarray(dyn.flipped, dtype=bool)
            colours = [QColor(*FLIPPED_RGB, 200) if f else QColor(*CLEAN_RGB, 110) for f in flipped]
            for rgb, name in ((CLEAN_RGB, "label kept"), (FLIPPED_RGB, "label flipped")):
                sample = pg.ScatterPlotItem(size=8, pen=None, brush=pg.mkBrush(*rgb))
                self.map_legend.addItem(sample, name)
        else:
            n_classes = int(max(dyn.given.max(initial=0) + 1, len(self.class_names)))
            palette = [pg.intColor(c, hues=max(n_classes, 2), alpha=150) for c in range(n_classes)]
            colours = [palette[c] for c in dyn.given]
        brushes = [pg.mkBrush(c) for c in colours]
        self.scatter.setData(
            x=variability, y=confidence, brush=brushes, data=np.arange(dyn.n), size=6, pen=None
        )
        self.map_plot.setXRange(0, max(0.05, float(variability.max()) * 1.05), padding=0)

    def _paint_precision(self, dyn: ExampleDynamics) -> None:
        if dyn.noise_known:
            self.precision_plot.setTitle(
                "Suspects vs the truth", size="9pt", color=self.theme.foreground
            )
            share = float(np.mean(dyn.flipped))
            self.chance.setValue(share)
            self.chance.setVisible(True)
            self.precision_curve.setData(dyn.epochs, np.asarray(dyn.precision, dtype=float))
        else:
            self.precision_plot.setTitle(
                "No labels flipped: no truth to check", size="9pt", color=self.theme.foreground
            )
            self.chance.setVisible(False)
            self.precision_curve.setData([], [])
        if self.memorized:
            epochs, values = zip(*self.memorized, strict=True)
            self.memorized_curve.setData(list(epochs), list(values))

    def _headline(self, dyn: ExampleDynamics) -> str:
        where = run_label(self.run_id, capital=True) if self.run_id else "This run"
        when = "at its end" if self.final else f"after epoch {dyn.epochs[-1]}"
        text = f"{where}, {when}: {dyn.n} training examples measured"
        if dyn.noise_known:
            k = int(np.sum(dyn.flipped))
            share = k / dyn.n
            text += (
                f", {k} labels flipped. The {k} lowest mean margins hold "
                f"{round(dyn.precision[-1] * k)} of them: precision "
                f"{format_percent(dyn.precision[-1])} (random choice: {format_percent(share)})."
            )
        else:
            text += "; no labels flipped, so the colours are the given classes."
        return text

    def _describe(self, dyn: ExampleDynamics, i: int, aum, forgot) -> str:
        given = self._name(int(dyn.given[i]))
        predicted = self._name(int(dyn.last_predicted()[i]))
        if dyn.noise_known and dyn.flipped[i] and dyn.original is not None:
            given += f" (flipped from {self._name(int(dyn.original[i]))})"
        text = (
            f"row {int(dyn.source_rows[i])}: given {given}, predicted {predicted}\n"
            f"margin {aum[i]:+.2f} · forgotten {int(forgot[i])}×"
        )
        row = self._row_values(int(dyn.rows[i]))
        return text if row is None else f"{text}\n{row}"

    def _name(self, label: int) -> str:
        return self.class_names[label] if 0 <= label < len(self.class_names) else str(label)

    def _row_values(self, row: int) -> str | None:
        """A table row's first values (images get a thumbnail instead)."""
        ds = self.dataset
        if ds is None or ds.kind == "image" or row >= len(ds.x_train):
            return None
        values = np.ravel(ds.x_train[row])[:6]
        more = " …" if np.size(ds.x_train[row]) > 6 else ""
        return ", ".join(f"{v:.3g}" for v in values) + more

    def _fill(self, widget: QListWidget, order, dyn: ExampleDynamics, aum, forgot) -> None:
        widget.blockSignals(True)
        widget.clear()
        for i in order:
            item = QListWidgetItem(self._describe(dyn, int(i), aum, forgot))
            item.setData(Qt.ItemDataRole.UserRole, int(i))
            image = None
            if self.dataset is not None and int(dyn.rows[i]) < len(self.dataset.x_train):
                image = example_image(self.dataset, self.dataset.x_train[int(dyn.rows[i])])
            if image is not None:
                item.setIcon(thumbnail(image, THUMB))
            if dyn.noise_known and dyn.flipped[i]:
                item.setForeground(QColor(*FLIPPED_RGB))
            widget.addItem(item)
        widget.scrollToTop()
        widget.blockSignals(False)

    def _paint_margin(self) -> None:
        dyn, i = self.dynamics, self.selected
        if dyn is None or i is None:
            self.margin_plot.setTitle(
                "Margin: choose an example", size="9pt", color=self.theme.foreground
            )
            self.margin_curve.setData([], [])
            return
        self.margin_plot.setTitle(
            f"Margin of row {int(dyn.source_rows[i])}", size="9pt", color=self.theme.foreground
        )
        self.margin_curve.setData(dyn.epochs, dyn.margin_matrix()[:, i].astype(float))

    # -- choosing and acting -----------------------------------------------------------------
    def select(self, position: int) -> None:
        self.selected = position
        self._paint_margin()

    def _on_item(self, current, _previous) -> None:
        if current is not None:
            self.select(int(current.data(Qt.ItemDataRole.UserRole)))

    def _on_point_clicked(self, _item, points, *_args) -> None:
        if len(points):
            self.select(int(points[0].data()))

    def _set_buttons(self) -> None:
        ready = self.final and self.dynamics is not None and self.run_id is not None
        for button in (self.drop_button, self.relabel_button, self.k_box):
            button.setEnabled(ready)
        why = "" if ready else "Once the run has ended (its examples are then stored)"
        self.drop_button.setStatusTip(why)

    def _request(self, mode: str) -> None:
        if self.run_id is not None and self.final:
            self.clean_requested.emit(self.run_id, mode, int(self.k_box.value()))
