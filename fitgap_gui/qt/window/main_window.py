"""The FitGap main window: it lays out the panels and owns the run lifecycle.

``MainWindow`` constructs every panel and window part as a typed attribute and
hands each the live-run model (``LiveRuns``) and whatever else it needs; panels
never reach into one another.  The run lifecycle lives here: Train and the
experiments send ``RunRequest``s to the ``TrainingController``, whose events feed
the live-run model; the top bar (progress and summary) follows the runs.  A plan of
several runs trains through the executor chosen in Edit → Preferences (worker
processes or Ray; ``preferences.py``), so several runs may be live at once; a single
Train, a plan of one run, and the choice "1 worker" train on the training thread.
TensorFlow is imported in the background (``start_engine_loading``); Train is
enabled once it is.  Closing the window asks every background task to stop and
waits for it, or closes once it has ended, so Qt never destroys a running thread.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from fitgap_gui.core.config.defaults import default_config
from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.export.summary import delivered_line, run_summary, summary_line
from fitgap_gui.core.formatting import (
    format_accuracy,
    format_duration,
    format_training_loss,
    format_validation_loss,
    run_label,
    status_text,
)
from fitgap_gui.core.results.examples import ExampleDynamics
from fitgap_gui.core.results.records import EpochMetrics, RunResult
from fitgap_gui.core.run.live import RunRequest
from fitgap_gui.core.store.runstore import RunStore
from fitgap_gui.qt.dialogs.data_dialog import DataOpener
from fitgap_gui.qt.dialogs.lab_dialog import LabDialog
from fitgap_gui.qt.dialogs.sweep_dialog import SweepDialog
from fitgap_gui.qt.panels.controls import ControlsPanel
from fitgap_gui.qt.panels.diagnosis_panel import DiagnosisPanel
from fitgap_gui.qt.panels.experiments_panel import ExperimentsPanel
from fitgap_gui.qt.panels.insights_panel import InsightsPanel
from fitgap_gui.qt.panels.runs_panel import RunsPanel
from fitgap_gui.qt.plots.plots import PlotsPanel
from fitgap_gui.qt.runtime.background import BackgroundTask, active_tasks
from fitgap_gui.qt.runtime.live_runs import LiveRuns
from fitgap_gui.qt.runtime.worker import NO_RUN, TrainingController, error_message, import_engine
from fitgap_gui.qt.window import exports, preferences, presets_menu, settings
from fitgap_gui.qt.window.busy import BusyIndicator
from fitgap_gui.qt.window.exports import Exporter
from fitgap_gui.qt.window.help import HelpMenu
from fitgap_gui.qt.window.pausing import Pausing
from fitgap_gui.qt.window.plots_adapter import PlotsAdapter
from fitgap_gui.qt.window.presets_menu import ConfigFiles
from fitgap_gui.qt.window.progress_box import ProgressBox
from fitgap_gui.qt.window.status_bar import WrappingStatusBar
from fitgap_gui.qt.window.view_menu import ViewOptions

logger = logging.getLogger(__name__)

#: How long closing the window waits for a run to stop and the thread to end.
CLOSE_WAIT_MS = 15000

#: QSettings key of the Repeats box beside Train, and its largest value.
KEY_TRAIN_REPEATS = "train/repeats"
MAX_TRAIN_REPEATS = 20


class MainWindow(QMainWindow):
    """Controls on the left, plots in the centre, side tabs on the right."""

    #: The engine (TensorFlow) is imported and Train is enabled.
    engine_ready = Signal()
    #: An error was shown to the user (the dialog is non-blocking).
    error_shown = Signal(str)
    #: A run (or sequence) has ended and the window shows its final state.
    training_ended = Signal()

    store: RunStore
    controller: TrainingController
    live_runs: LiveRuns
    controls: ControlsPanel
    plots: PlotsPanel
    plots_adapter: PlotsAdapter
    data_opener: DataOpener
    runs_panel: RunsPanel
    exporter: Exporter
    config_files: ConfigFiles
    presets_menu: QMenu
    view_options: ViewOptions
    help: HelpMenu
    busy_indicator: BusyIndicator
    pausing: Pausing
    diagnosis_panel: DiagnosisPanel
    experiments_panel: ExperimentsPanel
    insights_panel: InsightsPanel
    sweep_dialog: SweepDialog | None
    lab_dialog: LabDialog | None
    preferences: preferences.Preferences

    def __init__(self, store: RunStore | None = None) -> None:
        super().__init__()
        self.setWindowTitle("FitGap")
        self.setStatusBar(WrappingStatusBar(self))  # a long message wraps, never cut
        self.store = store if store is not None else RunStore()
        self.controller = TrainingController(self.store, self)
        self.live_runs = LiveRuns(self)
        self._loader: BackgroundTask | None = None
        self._engine_loaded = False
        self._close_when_idle = False
        self._error_box: QMessageBox | None = None
        self._epochs_asked = 0
        #: [finished, total] while a plan trains through an executor, else None.
        self._plan_count: list[int] | None = None
        self.sweep_dialog = None
        self.lab_dialog = None
        self._build()
        self._wire_worker()
        self.controls.set_config(default_config())
        self._build_parts()
        self._update_buttons()
        self.statusBar().showMessage("Loading TensorFlow…")
        self._show_last_stored_run()

    @property
    def current_run(self) -> int | None:
        """The latest run started in this window (kept after it has ended)."""
        return self.live_runs.current_id

    # -- layout -----------------------------------------------------------------------------------
    def _build(self) -> None:
        self.controls = ControlsPanel()
        self.plots = PlotsPanel()
        self.plots_adapter = PlotsAdapter(self.live_runs, self.plots)

        self.train_button = QPushButton("Train")
        self.train_button.setToolTip("Train the network with these settings (Ctrl+R)")
        self.train_button.clicked.connect(self.train)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("End the run after the current step (Esc)")
        self.stop_button.clicked.connect(self.stop)
        self.repeats_box = QSpinBox()
        self.repeats_box.setRange(1, MAX_TRAIN_REPEATS)
        self.repeats_box.setPrefix("Repeats: ")
        self.repeats_box.setToolTip(
            "Repeats: train this setup with seeds s, s+1, … and show the mean curve with "
            "its band and the mean ± 95 % interval (Experiments tab); 1: a single run"
        )
        self.repeats_box.setValue(self._saved_train_repeats())
        self.repeats_box.valueChanged.connect(self._save_train_repeats)
        self.progress = ProgressBox()
        self.progress.setFormat("no run yet")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        bar = self._bar = QHBoxLayout()
        bar.addWidget(self.train_button)
        bar.addWidget(self.repeats_box)
        bar.addWidget(self.stop_button)
        bar.addStretch(1)
        centre = QWidget()
        column = QVBoxLayout(centre)
        column.setContentsMargins(4, 4, 4, 4)
        column.addLayout(bar)
        # Its own row, the column's width: its longest text ("run 18: early-stopped at
        # epoch 17 of 60") fits without widening the column (ProgressBox never cuts it).
        column.addWidget(self.progress)
        column.addWidget(self.summary)
        column.addWidget(self.plots, 1)

        self.side_tabs = QTabWidget()
        self.side_tabs.setVisible(False)  # shown once a panel adds a tab
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
        # All top-level menus exist from the start, in this order; the window parts
        # (_build_parts) add their actions with ``add_menu_action``.
        self.menus = {
            name: self.menuBar().addMenu(title)
            for name, title in (
                ("file", "&File"),
                ("edit", "&Edit"),
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
        self.clear_previous_action = QAction("C&lear previous runs", self)
        self.clear_previous_action.setShortcut(QKeySequence("Ctrl+Shift+L"))
        self.clear_previous_action.setToolTip(
            "Take the faint curves of earlier runs off the plots (stored runs stay stored)"
        )
        self.clear_previous_action.triggered.connect(self.clear_previous_runs)
        run_menu.addAction(self.clear_previous_action)

    def _build_parts(self) -> None:
        """The panels and window parts, in tab and menu order."""
        self.data_opener = DataOpener(self)  # File → Open data…, image folder, Keras cache
        self.runs_panel = RunsPanel(self.store, self.live_runs, self.controls)
        self._follow(self.runs_panel)
        self.pausing = Pausing(self)  # Pause/Continue beside Stop; Run → Pause / Continue
        self.pausing.changed.connect(self._update_buttons)
        self._bar.insertWidget(2, self.pausing.button)
        self.runs_panel.continue_requested.connect(self.pausing.prepare_stored)
        self.add_side_tab(self.runs_panel, "Runs")
        self.exporter = exports.install(self, self.runs_panel)
        self.config_files, self.presets_menu = presets_menu.install(self)
        settings.install(self)  # the last controls, the layout, remembered
        self.view_options = ViewOptions(self)
        self.help = HelpMenu(self)
        self.preferences = preferences.install(self)  # Edit → Preferences: the executor
        self.busy_indicator = BusyIndicator(self)

        self.diagnosis_panel = DiagnosisPanel(self.live_runs, self.controls)
        self.diagnosis_panel.onset_changed.connect(lambda epoch: self.plots.show_onset(epoch))
        self.diagnosis_panel.apply_requested.connect(lambda _config: self.train())
        self.diagnosis_panel.error.connect(self.show_error)
        self.add_side_tab(self.diagnosis_panel, "Diagnosis")

        self.experiments_panel = ExperimentsPanel(
            self.live_runs, self.controls, self, settings.open_settings()
        )
        self._follow(self.experiments_panel)
        self.experiments_panel.shown.connect(self._show_experiments)
        self.experiments_panel.apply_theme(self.plots.theme)
        self.plots.theme_changed.connect(self.experiments_panel.apply_theme)
        self.training_ended.connect(self.experiments_panel.on_training_ended)
        # An arm's seeds done: the plots draw it as a mean with a band.
        self.experiments_panel.arm_done.connect(self.plots.show_band)
        self.experiments_panel.bands_cleared.connect(self.plots.clear_bands)
        self.add_side_tab(self.experiments_panel, "Experiments")
        compare = QAction("Compare &remedies", self)
        compare.setShortcut(QKeySequence("Ctrl+Shift+R"))
        compare.setToolTip(
            "Train the current setup, + dropout, + L2, + early stopping, and all three"
        )
        compare.triggered.connect(self.experiments_panel.compare_remedies)
        self.add_menu_action("run", compare)
        sweep = QAction("S&weep…", self)
        sweep.setShortcut(QKeySequence("Ctrl+Shift+W"))
        sweep.setToolTip("A validation curve over one lever, or a learning curve")
        sweep.triggered.connect(self.open_sweep_dialog)
        self.add_menu_action("run", sweep)
        lab_action = QAction("&Lab…", self)
        lab_action.setToolTip("Random labels, double descent, the learning-rate range test")
        lab_action.triggered.connect(self.open_lab_dialog)
        self.add_menu_action("run", lab_action)

        self.insights_panel = InsightsPanel(self.live_runs, load_examples=self._stored_examples)
        self.insights_panel.examples.clean_requested.connect(self.train_cleaned)
        self.insights_panel.apply_theme(self.plots.theme)
        self.plots.theme_changed.connect(self.insights_panel.apply_theme)
        self.add_side_tab(self.insights_panel, "Insights")

        self.training_ended.connect(self.runs_panel.refresh)
        self.live_runs.note.connect(self.statusBar().showMessage)

    def _follow(self, panel: RunsPanel | ExperimentsPanel) -> None:
        """A panel's errors and status lines go to the window's."""
        panel.error.connect(self.show_error)
        panel.message.connect(self.statusBar().showMessage)

    def open_sweep_dialog(self) -> SweepDialog:
        if self.sweep_dialog is None:
            self.sweep_dialog = SweepDialog(self.experiments_panel, self)
        self.sweep_dialog.open()
        return self.sweep_dialog

    def open_lab_dialog(self) -> LabDialog:
        if self.lab_dialog is None:
            self.lab_dialog = LabDialog(self, self)
        self.lab_dialog.show()
        return self.lab_dialog

    def _show_experiments(self) -> None:
        """An experiment started: its tab comes forward (the side area keeps its width)."""
        self.side_tabs.setCurrentWidget(self.experiments_panel)

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
        """Import TensorFlow in the background; Train is enabled when it is done."""
        if self._engine_loaded or self._loader is not None:
            return
        self._loader = BackgroundTask(import_engine, name="fitgap-engine-loader")
        self._loader.returned.connect(lambda _none: self._on_engine_loaded())
        self._loader.errored.connect(self._on_engine_failed)
        self._loader.start()

    def engine_loaded(self) -> bool:
        return self._engine_loaded

    def _on_engine_loaded(self) -> None:
        logger.info("TensorFlow loaded")
        self._engine_loaded = True
        self._update_buttons()
        self.statusBar().showMessage("Ready: press Train (Ctrl+R).")
        self.engine_ready.emit()

    def _on_engine_failed(self, exc: BaseException) -> None:
        self.show_error(f"TensorFlow could not be loaded: {error_message(exc)}")

    # -- runs ---------------------------------------------------------------------------------------
    def _wire_worker(self) -> None:
        c, model = self.controller, self.live_runs
        c.started.connect(self._on_started)
        c.dataset_ready.connect(model.set_dataset)
        c.epoch_done.connect(self._on_epoch)
        c.finished.connect(self._on_finished)
        c.errored.connect(self._on_errored)
        c.aborted.connect(self._on_aborted)
        c.insight_ready.connect(model.insight_ready)
        c.idle.connect(self._on_all_done)

    def refusal(self) -> str | None:
        """Why no run can start now, or None (panels ask before they build a plan)."""
        if not self._engine_loaded:
            return "TensorFlow is still loading; try again in a moment."
        if self.controller.is_busy():
            return "A run is in progress: stop it first (Esc)."
        return None

    def train(self) -> None:
        """Train the controls' config; a bad value is refused with its message.

        With Repeats above 1 the setup trains once per seed, as one experiment.
        """
        try:
            config = self.controls.config()
        except FitGapError as exc:
            self.show_error(str(exc))
            return
        repeats = self.repeats_box.value()
        if repeats > 1:
            self.experiments_panel.train_repeats(config, repeats)
            return
        self.train_requests([RunRequest(config)])

    def _stored_examples(self, run_id: int) -> ExampleDynamics | None:
        blob = self.store.example_dynamics(run_id)
        return ExampleDynamics.from_bytes(blob) if blob is not None else None

    def train_cleaned(self, parent_id: int, mode: str, k: int) -> None:
        """Insights → Examples: the parent again from scratch without (or relabelled at)
        its k lowest-margin examples, as a new run linked to it (``core.run.cleaning``)."""
        parent = self.store.get_run(parent_id)
        what = "without" if mode == "drop" else "relabelled at"
        label = f"{parent.name} ({what} its {k} lowest-margin examples)"
        self.train_requests([RunRequest(parent.config, label, cleaning=(parent_id, mode, k))])

    def _saved_train_repeats(self) -> int:
        value = settings.open_settings().value(KEY_TRAIN_REPEATS, 1)
        try:
            return min(max(int(value), 1), MAX_TRAIN_REPEATS)
        except (TypeError, ValueError):  # a hand-edited settings file
            return 1

    def _save_train_repeats(self, value: int) -> None:
        store = settings.open_settings()
        store.setValue(KEY_TRAIN_REPEATS, int(value))
        store.sync()

    def train_configs(self, configs: list[RunConfig], labels: list[str] | None = None) -> None:
        """Train configs as one batch; ``labels`` name them in the legend and store."""
        names = list(labels or [])
        names += [None] * (len(configs) - len(names))
        self.train_requests([RunRequest(c, n) for c, n in zip(configs, names, strict=True)])

    def train_requests(self, requests: list[RunRequest], *, as_plan: bool = False) -> bool:
        """Start the runs; the last Train's runs stay on screen, faint.

        One run (or the choice of one worker) trains on the training thread; a plan
        of several goes to the executor chosen in Preferences, runs overlapping.
        ``as_plan`` (the lab: its runs carry probes) always takes the executor.
        """
        if self.refusal() is not None or not requests:
            return False
        choice = self.preferences.choice()
        executor = None
        if as_plan or (len(requests) > 1 and not choice.in_process):
            try:
                executor = choice.executor()
            except FitGapError as exc:  # Ray chosen but not installed: how to install it
                self.show_error(str(exc))
                return False
        self.live_runs.begin_batch(requests)
        self.summary.setText(summary_line(requests[0].config))
        self.statusBar().showMessage("Loading data and building the model…")
        if executor is None:
            self._plan_count = None
            self.controller.start(requests)
        else:
            self._plan_count = [0, len(requests)]
            self.statusBar().showMessage(f"Training {len(requests)} runs on {choice.describe()}…")
            self._show_plan_progress()
            self.controller.start_plan(requests, executor)
        self._update_buttons()
        return True

    def _show_plan_progress(self) -> None:
        """The top bar of a plan: runs finished of the plan, and how many train now."""
        if self._plan_count is None:
            return
        finished, total = self._plan_count
        training = len(self.live_runs.training())
        self.progress.setRange(0, total)
        self.progress.setValue(finished)
        self.progress.setFormat(
            f"%v of %m runs finished, {training} training" if training else "%v of %m runs finished"
        )

    def clear_previous_runs(self) -> None:
        gone = self.live_runs.clear_previous()
        self.statusBar().showMessage(
            f"Took {gone} previous run{'s' if gone != 1 else ''} off the plots."
            if gone
            else "No previous runs on the plots."
        )

    def stop(self) -> None:
        if self.controller.is_busy():
            self.controller.stop()
            self.statusBar().showMessage("Stopping after the current step…")

    def _on_started(self, run_id: int, request: RunRequest) -> None:
        config = request.config
        self._epochs_asked = config.training.epochs
        if self._plan_count is None:
            self.progress.setRange(0, self._epochs_asked)
            self.progress.setValue(0)
            self.progress.setFormat(f"{run_label(run_id)}: epoch %v of %m")
        self.summary.setText(f"{run_label(run_id, capital=True)}: {summary_line(config)}")
        self.statusBar().showMessage(f"{run_label(run_id, capital=True)} training…")
        if request.branch_epoch and request.parent_run_id is not None:
            self.progress.setValue(request.branch_epoch)
            self.statusBar().showMessage(
                f"{run_label(run_id, capital=True)} training, branched from "
                f"{run_label(request.parent_run_id)} at epoch {request.branch_epoch}…"
            )
        self.live_runs.begin(run_id, request)
        self._show_plan_progress()
        logger.info("run %s started: %s", run_id, summary_line(config))

    def _on_epoch(self, run_id: int, metrics: EpochMetrics) -> None:
        self.live_runs.append_epoch(run_id, metrics)
        if self._plan_count is None:  # a plan's bar counts finished runs instead
            self.progress.setValue(metrics.epoch)
        self.statusBar().showMessage(
            f"{run_label(run_id, capital=True)} epoch {metrics.epoch} of {self._epochs_asked}: "
            f"{format_training_loss(metrics.metrics)}, "
            f"{format_validation_loss(metrics.metrics)}, "
            f"val_accuracy {format_accuracy(metrics.get('val_accuracy'))}"
        )

    def _on_finished(self, run_id: int, result: RunResult) -> None:
        self.live_runs.finish(run_id, result)
        logger.info("run %s %s after %s epochs", run_id, result.status, result.epochs_run)
        marker = self.plots_adapter.markers.get(run_id, "")
        what = status_text(result.status, "ended", result.epochs_run)
        if self._plan_count is not None:
            self._plan_count[0] += 1
            self._show_plan_progress()
        elif result.status != "completed":  # say why the bar stops short of the end
            self.progress.setFormat(
                f"{run_label(run_id)}: {status_text(result.status)} at epoch %v of %m"
            )
        # The delivered model first, then the best epoch (chosen on validation).
        self.statusBar().showMessage(
            f"{run_label(run_id, capital=True)} {what} in {format_duration(result.seconds)}. "
            f"{delivered_line(result)} {marker}"
        )

    def _on_aborted(self, run_id: int) -> None:
        self.statusBar().showMessage(
            f"{run_label(run_id, capital=True)} stopped; its epochs so far are kept."
        )

    def _on_errored(self, run_id: int, exc: BaseException) -> None:
        message = error_message(exc)
        if run_id == NO_RUN:
            # Nothing of the last run may look current: bar, summary and views reset.
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.progress.setFormat("not started")
            self.summary.setText(f"Not started: {message}")
            self.live_runs.start_failed_with(message)
            self.show_error("Cannot train: " + message)
        elif self._plan_count is None:
            self.progress.setFormat(f"{run_label(run_id)}: failed at epoch %v of %m")
            if message.startswith(run_label(run_id) + " "):
                # The store's line already names the run and what was kept: shown as it is.
                self.show_error(message[:1].upper() + message[1:])
            else:
                self.show_error(f"{run_label(run_id, capital=True)} failed: {message}")

    def _on_all_done(self) -> None:
        self._plan_count = None
        self._update_buttons()
        self.training_ended.emit()
        self._close_if_waiting()

    def _update_buttons(self) -> None:
        busy = self.controller.is_busy()
        self.train_button.setEnabled(self._engine_loaded and not busy)
        self.train_action.setEnabled(self._engine_loaded and not busy)
        self.stop_button.setEnabled(busy)
        self.stop_action.setEnabled(busy)
        self.diagnosis_panel.set_can_train(self._engine_loaded and not busy)
        self.pausing.update_buttons(busy, self._engine_loaded)

    def is_training(self) -> bool:
        return self.controller.is_busy()

    def _show_last_stored_run(self) -> None:
        """After a restart the top bar shows the last stored run, not "no run yet"."""
        try:
            runs = self.store.list_runs()
        except FitGapError as exc:
            logger.warning("cannot read the run store: %s", exc)
            return
        if not runs:
            return
        last = max(runs, key=lambda r: r.run_id)
        asked = max(last.config.training.epochs, last.epochs_run, 1)
        self.progress.setRange(0, asked)
        self.progress.setValue(last.epochs_run)
        self.progress.setFormat(
            f"last {run_label(last.run_id)}: {status_text(last.status)}, epoch %v of %m"
        )
        who = run_label(last.run_id)
        if last.name != who:
            who = f"{who} ({last.name})"
        # A script's run (FitGapCallback) is worded from what its script had, not the config.
        words = run_summary(last) if last.kind == "callback" else summary_line(last.config)
        self.summary.setText(f"Last {who}: {words}")

    # -- errors -------------------------------------------------------------------------------------
    def show_unexpected(self, exc: BaseException) -> None:
        """A bug reached the event loop: one line here, the traceback is in the log."""
        self.statusBar().showMessage(
            f"Unexpected error: {error_message(exc)} (details in the log: Help → Show log folder)"
        )

    def show_error(self, message: str) -> None:
        """Tell the user in the status bar and a non-blocking dialog (``open``, not ``exec``)."""
        logger.warning("shown to the user: %s", message)
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
        """Stop every background task and wait for it; never destroy a running thread.

        Work that stops within a step (a run) is waited for; work that cannot be
        interrupted (a data preview, TensorFlow's import past its wait) defers the
        close until its task has finished.
        """
        if self.controller.is_busy():
            self.statusBar().showMessage("Stopping the run before closing…")
        tasks = active_tasks()
        for task in tasks:
            task.abort()
        pending = [t for t in tasks if not t.wait(t.close_wait_ms)]
        if pending:
            self._close_when_idle = True
            for task in pending:
                task.finished.connect(self._close_if_waiting)
            event.ignore()
            return
        if self._error_box is not None:
            self._error_box.close()
        super().closeEvent(event)

    def _close_if_waiting(self) -> None:
        """The one deferred close: once no background task runs, close for real."""
        if self._close_when_idle and not any(t.thread_running() for t in active_tasks()):
            self._close_when_idle = False
            QTimer.singleShot(0, self.close)
