"""The FitGap main window: controls, live plots, Train/Stop, and room for more tabs.

It composes the panels and owns the ``TrainingController`` (the worker thread).
Training is enabled once ``start_engine_loading`` has imported TensorFlow in the
background.  Closing the window during a run asks the run to stop and waits for the
thread, so Qt never destroys a running thread.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..core.config import RunConfig
from ..core.errors import FitGapError
from ..core.formatting import run_label
from ..core.results import EpochMetrics, RunResult
from ..core.store import RunStore
from ..core.summary import describe
from .controls import ControlsPanel
from .features import install_features
from .plots import PlotsPanel
from .resources import default_config
from .worker import NO_RUN, EngineLoader, TrainingController

#: How long closing the window waits for a run to stop and the thread to end.
CLOSE_WAIT_MS = 15000


class MainWindow(QMainWindow):
    """Controls on the left, plots in the centre, side tabs on the right."""

    #: The engine (TensorFlow) is imported and Train is enabled.
    engine_ready = Signal()
    #: An error was shown to the user (the dialog is non-blocking).
    error_shown = Signal(str)
    #: A run (or sequence) has ended and the window shows its final state.
    training_ended = Signal()
    #: Re-emitted in the GUI thread for feature panels: (run_id, RunConfig).
    run_started = Signal(int, object)
    #: (run_id, Dataset) once a run's data is loaded.
    dataset_ready = Signal(int, object)
    #: (run_id, EpochMetrics) after the plots have the epoch.
    epoch_done = Signal(int, object)
    #: (run_id, RunResult) after the plots show the run's end.
    run_finished = Signal(int, object)
    #: (run_id, kind, payload) insight views from the worker (see insights_probe.py).
    insight_ready = Signal(int, str, object)

    def __init__(self, store: RunStore | None = None) -> None:
        super().__init__()
        self.setWindowTitle("FitGap")
        self.store = store if store is not None else RunStore()
        self.controller = TrainingController(self.store, self)
        self._loader: EngineLoader | None = None
        self._engine_loaded = False
        self._close_when_idle = False
        self._error_box: QMessageBox | None = None
        self.current_run: int | None = None
        self._queued: list[RunConfig] = []
        self._queued_labels: list[str] = []  # legend names of a sequence's runs
        self._epochs_asked = 0
        self._build()
        self._wire_worker()
        self.controls.set_config(default_config())
        self._update_buttons()
        self.statusBar().showMessage("Loading TensorFlow…")
        install_features(self)

    # -- layout -----------------------------------------------------------------------------------
    def _build(self) -> None:
        self.controls = ControlsPanel()
        self.plots = PlotsPanel()

        self.train_button = QPushButton("Train")
        self.train_button.setToolTip("Train the network with these settings (Ctrl+R)")
        self.train_button.clicked.connect(self.train)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("End the run after the current step (Esc)")
        self.stop_button.clicked.connect(self.stop)
        self.progress = QProgressBar()
        self.progress.setFormat("no run yet")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        bar = QHBoxLayout()
        bar.addWidget(self.train_button)
        bar.addWidget(self.stop_button)
        bar.addWidget(self.progress, 1)
        centre = QWidget()
        column = QVBoxLayout(centre)
        column.setContentsMargins(4, 4, 4, 4)
        column.addLayout(bar)
        column.addWidget(self.summary)
        column.addWidget(self.plots, 1)

        self.side_tabs = QTabWidget()
        self.side_tabs.setVisible(False)  # shown once a later panel adds a tab
        self.side_tabs.setMinimumWidth(360)  # set, so no tab's own minimum resizes the side
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.controls)
        self.splitter.addWidget(centre)
        self.splitter.addWidget(self.side_tabs)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setSizes([360, 1040, 0])
        self.setCentralWidget(self.splitter)
        self._build_menus()

    def _build_menus(self) -> None:
        # All top-level menus exist from the start, in this order; feature modules
        # (see features.py) add their actions with ``add_menu_action``.
        self.menus = {
            name: self.menuBar().addMenu(title)
            for name, title in (
                ("file", "&File"),
                ("run", "&Run"),
                ("view", "&View"),
                ("help", "&Help"),
            )
        }
        file_menu, run_menu = self.menus["file"], self.menus["run"]
        self._file_tail = file_menu.addSeparator()
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.triggered.connect(self.close)
        file_menu.addAction(self.quit_action)

        self.train_action = QAction("&Train", self)
        self.train_action.setShortcut(QKeySequence("Ctrl+R"))
        self.train_action.triggered.connect(self.train)
        self.stop_action = QAction("&Stop", self)
        self.stop_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.stop_action.triggered.connect(self.stop)
        run_menu.addAction(self.train_action)
        run_menu.addAction(self.stop_action)

    def add_menu_action(self, menu: str, action: QAction) -> QAction:
        """Put a feature's action into File/Run/View/Help (File: above Quit)."""
        if menu == "file":
            self.menus["file"].insertAction(self._file_tail, action)
        else:
            self.menus[menu].addAction(action)
        return action

    def add_side_tab(self, widget: QWidget, title: str) -> int:
        """Add a panel (Runs, Diagnosis, Insights…) to the right-hand tab area."""
        index = self.side_tabs.addTab(widget, title)
        if not self.side_tabs.isVisible():
            self.side_tabs.setVisible(True)
            sizes = self.splitter.sizes()
            self.splitter.setSizes([sizes[0], max(sizes[1] - 440, 400), 440])
        return index

    # -- engine ------------------------------------------------------------------------------------
    def start_engine_loading(self) -> None:
        """Import TensorFlow on a background thread; Train is enabled when it is done."""
        if self._engine_loaded or self._loader is not None:
            return
        self._loader = EngineLoader(self)
        self._loader.loaded.connect(self._on_engine_loaded)
        self._loader.failed.connect(self._on_engine_failed)
        self._loader.finished.connect(self._close_if_waiting)
        self._loader.start()

    def engine_loaded(self) -> bool:
        return self._engine_loaded

    def _on_engine_loaded(self) -> None:
        self._engine_loaded = True
        self._update_buttons()
        self.statusBar().showMessage("Ready: press Train (Ctrl+R).")
        self.engine_ready.emit()

    def _on_engine_failed(self, message: str) -> None:
        self.show_error(f"TensorFlow could not be loaded: {message}")

    # -- runs ---------------------------------------------------------------------------------------
    def _wire_worker(self) -> None:
        worker = self.controller.worker
        worker.started.connect(self._on_started)
        worker.epoch_done.connect(self._on_epoch)
        worker.finished.connect(self._on_finished)
        worker.errored.connect(self._on_errored)
        worker.aborted.connect(self._on_aborted)
        worker.all_done.connect(self._on_all_done)
        worker.dataset_ready.connect(self.dataset_ready)
        worker.insight_ready.connect(self.insight_ready)

    def train(self) -> None:
        """Train the controls' config; a bad value is refused with its message."""
        try:
            config = self.controls.config()
        except FitGapError as exc:
            self.show_error(str(exc))
            return
        self.train_configs([config])

    def train_configs(self, configs: list[RunConfig], labels: list[str] | None = None) -> None:
        """Train configs one after another, overlaid on fresh plots (remedies, sweeps).

        ``labels`` name the runs in the legend ("baseline", "+ dropout 0.3"), in order.
        """
        if not self._engine_loaded or self.controller.is_busy() or not configs:
            return
        self._queued = list(configs)
        self._queued_labels = list(labels or [])
        self.plots.clear()
        self.summary.setText(describe(configs[0]))
        self.statusBar().showMessage("Loading data and building the model…")
        self.controller.start(configs)
        self._update_buttons()

    def stop(self) -> None:
        if self.controller.is_busy():
            self.controller.stop()
            self.statusBar().showMessage("Stopping after the current step…")

    def _on_started(self, run_id: int) -> None:
        self.current_run = run_id
        config = self._queued.pop(0)  # runs start in the order they were queued
        label = self._queued_labels.pop(0) if self._queued_labels else run_label(run_id)
        self._epochs_asked = config.training.epochs
        self.progress.setRange(0, self._epochs_asked)
        self.progress.setValue(0)
        self.progress.setFormat(f"run #{run_id}: epoch %v of %m")
        self.plots.set_epoch_span(max(self.plots.epoch_span, self._epochs_asked))
        self.plots.begin_run(run_id, label, config.early_stopping.monitor)
        self.summary.setText(f"Run #{run_id}: {describe(config)}")
        self.statusBar().showMessage(f"Run #{run_id} training…")
        self.run_started.emit(run_id, config)

    def _on_epoch(self, run_id: int, metrics: EpochMetrics) -> None:
        self.plots.add_epoch(run_id, metrics)
        self.progress.setValue(metrics.epoch)
        self.statusBar().showMessage(
            f"Run #{run_id} epoch {metrics.epoch} of {self._epochs_asked}: "
            f"loss {metrics.get('loss', float('nan')):.4f}, "
            f"val_loss {metrics.get('val_loss', float('nan')):.4f}, "
            f"val_accuracy {metrics.get('val_accuracy', float('nan')):.3f}"
        )
        self.epoch_done.emit(run_id, metrics)

    def _on_finished(self, run_id: int, result: RunResult) -> None:
        marker = self.plots.finish_run(run_id, result)
        words = {
            "completed": f"completed {result.epochs_run} epochs",
            "stopped": f"stopped by you after {result.epochs_run} epochs",
            "early_stopped": f"early-stopped after {result.epochs_run} epochs",
            "diverged": f"diverged at epoch {result.epochs_run}: the loss became NaN or "
            "infinite (learning rate too high?)",
        }
        what = words.get(result.status, result.status)
        if result.status != "completed":  # say why the bar stops short of the end
            ended = {"early_stopped": "early-stopped", "stopped": "stopped by you"}
            self.progress.setFormat(
                f"run #{run_id}: {ended.get(result.status, result.status)} at epoch %v of %m"
            )
        self.statusBar().showMessage(f"Run #{run_id} {what} in {result.seconds:.1f} s. {marker}")
        self.run_finished.emit(run_id, result)

    def _on_aborted(self, run_id: int) -> None:
        self.statusBar().showMessage(f"Run #{run_id} stopped; its epochs so far are kept.")

    def _on_errored(self, run_id: int, message: str) -> None:
        prefix = f"Run #{run_id} failed: " if run_id != NO_RUN else "Cannot train: "
        self.show_error(prefix + message)

    def _on_all_done(self) -> None:
        self._update_buttons()
        self.training_ended.emit()
        self._close_if_waiting()

    def _close_if_waiting(self) -> None:
        if self._close_when_idle:
            QTimer.singleShot(0, self.close)

    def _update_buttons(self) -> None:
        busy = self.controller.is_busy()
        self.train_button.setEnabled(self._engine_loaded and not busy)
        self.train_action.setEnabled(self._engine_loaded and not busy)
        self.stop_button.setEnabled(busy)
        self.stop_action.setEnabled(busy)

    def is_training(self) -> bool:
        return self.controller.is_busy()

    # -- errors -------------------------------------------------------------------------------------
    def show_error(self, message: str) -> None:
        """Tell the user in the status bar and a non-blocking dialog (``open``, not ``exec``)."""
        self.statusBar().showMessage(message)
        if self._error_box is None:
            self._error_box = QMessageBox(self)
            self._error_box.setIcon(QMessageBox.Icon.Warning)
            self._error_box.setWindowTitle("FitGap")
        self._error_box.setText(message)
        self._error_box.open()
        self.error_shown.emit(message)

    # -- closing ---------------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop a run and wait for the threads; never destroy a running QThread."""
        if self.controller.is_busy():
            self.statusBar().showMessage("Stopping the run before closing…")
        finished = self.controller.shutdown(CLOSE_WAIT_MS)
        if self._loader is not None and not self._loader.wait(CLOSE_WAIT_MS):
            finished = False  # TensorFlow's import cannot be interrupted; wait for it
        if not finished:
            # Still busy (a slow save): close as soon as the run has ended.
            self._close_when_idle = True
            event.ignore()
            return
        if self._error_box is not None:
            self._error_box.close()
        super().closeEvent(event)
