"""The Help menu: what overfitting is, the keyboard shortcuts, the log folder, About.

The dialogs are non-modal (``show``), so tests and users keep the window.  The
shortcut table is read from the window's menus when it opens, so an action added
by any feature appears with its current shortcut.  About never imports
TensorFlow: before the engine is loaded it reads the installed versions from the
package metadata and says the GPU check is still loading.  Show log folder opens
the folder of FitGap's log file (core/logfiles.py) in the file manager.
"""

from __future__ import annotations

import html
import platform
import sys
from importlib import metadata

import pyqtgraph
import PySide6
from PySide6.QtCore import QObject, QUrl, qVersion
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMenu,
    QMenuBar,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from fitgap_gui import __version__
from fitgap_gui.core.logfiles import log_folder
from fitgap_gui.qt.window.host import HelpHost

OVERFITTING_HTML = """
<h2>What is overfitting?</h2>
<p>A network learns from the <b>training</b> data and is judged on <b>validation</b>
data it never trains on. Overfitting is when it gets better and better on the first
while getting no better, or worse, on the second: it has started to memorize the
training samples, noise and all, instead of learning what they have in common.</p>

<h3>The gap</h3>
<p>FitGap plots the <b>gap</b>: validation loss minus training loss (and training
accuracy minus validation accuracy). Early in training both losses fall together and
the gap stays near zero. When the training loss keeps falling while the validation
loss flattens and then rises, the gap opens: that is overfitting. The epoch where
validation loss was lowest is marked <i>best</i>.</p>

<h3>Capacity versus data</h3>
<p>A network with many units and layers (capacity) can memorize a small training set
outright. Overfitting grows with capacity and shrinks with data: more samples are
harder to memorize, fewer (the <i>Training fraction</i> lever) or noisier ones
(<i>Label noise</i>) make memorizing easier. A network that is too small underfits
instead: both losses stay high and the gap stays small.</p>

<h3>Three remedies</h3>
<ul>
<li><b>Dropout</b> switches off a random share of units at every training step, so
the network cannot rely on any single unit to remember a sample. Training loss falls
more slowly, validation loss follows it further, and the gap opens later and less.
Typical rate 0.2-0.5.</li>
<li><b>L2 weight decay</b> adds the squared weights to the loss, keeping the weights
small and the learned function smooth, so it cannot bend around every training
point. Typical 1e-5 to 1e-2; too much and the network underfits.</li>
<li><b>Early stopping</b> watches validation loss and stops once it has not improved
for <i>patience</i> epochs, optionally putting back the best epoch's weights. It does
not narrow the gap while training; it stops before the gap has grown.</li>
</ul>

<h3>Seeing it in FitGap</h3>
<ol>
<li>Press <b>Train</b> (Ctrl+R) with the default preset: a large network on a small
share of the digits. Watch the gap plot open after a few epochs.</li>
<li>Load the <i>dropout-0.5</i>, <i>l2-0.01</i> or <i>early-stopping</i> preset (or set
the lever yourself) and train again: the gap stays smaller, or the run stops near
the best epoch.</li>
<li>Hover over a plot to read every curve's value at an epoch; use View &rarr;
Smoothing for noisy curves and View &rarr; Log scale when the training loss falls
towards zero.</li>
</ol>
"""

#: Mouse gestures of the plots, listed with the shortcuts.
MOUSE_ROWS = (
    ("Plots", "Zoom in or out", "Mouse wheel"),
    ("Plots", "Pan", "Drag with the left button"),
    ("Plots", "Read the values at an epoch", "Hover"),
)


