"""A run recorded by FitGapCallback says what it is: the script's data, never a built-in set."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from fitgap_gui.cli import main
from fitgap_gui.core.export.report import run_levers
from fitgap_gui.core.export.summary import run_summary
from fitgap_gui.core.store.runstore import RunStore


@pytest.fixture(scope="module")
def two_unnamed_runs(tmp_path_factory):
    """Two runs of one script in the same minute, no names given: (home, ids, stdout lines)."""
    import keras

    from fitgap_gui.callback import FitGapCallback

    home = tmp_path_factory.mktemp("home")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    ids, lines = [], []
    for _ in range(2):
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [
                keras.Input((6,)),
                keras.layers.Dense(4, activation="relu"),
                keras.layers.Dense(3, activation="softmax"),
            ]
        )
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        cb = FitGapCallback(home=home)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            model.fit(x, y, epochs=1, validation_split=0.25, callbacks=[cb], verbose=0)
        ids.append(cb.run_id)
        lines.append(out.getvalue().splitlines())
    return home, ids, lines


def test_the_run_stores_what_the_callback_knows_and_prints_one_line(two_unnamed_runs):
    home, ids, lines = two_unnamed_runs
    store = RunStore(home)
    first, second = store.get_run(ids[0]), store.get_run(ids[1])
    assert first.script_data["input_shape"] == [6]
    assert (first.script_data["train_samples"], first.script_data["val_samples"]) == (60, 20)
    assert first.script_data["classes"] == 3
    assert first.script_data["script"]  # the script's file name (pytest's here)
    # Two runs of one script in the same minute: distinct names.
    assert first.name != second.name
    for run_id, run, printed in ((ids[0], first, lines[0]), (ids[1], second, lines[1])):
        assert printed == [f"FitGap: recorded run {run_id} {run.name!r} (completed)"]


def test_every_view_words_it_from_the_script_not_the_config(two_unnamed_runs, monkeypatch, capsys):
    home, ids, _ = two_unnamed_runs
    run = RunStore(home).get_run(ids[0])
    words = run_summary(run)
    assert "60 training, 20 validation samples" in words and "input (6,)" in words
    assert "3 classes" in words and "digits" not in words
    assert run_levers(run)["data"].startswith(f"{run.script_data['script']}'s data")
    monkeypatch.setenv("FITGAP_HOME", str(home))
    assert main(["runs", "show", str(ids[0])]) == 0
    shown = capsys.readouterr().out
    assert "20 validation samples" in shown and "digits" not in shown
    assert main(["runs", "list"]) == 0
    assert "digits" not in capsys.readouterr().out
    assert main(["runs", "show", str(ids[0]), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert "data" not in doc["config"] and doc["script_data"]["val_samples"] == 20
