"""Pause, Continue and branch in the window: the button, Run → Pause/Continue, the status.

Pause (Ctrl+P) asks the ``TrainingController`` to hold the run at the end of the
epoch in progress.  Once it is held the controls show the run's levers, and only the
ones a branch may change (``core.branching.BRANCH_LEVERS``) are enabled.  Continue
with nothing changed releases the same ``fit``; with a changed lever the run ends
as ``branched`` and a child run goes on from its weights.  A stored run with a saved
model is continued the same way from the Runs tab ("Continue from epoch k…").
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QPushButton

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.formatting import run_label
from fitgap_gui.core.run.branching import branch_config, is_branch_lever, saved_epoch
from fitgap_gui.core.run.live import RunRequest
from fitgap_gui.qt.window.host import PauseHost

PAUSE_TIP = "Hold the run at the end of this epoch; change a lever and Continue to branch (Ctrl+P)"
CONTINUE_TIP = "Go on: the same run if nothing changed, else a branch with the new levers (Ctrl+P)"


class Pausing(QObject):
    """The Pause/Continue button and action, and what the window shows while paused."""

    #: Held, asked, released: the window's buttons are enabled anew (``update_buttons``).
    changed = Signal()

    def __init__(self, host: PauseHost) -> None:
        super().__init__(host.window())
        self.host = host
        self.button = QPushButton("Pause")
        self.button.setToolTip(PAUSE_TIP)
        self.button.clicked.connect(self.toggle)
        self.action = QAction("&Pause / Continue", host.window())
        self.action.setShortcut(QKeySequence("Ctrl+P"))
        self.action.setToolTip(PAUSE_TIP)
        self.action.triggered.connect(self.toggle)
        host.add_menu_action("run", self.action)
        #: (run id, epoch, its config) while a run is held.
        self.held: tuple[int, int, RunConfig] | None = None
        #: (run id, epoch, its config): a stored run waiting for Continue.
        self.stored: tuple[int, int, RunConfig] | None = None
        self._asked = False
        controller = host.controller
        controller.paused.connect(self._on_paused)
        controller.started.connect(self._on_started)
        controller.idle.connect(self._on_idle)
        host.controls.changed.connect(self._keep_enabling)

    # -- state --------------------------------------------------------------------------------
    def update_buttons(self, busy: bool, engine_loaded: bool) -> None:
        waiting = self.held is not None or self.stored is not None
        pausable = busy and not self._asked and self.host.controller.can_pause()
        enabled = engine_loaded and (waiting or pausable)
        self.button.setEnabled(enabled)
        self.action.setEnabled(enabled)
        self.button.setText("Continue" if waiting else ("Pausing…" if self._asked else "Pause"))
        self.button.setToolTip(CONTINUE_TIP if waiting else PAUSE_TIP)

    def _refresh(self) -> None:
        self.changed.emit()

    def _keep_enabling(self) -> None:
        """A lever changed while paused: the controls' own enabling must not undo ours."""
        if self.held is not None or self.stored is not None:
            self.host.controls.enable_only(is_branch_lever)

    def _restrict(self, config: RunConfig) -> None:
        self.host.controls.set_config(config)
        self.host.controls.enable_only(is_branch_lever)

    def _release_controls(self) -> None:
        self.held = self.stored = None
        self._asked = False
        self.host.controls.enable_only(None)

    # -- pausing a live run ------------------------------------------------------------------
    def toggle(self) -> None:
        if self.held is not None or self.stored is not None:
            self.continue_run()
        elif self.host.controller.can_pause() and not self._asked:
            self._asked = True
            self.host.controller.pause()
            self.host.statusBar().showMessage("Pausing at the end of this epoch…")
            self._refresh()

    def _on_paused(self, run_id: int, epoch: int) -> None:
        run = self.host.live_runs.get(run_id)
        if run is None:
            return
        self.held = (run_id, epoch, run.config)
        self._asked = False
        self._restrict(run.config)
        self.host.statusBar().showMessage(
            f"Paused after epoch {epoch} — change a lever and Continue to branch, "
            "or Continue to go on"
        )
        self._refresh()

    def continue_run(self) -> None:
        """Continue (Ctrl+P): go on, branch, or start the prepared stored run's child."""
        try:
            config = self.host.controls.config()
        except FitGapError as exc:
            self.host.show_error(str(exc))
            return
        if self.stored is not None:
            self._continue_stored(config)
            return
        if self.held is None:
            return
        run_id, epoch, parent = self.held
        if config == parent:
            self.host.controller.resume(None)
            message = f"{run_label(run_id, capital=True)} goes on from epoch {epoch}."
        else:
            run = self.host.live_runs.get(run_id)
            if run is not None and run.tag is not None:
                # An experiment matches its runs to its plan: a child would not fit in.
                self.host.show_error(
                    "A run of an experiment can only go on unchanged: put the levers back, "
                    "or stop the experiment and branch a run of your own."
                )
                return
            try:
                self._check(parent, config, epoch)
            except FitGapError as exc:
                self.host.show_error(str(exc))
                return
            self.host.controller.resume(config)
            message = f"{run_label(run_id, capital=True)} branches at epoch {epoch}…"
        self._release_controls()
        self.host.statusBar().showMessage(message)
        self._refresh()

    @staticmethod
    def _check(parent: RunConfig, config: RunConfig, epoch: int) -> None:
        branch_config(parent, config)
        if config.training.epochs <= epoch:
            raise FitGapError(
                f"the epochs must be above {epoch} for the branch to train any (now "
                f"{config.training.epochs})"
            )

    # -- continuing a stored run ---------------------------------------------------------------
    def prepare_stored(self, run_id: int) -> None:
        """Runs tab → Continue from epoch k…: its levers in the controls, then Continue."""
        if self.host.controller.is_busy():
            self.host.show_error("A run is in progress: stop it first (Esc).")
            return
        try:
            run = self.host.store.get_run(run_id)
        except FitGapError as exc:
            self.host.show_error(str(exc))
            return
        if not run.has_model or run.kind != "fitgap":
            self.host.show_error(f"{run_label(run_id, capital=True)} has no saved model.")
            return
        epoch, _same = saved_epoch(run)
        config = run.config
        if config.training.epochs <= epoch:  # it trained all it asked: as many again
            config = config.replace({"training.epochs": 2 * epoch})
        self.held = None
        self.stored = (run_id, epoch, run.config)
        self._restrict(config)
        self.host.statusBar().showMessage(
            f"Continue {run_label(run_id)} from epoch {epoch}: change a lever if you like, "
            "then press Continue (Ctrl+P); Train starts afresh"
        )
        self._refresh()

    def _continue_stored(self, config: RunConfig) -> None:
        assert self.stored is not None
        run_id, epoch, parent = self.stored
        try:
            self._check(parent, config, epoch)
        except FitGapError as exc:
            self.host.show_error(str(exc))
            return
        request = RunRequest(config, parent_run_id=run_id, branch_epoch=epoch, from_store=True)
        self._release_controls()
        self.host.train_requests([request])

    # -- the run's end -------------------------------------------------------------------------
    def _on_started(self, _run_id: int, request: RunRequest) -> None:
        if self.stored is not None and not request.from_store:  # Train started afresh
            self._release_controls()
            self._refresh()

    def _on_idle(self) -> None:
        if self.held is not None or self._asked:  # stopped while held, or before it was
            self._release_controls()
            self._refresh()
