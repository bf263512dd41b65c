"""The window is on screen before TensorFlow (or any other heavy module) is imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

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


def test_main_py_runs_as_a_program_of_its_own(tmp_path):
    """main.py started itself, as a file manager does: its execute bit and its
    ``#!/usr/bin/env python3`` line (this Python first on PATH) reach FitGap's own start,
    whose Qt pre-flight answers an impossible platform with its message and status."""
    from fitgap_gui import qtcheck

    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "python3").exists():
        pytest.skip(f"no python3 beside {sys.executable} for the shebang to find")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "FITGAP_HANDED_OVER", "FITGAP_SKIP_QT_CHECK")
    }
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        QT_QPA_PLATFORM="doesnotexist",
        FITGAP_HOME=str(tmp_path),
        XDG_RUNTIME_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [str(REPO / "main.py")],  # no interpreter named: the kernel reads the shebang
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == qtcheck.EXIT_NO_WINDOW, result.stderr
    assert result.stderr.startswith("error: FitGap cannot open its window"), result.stderr
    assert "Traceback" not in result.stderr


def test_loading_the_engine_takes_its_objects_out_of_the_collectors_view(qtbot):
    """Full collections over TensorFlow's objects stalled the GUI thread for 0.2-0.9 s.

    The real load (``start_engine_loading``, TensorFlow imported on its thread) ends
    with ``engine_ready``; by then the heap, Keras's classes with it, is frozen: out of
    every generation the collector walks.
    """
    import gc

    from fitgap_gui.app import show_window

    window = show_window()
    qtbot.addWidget(window)
    gc.unfreeze()
    try:
        with qtbot.waitSignal(window.engine_ready, timeout=180_000):
            window.start_engine_loading()
        import keras

        assert gc.get_freeze_count() > 100_000  # TensorFlow alone leaves ~400,000
        walked = {id(obj) for obj in gc.get_objects()}  # generations 0-2, not the frozen
        assert id(keras.layers.Dense) not in walked
        assert id(keras.Model) not in walked
    finally:
        gc.unfreeze()


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
