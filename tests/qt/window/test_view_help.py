"""View and Help menus in the real window: shortcuts, options, theme, dialogs, progress."""

from __future__ import annotations

import numpy as np
import pyqtgraph
import pytest
from PySide6.QtCore import QPointF, qVersion
from PySide6.QtGui import QAction, QKeySequence, QPalette
from PySide6.QtWidgets import QApplication

from fitgap_gui import __version__
from fitgap_gui.qt.plots.theme import DARK, LIGHT, apply_app_theme
from fitgap_gui.qt.window import help as help_menu
from fitgap_gui.qt.window.main_window import MainWindow

#: Shortcuts the issue asks for, by (menu, action).
EXPECTED = {
    ("File", "Quit"): "Ctrl+Q",
    ("Run", "Train"): "Ctrl+R",
    ("Run", "Stop"): "Esc",
    ("View", "Log scale (loss)"): "Ctrl+L",
    ("View", "Show gap plot"): "Ctrl+G",
    ("View", "Reset zoom"): "Ctrl+0",
    ("Help", "What is overfitting?"): "F1",
    ("Help", "Keyboard shortcuts"): "Ctrl+/",
}


@pytest.fixture(autouse=True)
def _system_theme_after():
    """The palette and style are the application's: put them back for later tests."""
    yield
    apply_app_theme("system")


def _history(n=10):
    return {
        "loss": [1.0 / e for e in range(1, n + 1)],
        "val_loss": [0.5 + abs(e - 4) * 0.05 for e in range(1, n + 1)],
        "accuracy": [0.5 + e / 40 for e in range(1, n + 1)],
        "val_accuracy": [0.6] * n,
    }


def _actions(window) -> dict[tuple[str, str], QAction]:
    found = {}
    for top in window.menuBar().actions():
        menu = top.menu()
        for action in menu.actions():
            found[(top.text().replace("&", ""), action.text().replace("&", ""))] = action
    return found


