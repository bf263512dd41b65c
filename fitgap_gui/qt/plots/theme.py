"""Light and dark: the plot colours of each, and switching the whole application.

``PlotTheme`` is what the plots need (background, text, grid, legend, markers and
the run palette).  Both palettes are Okabe-Ito, which stays distinguishable for
colour-blind eyes; the dark one starts with the lighter hues, which read best on
a dark background.  ``apply_app_theme`` puts Qt's own widgets into the same mode:
"dark" and "light" use the Fusion style with an explicit palette (the one style
that honours a palette on every platform), "system" restores what the platform
gave and follows its colour scheme.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

#: The View → Theme choices, in menu order.
CHOICES = ("system", "light", "dark")


@dataclass(frozen=True)
class PlotTheme:
    """Colours of the plots for one mode."""

    name: str
    background: str
    foreground: str
    axis: str
    legend_brush: tuple[int, int, int, int]
    legend_pen: str
    marker: str
    zero_line: str
    palette: tuple[str, ...]
    #: Alpha (0-255) of the raw curve drawn faint behind a smoothed one.
    faint_alpha: int = 60
    readout_fill: tuple[int, int, int, int] = (255, 255, 255, 225)


#: Okabe-Ito without yellow (too faint on white) and black (kept for markers).
LIGHT = PlotTheme(
    name="light",
    background="#ffffff",
    foreground="#222222",
    axis="#555555",
    legend_brush=(255, 255, 255, 210),
    legend_pen="#bbbbbb",
    marker="#222222",
    zero_line="#888888",
    palette=("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"),
)

#: Okabe-Ito with yellow and without the dark blue, which vanishes on dark grey.
DARK = PlotTheme(
    name="dark",
    background="#1e1f22",
    foreground="#e4e4e4",
    axis="#a0a0a0",
    legend_brush=(40, 42, 46, 220),
    legend_pen="#5a5a5a",
    marker="#eeeeee",
    zero_line="#777777",
    palette=("#56B4E9", "#E69F00", "#009E73", "#CC79A7", "#F0E442", "#D55E00"),
    faint_alpha=80,
    readout_fill=(40, 42, 46, 230),
)

# What the platform gave before any explicit choice, restored by "system".
_original: dict[str, object] = {}


def system_is_dark() -> bool:
    """Whether the platform asks for a dark theme (colour scheme, else the palette)."""
    app = QGuiApplication.instance()
    if app is None:
        return False
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)  # Qt 6.5+
    if scheme is not None:
        value = scheme()
        if value == Qt.ColorScheme.Dark:
            return True
        if value == Qt.ColorScheme.Light:
            return False
    palette = _original.get("palette") or QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def dark_palette() -> QPalette:
    """A dark QPalette for the Fusion style, readable and with a visible focus colour."""
    p = QPalette()
    # The widely used dark Fusion greys: checkbox and spin-box frames stay visible.
    base, window, text = QColor("#2a2a2a"), QColor("#353535"), QColor("#e4e4e4")
    disabled = QColor("#7a7a7a")
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: QColor("#424242"),
        QPalette.ColorRole.ToolTipBase: QColor("#3a3d42"),
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: QColor("#8c8c8c"),
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: window,
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor("#ff6b6b"),
        QPalette.ColorRole.Light: QColor("#505050"),
        QPalette.ColorRole.Midlight: QColor("#424242"),
        QPalette.ColorRole.Mid: QColor("#2c2c2c"),
        QPalette.ColorRole.Dark: QColor("#1c1c1c"),
        QPalette.ColorRole.Shadow: QColor("#000000"),
        QPalette.ColorRole.Highlight: QColor("#2a82da"),
        QPalette.ColorRole.HighlightedText: QColor("#ffffff"),
        QPalette.ColorRole.Link: QColor("#56B4E9"),
        QPalette.ColorRole.LinkVisited: QColor("#CC79A7"),
    }
    for role, colour in roles.items():
        p.setColor(role, colour)
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        p.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return p


def apply_app_theme(choice: str) -> PlotTheme:
    """Put the application into ``choice`` (system/light/dark); returns the plot theme."""
    if choice not in CHOICES:
        choice = "system"
    app = QApplication.instance()
    if app is None:
        return LIGHT
    if not _original:
        _original["style"] = app.style().name()
        _original["palette"] = QPalette(app.palette())
    if choice == "system":
        if app.style().name() != _original["style"]:
            app.setStyle(str(_original["style"]))
        app.setPalette(_original["palette"])
        return DARK if system_is_dark() else LIGHT
    app.setStyle("Fusion")
    app.setPalette(dark_palette() if choice == "dark" else app.style().standardPalette())
    return DARK if choice == "dark" else LIGHT
