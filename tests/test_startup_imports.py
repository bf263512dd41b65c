"""``fitgap train`` pays for no package it does not use: no scikit-learn, no SciPy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(code: str, tmp_path: Path) -> str:
    env = {"FITGAP_HOME": str(tmp_path / "home"), "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin"}
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
    config = {
        "data": {"source": "digits", "train_fraction": 0.1},
        "model": {"hidden_units": [8]},
        "training": {"epochs": 2},
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    code = (
        "import sys\n"
        "from fitgap_gui.cli import main\n"
        f"assert main(['train', '--config', {str(path)!r}, '--jsonl']) == 0\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'scipy')))\n"
    )
    assert _run(code, tmp_path) == "[]"
