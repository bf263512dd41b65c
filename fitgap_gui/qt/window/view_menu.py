"""The View menu and the bar above the plots: how every run's curves are shown.

Log scale (loss plot), TensorBoard-style smoothing, ignore outliers, show/hide
the gap plot and the learning-rate plot, reset zoom and the theme (System / Light / Dark).  The menu and the
bar above the plots drive the same ``ViewOptions``, which applies each option to
the ``PlotsPanel`` and remembers it in FitGap's settings (``view/...``, see settings.py: an INI file
under ``FITGAP_HOME`` in tests), so the window opens the way it was left.

The window constructs one ``ViewOptions`` (``window.view_options``).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QSettings, Qt
from PySide6.QtGui import QAction, QActionGroup, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QMenu, QSlider, QWidget

from fitgap_gui.qt.plots.theme import CHOICES, apply_app_theme
from fitgap_gui.qt.window.host import ViewHost
from fitgap_gui.qt.window.settings import open_settings

#: Smoothing weights offered in the menu (the slider allows any 0-0.99).
SMOOTHING_STEPS = (0.0, 0.6, 0.8, 0.9, 0.95, 0.99)
SLIDER_MAX = 99  # slider units are hundredths of the weight

TIPS = {
    "log": "Loss on a log scale: a training loss that keeps falling towards zero while "
    "validation loss stalls (memorizing) stays visible (Ctrl+L).",
    "smoothing": "Exponential moving average as in TensorBoard (0 = off, typical 0.6-0.9): "
    "noisy curves become readable; the raw curve stays faint behind.",
    "outliers": "Scale the y axes to the 2nd-98th percentile of the points, so one early "
    "spike does not flatten the rest of the curves.",
    "gap": "Show the plot of the gap: validation minus training cross-entropy (nats) and "
    "training minus validation accuracy, both sets measured at the epoch's end (Ctrl+G).",
    "lr": "Show the plot of the learning rate of each epoch (log scale). A triangle on the "
    "loss plot marks each drop; hover it to read the old and the new rate.",
    "keras": "Also draw Keras's own training loss and accuracy, faint and dotted: running "
    "means over the epoch with dropout and augmentation on while the weights change, so "
    "not measured like validation. The solid training curve is measured at the epoch's end.",
    "reset": "Back to the full curves after zooming or panning (Ctrl+0). Scroll to zoom, "
    "drag to pan.",
}


class ViewOptions(QObject):
    """The view options: actions, the bar above the plots, QSettings, the theme."""

    def __init__(self, host: ViewHost, settings: QSettings | None = None) -> None:
        super().__init__(host.window())
        self.host = host
        self.plots = host.plots
        self.settings = settings if settings is not None else open_settings()
        self._build_actions()
        self.bar = self._build_bar()
        self.plots.add_top_widget(self.bar)
        self._restore()
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged"):  # Qt 6.5+: follow a system switch live
            hints.colorSchemeChanged.connect(self._on_system_scheme)

    # -- building ------------------------------------------------------------------------------
    def _action(self, text: str, tip: str, shortcut: str | None, checkable: bool) -> QAction:
        action = QAction(text, self.host.window())
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.setCheckable(checkable)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        return action

    def _build_actions(self) -> None:
        w = self.host
        self.log_action = self._action("&Log scale (loss)", TIPS["log"], "Ctrl+L", True)
        self.log_action.toggled.connect(self.set_log_y)
        self.outliers_action = self._action("Ignore &outliers", TIPS["outliers"], None, True)
        self.outliers_action.toggled.connect(self.set_ignore_outliers)
        self.gap_action = self._action("Show &gap plot", TIPS["gap"], "Ctrl+G", True)
        self.gap_action.toggled.connect(self.set_gap_visible)
        self.lr_action = self._action("Show l&earning-rate plot", TIPS["lr"], None, True)
        self.lr_action.toggled.connect(self.set_lr_visible)
        self.keras_action = self._action(
            "&Keras running-mean training loss (faint)", TIPS["keras"], None, True
        )
        self.keras_action.toggled.connect(self.set_keras_running)
        self.reset_action = self._action("&Reset zoom", TIPS["reset"], "Ctrl+0", False)
        self.reset_action.triggered.connect(self.plots.reset_zoom)

        self.smoothing_menu = QMenu("&Smoothing", w.window())
        self.smoothing_menu.setToolTipsVisible(True)
        group = QActionGroup(self)
        self.smoothing_actions: dict[float, QAction] = {}
        for weight in SMOOTHING_STEPS:
            text = "Off" if weight == 0 else f"{weight:g}"
            action = self._action(text, TIPS["smoothing"], None, True)
            action.triggered.connect(lambda _=False, v=weight: self.set_smoothing(v))
            group.addAction(action)
            self.smoothing_menu.addAction(action)
            self.smoothing_actions[weight] = action

        self.theme_menu = QMenu("&Theme", w.window())
        themes = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for choice in CHOICES:
            action = self._action(
                choice.capitalize(), f"{choice.capitalize()} colours for the window", None, True
            )
            action.triggered.connect(lambda _=False, c=choice: self.set_theme(c))
            themes.addAction(action)
            self.theme_menu.addAction(action)
            self.theme_actions[choice] = action

        for action in (
            self.log_action,
            self.outliers_action,
            self.gap_action,
            self.lr_action,
            self.keras_action,
        ):
            w.add_menu_action("view", action)
        w.add_menu_action("view", self.smoothing_menu.menuAction())
        w.menus["view"].addSeparator()
        w.add_menu_action("view", self.reset_action)
        w.menus["view"].addSeparator()
        w.add_menu_action("view", self.theme_menu.menuAction())

    def _build_bar(self) -> QWidget:
        bar = QWidget()
        row = QHBoxLayout(bar)
        row.setContentsMargins(2, 0, 2, 0)
        label = QLabel("Smoothing")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, SLIDER_MAX)
        self.slider.setMaximumWidth(220)
        self.slider.setToolTip(TIPS["smoothing"])
        label.setToolTip(TIPS["smoothing"])
        self.slider_value = QLabel()
        self.slider_value.setMinimumWidth(self.slider_value.fontMetrics().horizontalAdvance("0.99"))
        self.slider.valueChanged.connect(lambda v: self.set_smoothing(v / 100))
        self.log_box = QCheckBox("Log scale")
        self.outliers_box = QCheckBox("Ignore outliers")
        self.gap_box = QCheckBox("Gap plot")
        self.lr_box = QCheckBox("Learning rate")
        for box, action in (
            (self.log_box, self.log_action),
            (self.outliers_box, self.outliers_action),
            (self.gap_box, self.gap_action),
            (self.lr_box, self.lr_action),
        ):
            box.setToolTip(action.toolTip())
            box.toggled.connect(action.setChecked)
        for widget in (label, self.slider, self.slider_value):
            row.addWidget(widget)
        row.addSpacing(12)
        for widget in (self.log_box, self.outliers_box, self.gap_box, self.lr_box):
            row.addWidget(widget)
        row.addStretch(1)
        return bar

    # -- options ---------------------------------------------------------------------------------
    def _restore(self) -> None:
        s = self.settings
        self.set_log_y(s.value("view/log_y", False, type=bool))
        self.set_ignore_outliers(s.value("view/ignore_outliers", False, type=bool))
        self.set_gap_visible(s.value("view/show_gap", True, type=bool))
        self.set_lr_visible(s.value("view/show_lr", True, type=bool))
        self.set_keras_running(s.value("view/keras_running", False, type=bool))
        self.set_smoothing(s.value("view/smoothing", 0.0, type=float))
        self.set_theme(str(s.value("view/theme", "system")))

    def _save(self, key: str, value) -> None:
        self.settings.setValue(f"view/{key}", value)

    def set_log_y(self, on: bool) -> None:
        on = bool(on)
        self.plots.set_log_y(on)
        self.log_action.setChecked(on)
        self.log_box.setChecked(on)
        self._save("log_y", on)

    def set_ignore_outliers(self, on: bool) -> None:
        on = bool(on)
        self.plots.set_ignore_outliers(on)
        self.outliers_action.setChecked(on)
        self.outliers_box.setChecked(on)
        self._save("ignore_outliers", on)

    def set_gap_visible(self, on: bool) -> None:
        on = bool(on)
        self.plots.set_gap_visible(on)
        self.gap_action.setChecked(on)
        self.gap_box.setChecked(on)
        self._save("show_gap", on)

    def set_lr_visible(self, on: bool) -> None:
        on = bool(on)
        self.plots.set_lr_visible(on)
        self.lr_action.setChecked(on)
        self.lr_box.setChecked(on)
        self._save("show_lr", on)

    def set_keras_running(self, on: bool) -> None:
        on = bool(on)
        self.plots.set_keras_running(on)
        self.keras_action.setChecked(on)
        self._save("keras_running", on)

    def set_smoothing(self, weight: float) -> None:
        weight = round(min(max(float(weight), 0.0), SLIDER_MAX / 100), 2)
        self.plots.set_smoothing(weight)
        self.slider.blockSignals(True)  # the slider calls back here; once is enough
        self.slider.setValue(round(weight * 100))
        self.slider.blockSignals(False)
        self.slider_value.setText("off" if weight == 0 else f"{weight:.2f}")
        for value, action in self.smoothing_actions.items():
            action.setChecked(abs(value - weight) < 1e-9)
        self._save("smoothing", weight)

    def set_theme(self, choice: str) -> None:
        if choice not in CHOICES:
            choice = "system"
        self.theme_choice = choice
        self.plots.apply_theme(apply_app_theme(choice))
        self.theme_actions[choice].setChecked(True)
        self._save("theme", choice)

    def _on_system_scheme(self, *_args) -> None:
        if self.theme_choice == "system":
            self.set_theme("system")
