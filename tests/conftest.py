"""Shared test set-up: offscreen Qt, a private run store per test, quiet TensorFlow.

Fixtures used across the test folders live here (a tiny config, a private Keras cache,
a researcher's script, a damaged store page); those of one folder live in that
folder's conftest.py (tests/cli, tests/qt, tests/qt/panels).
"""

from __future__ import annotations

import os

# Before anything imports Qt or TensorFlow.  Always offscreen, even when the shell
# names a platform (or an empty one): the tests never need, or open, a real screen.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def fitgap_home(tmp_path, monkeypatch):
    """Every test gets its own run store folder, never the user's real one."""
    home = tmp_path / "fitgap-home"
    monkeypatch.setenv("FITGAP_HOME", str(home))
    return home


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """A private, empty Keras cache (``KERAS_HOME``): its ``datasets`` folder, made.

    Nothing of the user's own ``~/.keras`` is seen; a test puts its files here.
    """
    home = tmp_path / "keras-home"
    (home / "datasets").mkdir(parents=True)
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home / "datasets"


@pytest.fixture
def tiny_config():
    """A run that trains real Keras in well under a second: 60 digits, 3 epochs."""
    from fitgap_gui.core.config.schema import RunConfig

    return RunConfig.from_dict(
        {
            "data": {"source": "digits", "train_fraction": 0.05, "validation_split": 0.2},
            "model": {"hidden_units": [16]},
            "training": {"epochs": 3, "batch_size": 16, "seed": 1},
        }
    )


@pytest.fixture
def assert_same_data():
    """Check that a script's ``load_data()`` result equals FitGap's Dataset, dtypes too,
    the test part included (``x_test, y_test`` before ``n_classes`` when there is one)."""
    import numpy as np

    def check(loaded, expected) -> None:
        x_test = y_test = None
        assert len(loaded) == (7 if expected.has_test else 5)
        if expected.has_test:
            x_train, y_train, x_val, y_val, x_test, y_test, n_classes = loaded
        else:
            x_train, y_train, x_val, y_val, n_classes = loaded
        assert n_classes == expected.n_classes
        pairs = [
            (x_train, expected.x_train),
            (y_train, expected.y_train),
            (x_val, expected.x_val),
            (y_val, expected.y_val),
        ]
        if x_test is not None:
            pairs += [(x_test, expected.x_test), (y_test, expected.y_test)]
        for got, want in pairs:
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)

    return check


OWN_MODEL_SCRIPT = """
import sys
import keras
import numpy as np
from fitgap_gui.callback import FitGapCallback

rng = np.random.default_rng(0)
x = rng.random((64, 8, 8, 1)).astype("float32")
y = rng.integers(0, 3, 64)


class AnnounceAndPause(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        print("epoch", epoch + 1, flush=True)
        if epoch + 1 == {pause_after}:
            sys.stdin.readline()  # the test looks (or kills) while the script waits here


keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                          keras.layers.Dropout(0.3),
                          keras.layers.Dense(3, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs={epochs}, validation_split=0.25, verbose=0,
          callbacks=[FitGapCallback(name={name!r}), AnnounceAndPause()])
print("done", flush=True)
"""


@pytest.fixture
def own_model_script(tmp_path, fitgap_home):
    """Start a researcher's script (its own model + FitGapCallback) in another process.

    It prints ``epoch N`` as each epoch ends and, after epoch ``pause_after``, waits
    for a line on stdin.  Returns the Popen (text mode, stdin and stdout piped); the
    process is killed and its pipes closed when the test ends.
    """
    import subprocess
    import sys
    from pathlib import Path

    started = []

    def start(name: str, epochs: int, pause_after: int) -> subprocess.Popen:
        script = tmp_path / "own_model_script.py"
        script.write_text(
            OWN_MODEL_SCRIPT.format(name=name, epochs=epochs, pause_after=pause_after)
        )
        env = dict(os.environ, FITGAP_HOME=str(fitgap_home), TF_CPP_MIN_LOG_LEVEL="3")
        proc = subprocess.Popen(
            [sys.executable, str(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=Path(__file__).resolve().parent.parent,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.kill()
        proc.wait(timeout=30)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()


def damage_a_page(path, table: str = "runs") -> int:
    """Overwrite one leaf page of ``table`` (not the header) with random bytes; its number."""
    import random
    import sqlite3

    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the main file
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    leaves = [
        row[0]
        for row in db.execute(
            "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno",
            (table,),
        )
    ]
    db.close()
    assert len(leaves) >= 3, leaves  # runs on other pages must survive
    page = leaves[len(leaves) // 2]
    garbage = random.Random(7).randbytes(page_size)
    with open(path, "r+b") as f:
        f.seek((page - 1) * page_size)
        f.write(garbage)
    return page


@pytest.fixture(name="damage_a_page")
def _damage_a_page_fixture():
    """``damage_a_page(path, table="runs")``: garbage in one page of a real store file."""
    return damage_a_page
