"""The window follows a user's own Keras training (FitGapCallback) in another process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from fitgap_gui.core.store import RunStore
from fitgap_gui.qt.runs_panel import EPOCHS, LEVERS, NAME, STATUS

REPO = Path(__file__).resolve().parents[2]

# A researcher's script: its own model, FitGapCallback, and a pause after epoch 2 (it
# waits for a line on stdin) so the test can look at the window while the run is live.
SCRIPT = """
import sys
import keras
import numpy as np
from fitgap_gui.callback import FitGapCallback

rng = np.random.default_rng(0)
x = rng.random((64, 8, 8, 1)).astype("float32")
y = rng.integers(0, 3, 64)

class PauseAfterTwo(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        print("epoch", epoch + 1, flush=True)
        if epoch == 1:
            sys.stdin.readline()

keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                          keras.layers.Dropout(0.3),
                          keras.layers.Dense(3, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs=4, validation_split=0.25, verbose=0,
          callbacks=[FitGapCallback(name="my own cnn"), PauseAfterTwo()])
print("done", flush=True)
"""


def test_the_runs_tab_follows_a_callback_run_in_another_process(
    window, qtbot, fitgap_home, tmp_path
):
    panel = window.runs_panel
    panel.timer.setInterval(50)  # the real interval is 2 s; the mechanism is the same
    script = tmp_path / "own_model.py"
    script.write_text(textwrap.dedent(SCRIPT))
    env = dict(os.environ, FITGAP_HOME=str(fitgap_home), TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline().strip() == "epoch 1"
        assert proc.stdout.readline().strip() == "epoch 2"
        # Paused after two committed epochs: the window lists the run as live.
        (run,) = RunStore(fitgap_home).list_runs()

        def row_shows(status: str, epochs: int) -> bool:
            row = panel.row_of(run.run_id)
            return (
                row >= 0
                and panel.table.item(row, STATUS).text() == status
                and panel.table.item(row, EPOCHS).text() == str(epochs)
            )

        qtbot.waitUntil(lambda: row_shows("running", 2), timeout=10_000)
        row = panel.row_of(run.run_id)
        assert panel.table.item(row, NAME).text() == "my own cnn"
        assert "dropout 0.3" in panel.table.item(row, LEVERS).text()

        proc.stdin.write("go on\n")
        proc.stdin.flush()
        assert proc.stdout.read().split()[-1] == "done"
        assert proc.wait(timeout=60) == 0
        qtbot.waitUntil(lambda: row_shows("completed", 4), timeout=10_000)
        # Selected, it is overlaid on the plots like any stored run.
        panel.select_runs([run.run_id])
        assert window.plots.point_count(run.run_id) == 4
    finally:
        proc.kill()
        proc.wait(timeout=30)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()
