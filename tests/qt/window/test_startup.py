"""The window is on screen before TensorFlow (or any other heavy module) is imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    start = time.perf_counter()
    from fitgap_gui.app import make_application, show_window
    app = make_application([])
    window = show_window()
    shown = time.perf_counter() - start
    heavy = sorted(m for m in ("tensorflow", "keras", "sklearn") if m in sys.modules)
    print(json.dumps({"visible": window.isVisible(), "title": window.windowTitle(),
                      "heavy": heavy, "seconds": shown,
                      "train_enabled": window.train_button.isEnabled()}))
    window.close()
    """
)


def test_window_is_shown_before_tensorflow_is_imported(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", FITGAP_HOME=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["visible"] and report["title"] == "FitGap"
    assert report["heavy"] == []
    assert not report["train_enabled"]  # enabled once TensorFlow has loaded
    assert report["seconds"] < 10  # ~0.5 s here; the bound only catches an import of TF


def test_main_py_is_a_runnable_script():
    text = (REPO / "main.py").read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env python3")
    assert "fitgap_gui.app" in text
    assert os.access(REPO / "main.py", os.X_OK)


def test_garbage_is_collected_in_the_gui_thread_only(qapp):
    """make_application turns automatic gc off (it could free Qt objects on the
    training thread) and collects from a timer on the GUI thread instead."""
    import gc

    from fitgap_gui.app import make_application

    saved = qapp._fitgap_gc
    qapp._fitgap_gc = None
    gc.enable()
    try:
        assert make_application([]) is qapp
        assert not gc.isenabled()
        assert qapp._fitgap_gc is not None and qapp._fitgap_gc.timer.isActive()
    finally:
        if qapp._fitgap_gc is not None:
            qapp._fitgap_gc.timer.stop()
        qapp._fitgap_gc = saved
        gc.disable()
