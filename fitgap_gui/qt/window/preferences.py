"""Edit → Preferences…: where an experiment's runs train, remembered in QSettings.

The choice is "This computer" with a number of worker processes (Auto: as many as
the cores and memory carry, ``core.executors.default_workers``; 1: one after another
in the window's own process, as a single Train always runs), or "Ray cluster" with
an address (``auto``, ``ray://host:10001``).  ``ExecutorChoice`` is the remembered
value; ``ExecutorChoice.executor()`` turns it into a ``core.executors`` executor for
a plan of several runs.  Ray is optional: when it is not installed the Ray choice
is disabled and says how to install it.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from fitgap_gui.core.experiments.executors import make_executor
from fitgap_gui.core.experiments.executors.base import usable_cores
from fitgap_gui.qt.window import settings as settings_module
from fitgap_gui.qt.window.host import Menus

if TYPE_CHECKING:
    from fitgap_gui.core.experiments.executors import Executor

KEY_KIND = "executor/kind"
#: Worker processes on this computer; 0 means Auto.
KEY_WORKERS = "executor/workers"
KEY_ADDRESS = "executor/ray_address"
DEFAULT_ADDRESS = "auto"
RAY_INSTALL = 'pip install -e ".[ray]"'

Kind = Literal["local", "ray"]


def ray_installed() -> bool:
    """Ray can be imported here (found without importing it: that takes seconds)."""
    return importlib.util.find_spec("ray") is not None


@dataclass(frozen=True)
class ExecutorChoice:
    """Where a plan of several runs trains: local workers (None: Auto), or a Ray address."""

    kind: Kind = "local"
    workers: int | None = None
    address: str = DEFAULT_ADDRESS

    @property
    def in_process(self) -> bool:
        """One after another on the training thread, as before executors existed."""
        return self.kind == "local" and self.workers == 1

    def describe(self) -> str:
        if self.kind == "ray":
            return f"Ray cluster at {self.address}"
        if self.workers is None:
            return "this computer, as many workers as it carries"
        return f"this computer, {self.workers} worker{'s' if self.workers != 1 else ''}"

    def executor(self) -> Executor:
        """The executor for a plan; Ray chosen but missing raises FitGapError (install hint)."""

        if self.kind == "ray":
            return make_executor(ray_address=self.address or DEFAULT_ADDRESS)
        return make_executor(workers=self.workers)


def load_choice(settings: QSettings | None = None) -> ExecutorChoice:
    """The remembered choice; a missing or hand-broken value falls back to Auto workers."""
    settings = settings or settings_module.open_settings()
    kind = str(settings.value(KEY_KIND, "local") or "local")
    address = str(settings.value(KEY_ADDRESS, DEFAULT_ADDRESS) or DEFAULT_ADDRESS).strip()
    try:
        workers = int(settings.value(KEY_WORKERS, 0))
    except (TypeError, ValueError):
        workers = 0
    return ExecutorChoice(
        kind="ray" if kind == "ray" else "local",
        workers=workers if workers >= 1 else None,
        address=address or DEFAULT_ADDRESS,
    )


def save_choice(choice: ExecutorChoice, settings: QSettings | None = None) -> None:
    settings = settings or settings_module.open_settings()
    settings.setValue(KEY_KIND, choice.kind)
    settings.setValue(KEY_WORKERS, choice.workers or 0)
    settings.setValue(KEY_ADDRESS, choice.address)
    settings.sync()


class PreferencesDialog(QDialog):
    """The executor choice; OK saves it, Cancel leaves the remembered one."""

    def __init__(self, parent: QWidget | None = None, settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.settings = settings

        self.cores = usable_cores()
        self.local_button = QRadioButton("This computer")
        self.local_button.setToolTip(
            "Train the runs of an experiment in worker processes on this computer"
        )
        self.workers_box = QComboBox()
        self.workers_box.addItem(f"Auto (up to {self.cores}, as memory allows)", 0)
        for n in range(1, self.cores + 1):
            text = f"{n}" if n > 1 else "1 (one after another, in this process)"
            self.workers_box.addItem(text, n)
        self.workers_box.setToolTip(
            "Auto: one worker per usable core, fewer when the memory cannot carry that "
            "many copies of the model and data, never more than the experiment's runs"
        )
        self.ray_button = QRadioButton("Ray cluster")
        self.address_edit = QLineEdit()
        self.address_edit.setPlaceholderText("auto, or ray://host:10001")
        self.address_edit.setToolTip(
            "auto: the cluster this computer belongs to (ray start); ray://HOST:10001: "
            "a cluster's client server"
        )
        self.ray_hint = QLabel("")
        self.ray_hint.setWordWrap(True)
        if not ray_installed():
            self.ray_button.setEnabled(False)
            self.ray_hint.setText(f"Ray is not installed here: {RAY_INSTALL}")
        self.group = QButtonGroup(self)
        self.group.addButton(self.local_button)
        self.group.addButton(self.ray_button)
        self.group.buttonToggled.connect(lambda *_: self._enable())

        grid = QGridLayout()
        grid.addWidget(QLabel("<b>Experiments train on</b>"), 0, 0, 1, 2)
        grid.addWidget(self.local_button, 1, 0)
        grid.addWidget(QLabel("Workers:"), 2, 0)
        grid.addWidget(self.workers_box, 2, 1)
        grid.addWidget(self.ray_button, 3, 0)
        grid.addWidget(QLabel("Address:"), 4, 0)
        grid.addWidget(self.address_edit, 4, 1)
        grid.addWidget(self.ray_hint, 5, 0, 1, 2)
        note = QLabel(
            "A single Train, and an experiment of one run, always train in this window's "
            "own process."
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        column = QVBoxLayout(self)
        column.addLayout(grid)
        column.addWidget(note)
        column.addWidget(buttons)
        self.show_choice(load_choice(self.settings))

    def show_choice(self, choice: ExecutorChoice) -> None:
        ray = choice.kind == "ray" and self.ray_button.isEnabled()
        (self.ray_button if ray else self.local_button).setChecked(True)
        workers = min(choice.workers or 0, self.cores)
        self.workers_box.setCurrentIndex(max(0, self.workers_box.findData(workers)))
        self.address_edit.setText(choice.address)
        self._enable()

    def choice(self) -> ExecutorChoice:
        """What the dialog shows now."""
        workers = int(self.workers_box.currentData() or 0)
        return ExecutorChoice(
            kind="ray" if self.ray_button.isChecked() else "local",
            workers=workers or None,
            address=self.address_edit.text().strip() or DEFAULT_ADDRESS,
        )

    def _enable(self) -> None:
        ray = self.ray_button.isChecked()
        self.workers_box.setEnabled(not ray)
        self.address_edit.setEnabled(ray)

    def accept(self) -> None:
        save_choice(self.choice(), self.settings)
        super().accept()


class Preferences:
    """Edit → Preferences… in the window; ``choice()`` is what the next experiment uses."""

    def __init__(self, host: Menus) -> None:
        self.host = host
        self.dialog: PreferencesDialog | None = None
        self.action = QAction("&Preferences…", host.window())
        shortcut = QKeySequence(QKeySequence.StandardKey.Preferences)
        # The platform's own key; some Linux desktops define none, so Ctrl+, there.
        self.action.setShortcut(shortcut if not shortcut.isEmpty() else QKeySequence("Ctrl+,"))
        self.action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.action.setToolTip("Where experiments train: this computer's cores, or a Ray cluster")
        self.action.triggered.connect(self.open)
        host.add_menu_action("edit", self.action)

    def open(self) -> PreferencesDialog:
        """Non-blocking (``open``): tests and the window's event loop go on."""
        self.dialog = PreferencesDialog(self.host.window())
        self.dialog.open()
        return self.dialog

    def choice(self) -> ExecutorChoice:
        return load_choice()


def install(host: Menus) -> Preferences:
    return Preferences(host)
