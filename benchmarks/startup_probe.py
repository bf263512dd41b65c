"""Child process of bench_startup.py: FitGap's real ``main`` with two timestamps.

Imports nothing but the standard library before ``fitgap_gui.app`` (no NumPy), wraps
``app.show_window`` to note when the window is shown and painted, and closes the window
when the engine (TensorFlow) is loaded.  Prints ``PROBE {json}`` with monotonic
clock readings (the same clock in every process on Linux).
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fitgap_gui import app  # noqa: E402

HEAVY = ("tensorflow", "keras", "sklearn", "scipy", "pandas", "matplotlib")
marks: dict = {}
_show_window = app.show_window


def show_window():
    window = _show_window()  # shows it and processes events: the first paint is done
    marks["shown"] = time.monotonic()
    marks["heavy_at_shown"] = [m for m in HEAVY if m in sys.modules]

    def ready() -> None:
        marks["engine_ready"] = time.monotonic()
        window.close()

    window.engine_ready.connect(ready)
    return window


app.show_window = show_window
status = app.main([sys.argv[0]])
print("PROBE " + json.dumps(marks), flush=True)
sys.exit(status)