class _Page(QDialog):
    """A non-modal dialog with one HTML page."""

    def __init__(self, parent: QWidget, title: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.browser = QTextBrowser(self)
        self.browser.setOpenExternalLinks(False)  # no network at run time
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(640, 560)


def shortcut_rows(menu_bar: QMenuBar) -> list[tuple[str, str, str]]:
    """(menu, action, shortcut) of every action with a shortcut, read from the menus."""
    rows: list[tuple[str, str, str]] = []

    def walk(menu: QMenu, path: str) -> None:
        for action in menu.actions():
            if action.menu() is not None:
                walk(action.menu(), f"{path} → {action.text().replace('&', '')}")
            elif not action.isSeparator():
                keys = [
                    k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()
                ]
                if keys:
                    rows.append((path, action.text().replace("&", ""), ", ".join(keys)))

    for top in menu_bar.actions():
        if top.menu() is not None:
            walk(top.menu(), top.text().replace("&", ""))
    return rows


def ambiguous_shortcuts(menu_bar: QMenuBar) -> set[str]:
    """Keys given to more than one action: Qt then triggers none of them."""
    seen: dict[str, int] = {}
    for _menu, _text, keys in shortcut_rows(menu_bar):
        for key in keys.split(", "):
            seen[key] = seen.get(key, 0) + 1
    return {key for key, count in seen.items() if count > 1}


def shortcuts_html(menu_bar: QMenuBar) -> str:
    clashes = ambiguous_shortcuts(menu_bar)

    def keys_cell(keys: str) -> str:
        text = f"<b>{html.escape(keys)}</b>"
        if any(key in clashes for key in keys.split(", ")):
            text += " (also used by another action: it does nothing)"
        return text

    cells = [
        f"<tr><td>{html.escape(menu)}</td><td>{html.escape(text)}</td>"
        f"<td>{keys_cell(keys)}</td></tr>"
        for menu, text, keys in [*shortcut_rows(menu_bar), *MOUSE_ROWS]
    ]
    return (
        "<h2>Keyboard shortcuts</h2>"
        '<table cellpadding="4" cellspacing="0">'
        "<tr><th align=left>Menu</th><th align=left>Action</th><th align=left>Keys</th></tr>"
        + "".join(cells)
        + "</table>"
    )


def _installed(*names: str) -> str:
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def versions(engine_loaded: bool) -> list[tuple[str, str]]:
    """(component, version) for About; TensorFlow is asked only once it is loaded."""
    if engine_loaded and "tensorflow" in sys.modules:
        import keras
        import tensorflow as tf

        tf_version, keras_version = tf.__version__, keras.__version__
        gpus = tf.config.list_physical_devices("GPU")
        gpu = f"yes ({len(gpus)} GPU{'s' if len(gpus) != 1 else ''})" if gpus else "no (CPU)"
    else:
        tf_version = _installed("tensorflow", "tensorflow-cpu", "tensorflow-macos")
        keras_version = _installed("keras")
        gpu = "loading…"
    return [
        ("FitGap", __version__),
        ("TensorFlow", tf_version),
        ("Keras", keras_version),
        ("Qt", qVersion()),
        ("PySide6", PySide6.__version__),
        ("pyqtgraph", pyqtgraph.__version__),
        ("Python", platform.python_version()),
        ("GPU used", gpu),
    ]


def about_html(engine_loaded: bool) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td><b>{html.escape(v)}</b></td></tr>"
        for k, v in versions(engine_loaded)
    )
    return (
        "<h2>FitGap</h2><p>See the gap between training and validation open, "
        "and close it with dropout, L2 and early stopping.</p>"
        f'<table cellpadding="3">{rows}</table>'
    )


class HelpMenu(QObject):
    """The Help menu's entries and the dialogs they opened (``dialogs[name]``)."""

    def __init__(self, host: HelpHost) -> None:
        super().__init__(host.window())
        self.host = host
        self.dialogs: dict[str, _Page] = {}
        #: Where the last Show log folder pointed (tests read it; the file manager opens it).
        self.opened_folder: str | None = None
        entries = (
            ("&What is overfitting?", "F1", self.show_overfitting),
            ("&Keyboard shortcuts", "Ctrl+/", self.show_shortcuts),
            ("Show &log folder", None, self.show_log_folder),
            ("&About FitGap", None, self.show_about),
        )
        for text, keys, handler in entries:
            action = QAction(text, host.window())
            if keys:
                action.setShortcut(QKeySequence(keys))
            action.setMenuRole(QAction.MenuRole.NoRole)
            if handler == self.show_about:
                action.setMenuRole(QAction.MenuRole.AboutRole)  # macOS puts it in the app menu
            action.triggered.connect(lambda _=False, h=handler: h())
            host.add_menu_action("help", action)
        # An About opened while TensorFlow loads fills in its versions and GPU when ready.
        host.engine_ready.connect(self._refresh_about)

    def _dialog(self, title: str, body: str, name: str) -> _Page:
        """A non-modal dialog with one HTML page; reused while it exists."""
        dialog = self.dialogs.get(name)
        if dialog is None:
            dialog = self.dialogs[name] = _Page(self.host.window(), title)
        dialog.browser.setHtml(body)
        dialog.show()
        dialog.raise_()
        return dialog

    def show_overfitting(self) -> _Page:
        return self._dialog("What is overfitting?", OVERFITTING_HTML, "overfitting")

    def show_shortcuts(self) -> _Page:
        return self._dialog("Keyboard shortcuts", shortcuts_html(self.host.menuBar()), "shortcuts")

    def show_about(self) -> _Page:
        dialog = self._dialog("About FitGap", about_html(self.host.engine_loaded()), "about")
        dialog.resize(460, 380)
        return dialog

    def show_log_folder(self) -> str:
        """Open the log folder in the file manager (made first, so there is one to open)."""
        folder = log_folder()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.host.show_error(f"cannot open the log folder {folder}: {exc.strerror or exc}")
            return str(folder)
        self.opened_folder = str(folder)
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            self.host.statusBar().showMessage(f"The log files are in {folder}.")
        return str(folder)

    def _refresh_about(self) -> None:
        dialog = self.dialogs.get("about")
        if dialog is not None and dialog.isVisible():
            dialog.browser.setHtml(about_html(self.host.engine_loaded()))
