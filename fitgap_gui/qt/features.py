"""The feature panels that plug into the main window, in one place.

Each feature module has ``install(window)``: it adds its menu actions with
``window.add_menu_action``, its panels with ``window.add_side_tab``, and connects to
the window's GUI-thread signals (``run_started``, ``dataset_ready``, ``epoch_done``,
``run_finished``, ``training_ended``).  Keeping the list here keeps main_window.py
about layout and the run lifecycle only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .main_window import MainWindow


def install_features(window: MainWindow) -> None:
    """Install every feature panel into ``window`` (order = tab and menu order)."""
    from . import busy, data_dialog, help, runs_panel, view_menu

    data_dialog.install(window)  # File → Open data…, image folder, Keras cache
    runs_panel.install(window)  # Runs tab, exports, config files, settings
    view_menu.install(window)  # View options, smoothing bar, theme
    help.install(window)  # Help → What is overfitting?, shortcuts, About
    busy.install(window)  # status-bar busy bar while loading
    from . import diagnosis_panel, experiments_panel

    diagnosis_panel.install(window)  # Diagnosis tab, Apply and run
    experiments_panel.install(window)  # compare remedies, sweeps
    from . import insights_panel

    insights_panel.install(window)  # Insights tab (weights, boundary, mistakes)