def _press(qtbot, window, keys: str) -> None:
    """Press a key sequence in the window, as a user would."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    combo = QKeySequence(keys)[0]
    qtbot.keyClick(window, combo.key(), combo.keyboardModifiers())


def test_every_menu_action_has_its_shortcut(window):
    actions = _actions(window)
    for (menu, text), keys in EXPECTED.items():
        assert (menu, text) in actions, f"{menu} → {text} is missing"
        assert actions[(menu, text)].shortcut().toString() == keys
    if ("File", "Open data…") in actions:
        assert actions[("File", "Open data…")].shortcut().toString() == "Ctrl+O"
    for name in ("Smoothing", "Theme", "Ignore outliers", "About FitGap"):
        assert any(text == name for _menu, text in actions)


def test_shortcuts_do_what_they_say(window, qtbot):
    plots = window.plots
    plots.show_history(1, "#1", _history())
    _press(qtbot, window, "Ctrl+L")
    assert plots.plots["loss"].plotItem.getAxis("left").logMode
    assert window.view_options.log_box.isChecked()  # the bar follows the menu
    _press(qtbot, window, "Ctrl+G")
    assert plots.plots["gap"].isHidden()
    view = plots.plots["loss"].getViewBox()
    view.setXRange(2, 3)
    _press(qtbot, window, "Ctrl+0")
    assert view.viewRange()[0][0] <= 1 and view.viewRange()[0][1] > 9  # every epoch again
    _press(qtbot, window, "F1")
    qtbot.waitUntil(lambda: window.help.dialogs["overfitting"].isVisible(), timeout=3000)


def test_view_options_are_remembered_for_the_next_window(window, qtbot):
    options = window.view_options
    options.outliers_box.setChecked(True)  # the bar's check box drives the menu action
    assert options.outliers_action.isChecked() and window.plots.ignore_outliers
    options.slider.setValue(80)
    assert window.plots.smoothing == pytest.approx(0.8)
    assert options.smoothing_actions[0.8].isChecked()
    options.smoothing_actions[0.6].trigger()
    assert options.slider.value() == 60
    options.log_action.trigger()
    options.gap_action.trigger()
    options.lr_action.trigger()
    options.theme_actions["dark"].trigger()
    window.close()

    again = MainWindow()
    qtbot.addWidget(again)
    assert again.plots.smoothing == pytest.approx(0.6)
    assert again.plots.log_y and again.plots.ignore_outliers
    assert not again.plots.gap_visible()
    assert not again.plots.lr_visible() and not again.view_options.lr_action.isChecked()
    assert again.view_options.theme_actions["dark"].isChecked()
    assert again.plots.theme is DARK


def test_smoothing_in_the_window_keeps_the_raw_numbers(window):
    curves = window.plots.show_history(1, "#1", _history())
    before = curves.raw().copy()
    shown_before = curves.curves[1][0].yData.copy()
    window.view_options.slider.setValue(90)
    assert np.array_equal(curves.raw(), before, equal_nan=True)  # no learning rate: NaN
    assert not (curves.curves[1][0].yData == shown_before).all()


def test_dark_theme_darkens_plots_and_widgets_and_back(window):
    plot = window.plots.plots["loss"]
    window.view_options.theme_actions["dark"].trigger()
    assert plot.backgroundBrush().color().name() == DARK.background
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 80
    assert QApplication.style().name().lower() == "fusion"
    window.view_options.theme_actions["light"].trigger()
    assert plot.backgroundBrush().color().name() == LIGHT.background
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() > 180


def test_hover_readout_in_the_window(window, qtbot):
    window.resize(1400, 850)
    window.plots.show_history(7, "#7", _history())
    plot = window.plots.plots["accuracy"]
    view = plot.getViewBox()
    qtbot.waitUntil(lambda: view.viewRange()[0][1] > 9, timeout=3000)
    plot.scene().sigMouseMoved.emit(view.mapViewToScene(QPointF(3.1, 0.6)))
    qtbot.waitUntil(lambda: window.plots.hover.text().startswith("epoch 3"), timeout=3000)
    text = window.plots.hover.text()
    # A history without end-of-epoch measurements: the hover says it is Keras's.
    assert "#7 training accuracy (Keras running mean; old run): 0.575" in text
    assert "#7 validation accuracy: 0.6" in text


def test_shortcuts_dialog_lists_every_action_even_ones_added_later(window):
    extra = QAction("Added later", window)
    extra.setShortcut(QKeySequence("Ctrl+M"))
    window.add_menu_action("run", extra)
    dialog = window.help.show_shortcuts()
    text = dialog.browser.toPlainText()
    for (_menu, name), keys in EXPECTED.items():
        assert name in text
        assert QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText) in text
    assert "Added later" in text and "Mouse wheel" in text


def test_overfitting_page_explains_the_gap_and_three_remedies(window):
    actions = _actions(window)
    actions[("Help", "What is overfitting?")].trigger()
    text = window.help.dialogs["overfitting"].browser.toPlainText()
    for words in ("gap", "Capacity", "Dropout", "L2", "Early stopping", "preset"):
        assert words in text


def test_about_lists_versions_without_importing_tensorflow_early(window):
    actions = _actions(window)
    actions[("Help", "About FitGap")].trigger()
    text = window.help.dialogs["about"].browser.toPlainText()
    for expected in (__version__, qVersion(), pyqtgraph.__version__, "TensorFlow", "Keras"):
        assert expected in text
    assert "loading…" in text  # the engine is not loaded: no GPU check yet


def test_about_fills_in_tensorflow_and_the_gpu_once_loaded(window, qtbot):
    import tensorflow as tf

    dialog = window.help.show_about()  # opened while TensorFlow is still loading
    assert "loading…" in dialog.browser.toPlainText()
    with qtbot.waitSignal(window.engine_ready, timeout=120_000):
        window.start_engine_loading()
    text = dialog.browser.toPlainText()
    assert tf.__version__ in text
    assert "loading…" not in text and ("no (CPU)" in text or "yes (" in text)


def test_busy_bar_and_messages_from_train_to_the_first_epoch(ready_window, qtbot, tiny_config):
    window = ready_window
    busy = window.busy_indicator
    assert not busy.is_busy()  # TensorFlow is loaded
    messages: list[str] = []
    busy_at: dict[str, bool] = {}
    window.statusBar().messageChanged.connect(messages.append)
    # Connected after the indicator, so these see the state it has just set.
    window.live_runs.run_added.connect(lambda *_: busy_at.setdefault("start", busy.is_busy()))
    window.live_runs.epoch_appended.connect(lambda *_: busy_at.setdefault("epoch", busy.is_busy()))
    with qtbot.waitSignal(window.training_ended, timeout=120_000):
        window.train_configs([tiny_config])
    assert busy_at == {"start": True, "epoch": False}
    assert not busy.is_busy()
    loading = [i for i, m in enumerate(messages) if "loading data" in m]
    building = [i for i, m in enumerate(messages) if "training the first epoch" in m]
    assert loading and building and loading[0] < building[0]
    assert window.summary.isVisible() and window.summary.text().startswith("Run ")


def test_busy_bar_shows_while_tensorflow_loads(window):
    assert window.busy_indicator.is_busy()
    assert window.statusBar().currentMessage() == "Loading TensorFlow…"


def test_shortcuts_dialog_flags_a_key_given_to_two_actions(window):
    for text in ("First thing", "Second thing"):
        action = QAction(text, window)
        action.setShortcut(QKeySequence("Ctrl+Shift+F9"))
        window.add_menu_action("run", action)
    key = QKeySequence("Ctrl+Shift+F9").toString(QKeySequence.SequenceFormat.NativeText)
    assert key in help_menu.ambiguous_shortcuts(window.menuBar())
    text = window.help.show_shortcuts().browser.toPlainText()
    assert text.count("also used by another action") >= 2


def test_system_theme_follows_a_colour_scheme_change_at_run_time(window, monkeypatch):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication

    from fitgap_gui.qt.plots import theme

    plot = window.plots.plots["loss"]
    window.view_options.theme_actions["system"].trigger()
    # Offscreen Qt has no platform theme to switch, so the platform's answer is faked
    # and its change signal emitted, as the desktop does when the user switches.
    monkeypatch.setattr(theme, "system_is_dark", lambda: True)
    QGuiApplication.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert plot.backgroundBrush().color().name() == DARK.background
    window.view_options.theme_actions["light"].trigger()  # an explicit choice wins
    QGuiApplication.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert plot.backgroundBrush().color().name() == LIGHT.background
