"""main.py, double-clicked with a Python that lacks FitGap's dependencies.

``python -S`` hides site-packages, which is what a file manager's plain ``python3``
looks like to main.py: it must hand over to the checkout's ``.venv`` (the README's
install), or, when there is none to hand over to, say how to install.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


def _run(env_extra: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "FITGAP_HANDED_OVER"}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-S", str(ROOT / "main.py")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.mark.skipif(not VENV_PYTHON.exists(), reason="no .venv next to main.py")
def test_hands_over_to_the_checkouts_venv():
    # The handed-over process gets as far as the Qt pre-flight, which refuses the platform.
    result = _run({"QT_QPA_PLATFORM": "doesnotexist"})
    assert result.returncode == 3, result.stderr
    assert "cannot open its window" in result.stderr
    assert "needs PySide6" not in result.stderr


def test_says_how_to_install_when_it_cannot_hand_over():
    result = _run({"FITGAP_HANDED_OVER": "1"})
    assert result.returncode == 2
    assert "FitGap needs PySide6" in result.stderr
    assert "pip install -e ." in result.stderr
    assert "Traceback" not in result.stderr
