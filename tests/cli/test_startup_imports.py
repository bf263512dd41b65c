"""``fitgap train`` pays for no package it does not use: no scikit-learn, no SciPy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path) -> dict[str, str]:
    return {"FITGAP_HOME": str(tmp_path / "home"), "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin"}


def _tiny_config(tmp_path: Path, epochs: int) -> Path:
    config = {
        "data": {"source": "digits", "train_fraction": 0.1},
        "model": {"hidden_units": [8]},
        "training": {"epochs": epochs},
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def _run(code: str, tmp_path: Path) -> str:
    env = _env(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=240, cwd=ROOT, env=env
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


def test_import_keras_leaves_sklearn_and_scipy_out_and_importable(tmp_path):
    code = (
        "import sys\n"
        "from fitgap_gui.core.kerasimport import import_keras\n"
        "keras = import_keras()\n"
        "assert keras is sys.modules['keras'] and keras.ops.ones((2,)).shape == (2,)\n"
        "seen = sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'scipy'))\n"
        "import sklearn.base, scipy.stats  # both still import when asked for\n"
        "print(seen, sys.modules['sklearn'] is not None, sys.modules['scipy'] is not None)\n"
    )
    assert _run(code, tmp_path) == "[] True True"


def test_fitgap_train_imports_neither(tmp_path):
    path = _tiny_config(tmp_path, epochs=2)
    code = (
        "import sys\n"
        "from fitgap_gui.cli import main\n"
        f"assert main(['train', '--config', {str(path)!r}, '--jsonl']) == 0\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'scipy')))\n"
    )
    assert _run(code, tmp_path) == "[]"


def test_the_quick_exit_after_training_keeps_every_line_and_the_run(tmp_path):
    """``fitgap train`` ends with ``os._exit``: output, store and model must all be there."""
    path = _tiny_config(tmp_path, epochs=3)
    out = tmp_path / "result.json"
    env = _env(tmp_path)
    command = [sys.executable, "-m", "fitgap_gui.cli", "train", "--config", str(path)]
    proc = subprocess.run(
        [*command, "--jsonl", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2, 3]  # every line, flushed
    run_id = json.loads(out.read_text())["run_id"]
    listed = subprocess.run(
        [sys.executable, "-m", "fitgap_gui.cli", "runs", "show", str(run_id), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
    )
    assert listed.returncode == 0, listed.stderr
    shown = json.loads(listed.stdout)
    assert shown["status"] == "completed" and len(shown["history"]["val_loss"]) == 3
    assert (tmp_path / "home" / "models" / f"run-{run_id}.keras").stat().st_size > 0
