"""What the window's parts may ask of the window: narrow Protocols, one per part.

``MainWindow`` builds its parts (menus, exports, settings, pausing, the busy
indicator…) and hands each itself; a part sees it only through the Protocol below
that names what the part uses, never the ``MainWindow`` class, so no part imports
the window and the window's own methods stay its own.  A part that has news for the
window says so with a signal (``Pausing.changed``).

``window()`` is ``QWidget.window()``: the top-level window, the parent a part gives
its actions, menus and dialogs.  Qt's own names (``statusBar``, ``menuBar``) keep
their camel case.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # type names only
    from PySide6.QtCore import SignalInstance
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QMenu, QMenuBar, QSplitter, QStatusBar, QWidget

    from fitgap_gui.core.run.live import RunRequest
    from fitgap_gui.core.store.runstore import RunStore
    from fitgap_gui.qt.panels.controls import ControlsPanel
    from fitgap_gui.qt.plots.plots import PlotsPanel
    from fitgap_gui.qt.runtime.live_runs import LiveRuns
    from fitgap_gui.qt.runtime.worker import TrainingController


# -- the pieces -----------------------------------------------------------------------------------
class TopLevel(Protocol):
    def window(self) -> QWidget:
        """The top-level window: the parent of a part's actions, menus and dialogs."""


class StatusLine(Protocol):
    def statusBar(self) -> QStatusBar: ...  # noqa: N802 (Qt's name)


class Errors(StatusLine, Protocol):
    def show_error(self, message: str) -> None:
        """One line in the status bar and a non-blocking dialog."""


class Menus(TopLevel, Protocol):
    def add_menu_action(self, menu: str, action: QAction) -> QAction:
        """Put an action into File/Edit/Run/View/Help (File: above Quit)."""


class EngineState(Protocol):
    @property
    def engine_ready(self) -> SignalInstance:
        """Emitted once TensorFlow is imported and Train is enabled."""

    def engine_loaded(self) -> bool: ...


# -- one per part ---------------------------------------------------------------------------------
class BusyHost(StatusLine, EngineState, Protocol):
    """The busy indicator (busy.py): the waits it shows and what ends them."""

    @property
    def live_runs(self) -> LiveRuns: ...

    @property
    def training_ended(self) -> SignalInstance: ...

    @property
    def error_shown(self) -> SignalInstance: ...


class ExportHost(Errors, Menus, Protocol):
    """File → Export (exports.py): the runs of the store and the plots on screen."""

    @property
    def store(self) -> RunStore: ...

    @property
    def plots(self) -> PlotsPanel: ...


class HelpHost(Errors, Menus, EngineState, Protocol):
    """The Help menu (help.py): the menus it lists, the engine it reports on."""

    def menuBar(self) -> QMenuBar: ...  # noqa: N802 (Qt's name)


class ConfigHost(Errors, Menus, Protocol):
    """File → Open/Save config and Presets (presets_menu.py): the controls."""

    @property
    def controls(self) -> ControlsPanel: ...


class PauseHost(ConfigHost, Protocol):
    """Pause, Continue and branch (pausing.py): the runs, the store, starting a run."""

    @property
    def controller(self) -> TrainingController: ...

    @property
    def live_runs(self) -> LiveRuns: ...

    @property
    def store(self) -> RunStore: ...

    def train_requests(self, requests: list[RunRequest]) -> bool:
        """Start the runs; False when refused (the reason was shown)."""


class LayoutHost(TopLevel, Protocol):
    """The remembered settings (settings.py): the layout, the controls, when runs start."""

    @property
    def splitter(self) -> QSplitter: ...

    @property
    def controls(self) -> ControlsPanel: ...

    @property
    def live_runs(self) -> LiveRuns: ...


class ViewHost(Menus, Protocol):
    """The View menu (view_menu.py): the plots it shows and the menus it fills."""

    @property
    def plots(self) -> PlotsPanel: ...

    @property
    def menus(self) -> dict[str, QMenu]: ...
