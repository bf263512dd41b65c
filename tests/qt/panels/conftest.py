"""Fixtures of the panel tests: a bare controls panel."""

from __future__ import annotations

import pytest


@pytest.fixture
def controls(qtbot):
    """A bare ControlsPanel, shown offscreen (no window, no TensorFlow)."""
    from fitgap_gui.qt.panels.controls import ControlsPanel

    widget = ControlsPanel()
    qtbot.addWidget(widget)
    widget.show()
    return widget
