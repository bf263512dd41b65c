"""A run store that cannot be opened: the window says so instead of a traceback."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from fitgap_gui.app import main, make_application
    app = make_application([])
    seen = []
    def answer():  # the user reads the dialog and presses OK
        box = QApplication.activeModalWidget()
        if box is not None:
            seen.append(box.text())
            box.accept()
    timer = QTimer()
    timer.timeout.connect(answer)
    timer.start(50)
    status = main([])
    print("DIALOG:", seen[0] if seen else None)
    sys.exit(status)
    """
)


def test_a_damaged_store_gives_a_message_not_a_traceback(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "runs.sqlite3").write_bytes(random.Random(3).randbytes(8192))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", FITGAP_HOME=str(home))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "fitgap store recover" in errors[0]
    assert "DIALOG:" in done.stdout and "fitgap store recover" in done.stdout
