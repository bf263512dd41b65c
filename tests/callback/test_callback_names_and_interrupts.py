"""``FitGapCallback`` with odd names, and Ctrl+C during ``fit`` in a process that lives on."""

from __future__ import annotations

import json
import signal
import sqlite3
import warnings

import numpy as np
import pytest

from fitgap_gui.callback import FitGapCallback
from fitgap_gui.cli import main
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.store.runstore import RunStore, name_text


def tiny_fit(callback, epochs: int = 1, more=()) -> None:
    import keras

    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 4)).astype("float32")
    y = (x[:, 0] > 0).astype(int)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, validation_split=0.25, epochs=epochs, verbose=0, callbacks=[callback, *more])


def recorded(callback) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tiny_fit(callback)
    return [str(w.message) for w in caught if "FitGap" in str(w.message)]


def test_names_are_text_when_stored_and_odd_ones_are_refused(tiny_config):
    assert name_text(b"caf\xc3\xa9 \xff") == "café \ufffd"
    assert (name_text(42), name_text(2.5), name_text("x")) == ("42", "2.5", "x")
    for odd in (("a", "b"), ["a"], None, object()):
        with pytest.raises(FitGapError, match="a run name is text"):
            name_text(odd)
    store = RunStore()
    assert store.get_run(store.create_run(tiny_config, name=7)).name == "7"  # type: ignore[arg-type]

    as_bytes = FitGapCallback(name=b"notebook \xff run")  # type: ignore[arg-type]
    assert recorded(as_bytes) == []
    assert store.get_run(as_bytes.run_id).name == "notebook \ufffd run"
    as_tuple = FitGapCallback(name=("a", "b"))  # type: ignore[arg-type]
    (warning,) = recorded(as_tuple)
    assert "not being recorded" in warning and "a run name is text, not tuple" in warning
    assert as_tuple.run_id is None and len(store.list_runs()) == 2


def test_a_store_with_a_blob_name_is_read_whole(tiny_config, tmp_path, capsys):
    """Stores written before names were checked hold bytes as BLOBs: read as text."""
    store = RunStore()
    run_id = store.create_run(tiny_config, name="later a blob")
    other = store.create_run(tiny_config, name="plain")
    store.close()
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE runs SET name = ? WHERE id = ?", (b"blob \xff name", run_id))
    assert RunStore().get_run(run_id).name == "blob \ufffd name"
    for args in (
        ["runs", "list", "--json"],
        ["runs", "show", "--json", str(run_id)],
        ["export", "json", str(run_id), str(other), "-o", str(tmp_path / "runs.json")],
    ):
        assert main(args) == 0, args
    assert "blob \\ufffd name" in capsys.readouterr().out  # JSON's escape of U+FFFD
    exported = json.loads((tmp_path / "runs.json").read_text(encoding="utf-8"))
    assert "blob \ufffd name" in json.dumps(exported, ensure_ascii=False)


def test_ctrl_c_during_fit_marks_the_run_interrupted_at_once(tiny_config):
    import keras

    class CtrlCAtEpoch2(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                signal.raise_signal(signal.SIGINT)  # what Ctrl+C in a kernel sends

    before = signal.getsignal(signal.SIGINT)
    callback = FitGapCallback(name="interrupted")
    with pytest.raises(KeyboardInterrupt):  # passed on unchanged
        tiny_fit(callback, epochs=50, more=[CtrlCAtEpoch2()])
    assert signal.getsignal(signal.SIGINT) is before  # held only for the length of fit
    store = RunStore()
    run = store.get_run(callback.run_id)
    assert run.status == "interrupted" and run.epochs_run == 2
    assert "Ctrl+C" in (run.message or "")
    store.delete_run(run.run_id)  # this process lives on, and the run may go
    assert store.list_runs() == []


def test_a_live_callback_run_may_be_deleted_but_not_a_live_fitgap_run(tiny_config):
    store = RunStore()
    own = store.create_run(tiny_config, kind="callback")  # owned by this live process
    fitgap = store.create_run(tiny_config)
    assert store.is_live(own) and store.is_live(fitgap)
    store.delete_run(own)
    with pytest.raises(FitGapError, match="still training"):
        store.delete_run(fitgap)
    assert [run.run_id for run in store.list_runs()] == [fitgap]
