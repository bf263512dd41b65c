"""File → Export (and the Runs tab's Export menu): metrics, plots, model, script, TensorBoard,
and File → Export report (one self-contained HTML file, ``core/report.py``).

The run exports call ``core.export.export_runs`` on the runs selected in the Runs
tab (the current run when none is selected).  The plots go out as one PNG of the
whole plots panel (what the user sees) and as one vector SVG of the same panel,
drawn by Qt's QSvgGenerator: pyqtgraph 0.14's SVGExporter fails on every plot
with Qt >= 6.10, whose SVG paths end in "Z" (pyqtgraph issue #3495).  Each
action asks for a path in its handler; the ``export_*`` methods take the path, so
tests call them without a dialog.  Results go to the status bar, errors to
the window's error dialog (``show_error``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, QRect, QRectF
from PySide6.QtGui import QAction, QColor, QPainter
from PySide6.QtWidgets import QFileDialog, QMenu

from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.export.files import export_runs
from fitgap_gui.core.formatting import format_duration
from fitgap_gui.qt.window import settings
from fitgap_gui.qt.window.host import ExportHost

if TYPE_CHECKING:
    from fitgap_gui.qt.panels.runs_panel import RunsPanel

#: format -> (menu text, dialog filter or None for a folder, suffix)
RUN_FORMATS = {
    "csv": ("Metrics as &CSV…", "CSV (*.csv)", ".csv"),
    "json": ("Metrics as &JSON…", "JSON (*.json)", ".json"),
    "model": ("Trained &model (.keras)…", "Keras model (*.keras)", ".keras"),
    "script": ("As &Keras script…", "Python (*.py)", ".py"),
    "tensorboard": ("&TensorBoard log folder…", None, ""),
    "report": ("&Report (HTML)…", "HTML (*.html)", ".html"),
}
#: The file name each dialog proposes, where it is not the run's (``run-7.csv``).
_DEFAULT_STEM = {"report": "report"}
#: Formats that write one file per run, so several runs need a folder.
_PER_RUN = ("model", "script")


class Exporter:
    """The export actions of one window; the runs come from the Runs tab."""

    def __init__(self, host: ExportHost, panel: RunsPanel) -> None:
        self.host = host
        self.panel = panel
        self.report_action: QAction | None = None

    # -- runs ---------------------------------------------------------------------------------------
    def export_runs(
        self, fmt: str, path: str | Path, run_ids: list[int] | None = None
    ) -> list[Path]:
        """Export runs (default: the selected ones) to ``path``; [] after an error."""
        ids = self.panel.export_ids() if run_ids is None else run_ids
        if not ids:
            self.host.show_error("Select one or more runs in the Runs tab to export.")
            return []
        started = time.perf_counter()
        try:
            written = export_runs(self.host.store, fmt, ids, path)
        except FitGapError as exc:
            self.host.show_error(str(exc))
            return []
        runs = f"{len(ids)} run{'s' if len(ids) != 1 else ''}"
        where = written[0] if len(written) == 1 else Path(path)
        self.host.statusBar().showMessage(
            f"Exported {runs} to {where} in {format_duration(time.perf_counter() - started)}."
        )
        return written

    # -- plots --------------------------------------------------------------------------------------
    def export_png(self, path: str | Path) -> Path | None:
        """The three plots as one PNG, exactly as on screen."""
        path = Path(path)
        if not self.host.plots.grab().save(str(path), "PNG"):
            self.host.show_error(f"cannot write {path}")
            return None
        self.host.statusBar().showMessage(f"Exported the plots to {path}.")
        return path

    def export_svg(self, path: str | Path) -> Path | None:
        """The three plots as one vector SVG, as on screen (Qt's QSvgGenerator)."""
        from PySide6.QtSvg import QSvgGenerator

        path = Path(path)
        if not path.parent.is_dir():
            self.host.show_error(f"cannot write {path}: the folder {path.parent} does not exist")
            return None
        plots = self.host.plots
        generator = QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(plots.size())
        generator.setViewBox(QRect(0, 0, plots.width(), plots.height()))
        generator.setTitle("FitGap plots")
        painter = QPainter()
        if not painter.begin(generator):
            self.host.show_error(f"cannot write {path}")
            return None
        try:
            # Each plot on its own: a view rendered directly draws its scene as
            # vectors, while rendering the parent panel would paste the views as bitmaps.
            painter.fillRect(QRect(0, 0, plots.width(), plots.height()), QColor("white"))
            # The key row above the plots names the runs (the plots hold no legend).
            plots.key_label.render(painter, plots.key_label.mapTo(plots, QPoint(0, 0)))
            for plot in plots.plots.values():
                target = QRectF(QRect(plot.mapTo(plots, QPoint(0, 0)), plot.size()))
                plot.render(painter, target, plot.viewport().rect())
        finally:
            painter.end()
        self.host.statusBar().showMessage(f"Exported the plots to {path}.")
        return path

    # -- dialogs (not used by tests) -----------------------------------------------------------------
    def _ask_file(self, title: str, name: str, filters: str) -> str:
        start = str(Path(settings.last_folder("export") or Path.home()) / name)
        path, _ = QFileDialog.getSaveFileName(self.host.window(), title, start, filters)
        if path:
            settings.remember_folder("export", path)
        return path

    def _ask_folder(self, title: str) -> str:
        start = settings.last_folder("export") or str(Path.home())
        path = QFileDialog.getExistingDirectory(self.host.window(), title, start)
        if path:
            settings.remember_folder("export", path + "/")
        return path

    def choose_runs_export(self, fmt: str) -> None:
        ids = self.panel.export_ids()
        if not ids:
            self.host.show_error("Select one or more runs in the Runs tab to export.")
            return
        text, filters, suffix = RUN_FORMATS[fmt]
        title = "Export " + text.replace("&", "").rstrip("…")
        if filters is None or (fmt in _PER_RUN and len(ids) > 1):
            path = self._ask_folder(title + " (a folder)")
        else:
            stem = _DEFAULT_STEM.get(fmt) or (f"run-{ids[0]}" if len(ids) == 1 else "fitgap-runs")
            path = self._ask_file(title, stem + suffix, filters)
            if path and not Path(path).suffix:
                path += suffix
        if path:
            self.export_runs(fmt, path, ids)

    def choose_png(self) -> None:
        path = self._ask_file("Export the plots as PNG", "fitgap-plots.png", "PNG (*.png)")
        if path:
            self.export_png(path if path.lower().endswith(".png") else path + ".png")

    def choose_svg(self) -> None:
        path = self._ask_file("Export the plots as SVG", "fitgap-plots.svg", "SVG (*.svg)")
        if path:
            self.export_svg(path)

    def build_menu(self) -> QMenu:
        menu = QMenu("&Export", self.host.window())
        for fmt, (text, _filters, _suffix) in RUN_FORMATS.items():
            action = QAction(text, menu)
            action.triggered.connect(lambda _checked=False, f=fmt: self.choose_runs_export(f))
            menu.addAction(action)
        menu.addSeparator()
        for text, slot in (
            ("Plots as &PNG…", self.choose_png),
            ("Plots as &SVG…", self.choose_svg),
        ):
            action = QAction(text, menu)
            action.triggered.connect(slot)
            menu.addAction(action)
        return menu


def install(host: ExportHost, panel: RunsPanel) -> Exporter:
    exporter = Exporter(host, panel)
    menu = exporter.build_menu()
    host.add_menu_action("file", menu.menuAction())
    # The lab report is what a user takes away: one step from the File menu.
    report = QAction("Export &report…", host.window())
    report.setToolTip(
        "One HTML file with the selected runs' curves, levers, best epochs, diagnosis "
        "and what is needed to repeat them"
    )
    report.triggered.connect(lambda _checked=False: exporter.choose_runs_export("report"))
    host.add_menu_action("file", report)
    exporter.report_action = report
    # The same menu in the Runs tab: its button and its context menu.
    panel.export_menu = menu
    panel.export_button.setMenu(menu)
    return exporter
