"""FitGapCallback on a user's own Keras model: a real (tiny) CNN trained outside FitGap.

The model is built here, as a researcher would, with Conv2D, Dropout, an L2 penalty and
EarlyStopping; FitGap only sees it through the callback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from fitgap_gui.cli import main
from fitgap_gui.core.store.runstore import RunStore


def digits_images(n: int = 120) -> tuple[np.ndarray, ...]:
    """8x8 digit images (scikit-learn ships them): (x_train, y_train, x_val, y_val)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images[:n] / 16.0).astype("float32")[..., None]
    y = digits.target[:n].astype("int64")
    cut = int(n * 0.75)
    return x[:cut], y[:cut], x[cut:], y[cut:]


def small_cnn(dropout: float = 0.25, l2: float = 1e-3, seed: int = 3):
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(
                4, 3, activation="relu", kernel_regularizer=keras.regularizers.l2(l2)
            ),
            keras.layers.Flatten(),
            keras.layers.Dropout(dropout),
            keras.layers.Dense(10, activation="softmax"),
        ],
        name="lab_cnn",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def test_own_cnn_is_recorded_with_its_history_levers_and_diagnosis(fitgap_home, capsys, tmp_path):
    import keras

    from fitgap_gui.callback import FitGapCallback

    x, y, x_val, y_val = digits_images()
    model = small_cnn()
    early = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=1, min_delta=1e-4, restore_best_weights=True
    )
    callback = FitGapCallback(name="lab cnn", home=fitgap_home, train_eval=(x[:32], y[:32]))
    history = model.fit(
        x,
        y,
        batch_size=30,
        epochs=4,
        validation_data=(x_val, y_val),
        callbacks=[callback, early],
        verbose=0,
    )
    assert callback.run_id is not None
    # The one line the script prints when the run is recorded.
    assert capsys.readouterr().out.startswith(f"FitGap: recorded run {callback.run_id} 'lab cnn'")

    assert main(["runs", "show", str(callback.run_id), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["kind"] == "callback"
    assert shown["name"] == "lab cnn"
    # Every key Keras's History holds, equal to 1e-6, epoch by epoch.
    assert set(history.history) <= set(shown["history"])
    for key, values in history.history.items():
        np.testing.assert_allclose(shown["history"][key], values, rtol=0, atol=1e-6)
    assert shown["epochs_run"] == len(history.history["loss"])
    # The measured training side, measured in inference mode on the given subset.
    assert len(shown["history"]["train_eval_cross_entropy"]) == shown["epochs_run"]
    assert all(0 <= a <= 1 for a in shown["history"]["train_eval_accuracy"])
    assert shown["history"]["learning_rate"] == pytest.approx([0.01] * shown["epochs_run"])

    levers = shown["levers"]
    assert [layer["class"] for layer in levers["layers"]] == [
        "Conv2D",
        "Flatten",
        "Dropout",
        "Dense",
    ]
    assert levers["parameters"] == model.count_params()
    assert levers["dropout"] == [{"layer": model.layers[2].name, "rate": 0.25}]
    (reg,) = levers["regularizers"]
    assert reg["on"] == "kernel" and reg["factors"]["l2"] == pytest.approx(1e-3)
    assert levers["optimizer"]["class"] == "Adam"
    assert levers["optimizer"]["learning_rate"] == pytest.approx(0.01)
    assert levers["epochs"] == 4
    assert levers["early_stopping"]["monitor"] == "val_loss"
    assert levers["early_stopping"]["patience"] == 1
    assert levers["early_stopping"]["min_delta"] == pytest.approx(1e-4)
    assert levers["early_stopping"]["restore_best_weights"] is True

    # What Keras's EarlyStopping did, the run says.
    assert shown["restored_best"] is True
    if early.stopped_epoch > 0:
        assert shown["status"] == "early_stopped"
        assert shown["stopped_epoch"] == early.stopped_epoch + 1
    else:
        assert shown["status"] == "completed"
    assert shown["best_epoch"] == early.best_epoch + 1
    assert shown["diagnosis"]["verdict"] in (
        "overfitting",
        "underfitting",
        "good_fit",
        "inconclusive",
    )
    assert shown["diagnosis"]["summary"]
    assert shown["provenance"]["fingerprints"]["train_eval"].startswith("sha256:")
    assert shown["provenance"]["versions"]["keras"] == keras.__version__

    # The per-example record of train_eval, with the delivered model's classes.
    out = tmp_path / "examples.csv"
    assert main(["export", "examples", str(callback.run_id), "--out", str(out)]) == 0
    rows = [line.split(",") for line in out.read_text().splitlines()]
    assert rows[0][0] == "index" and len(rows) == 33
    predicted = model.predict(x[:32], verbose=0).argmax(axis=1)
    final = [int(row[-1]) for row in rows[1:]]
    assert final == (predicted == y[:32]).astype(int).tolist()


def test_no_validation_data_and_regression_say_they_cannot_be_judged(fitgap_home):
    import keras

    from fitgap_gui.callback import FitGapCallback

    x, y, _, _ = digits_images(60)
    model = small_cnn()
    cb = FitGapCallback(home=fitgap_home)
    model.fit(x, y, epochs=2, callbacks=[cb], verbose=0)
    run = RunStore(fitgap_home).get_run(cb.run_id)
    assert run.diagnosis["summary"].startswith("cannot judge: no validation data")
    # The script's name (pytest's, or none under a pytest-xdist worker's __main__).
    script = getattr(sys.modules["__main__"], "__file__", None)
    assert run.name.startswith(Path(script or "python").name)

    keras.utils.set_random_seed(1)
    regressor = keras.Sequential(
        [keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(1)]
    )
    regressor.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    cb = FitGapCallback(home=fitgap_home)
    regressor.fit(
        x, y.astype("float32"), epochs=2, validation_split=0.25, callbacks=[cb], verbose=0
    )
    run = RunStore(fitgap_home).get_run(cb.run_id)
    assert "cannot judge" in run.diagnosis["summary"] and "mse" in run.diagnosis["summary"]
    assert "val_mae" in run.history


def test_a_decaying_learning_rate_and_a_model_built_by_fit(fitgap_home):
    """The learning rate per epoch follows a schedule; a model with no Input is read at the end."""
    import keras

    from fitgap_gui.callback import FitGapCallback

    x, y, x_val, y_val = digits_images(60)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
    model.compile(
        optimizer=keras.optimizers.SGD(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_accuracy"],
    )
    cb = FitGapCallback(home=fitgap_home, batch_size=15)
    model.fit(
        x, y, batch_size=15, epochs=3, validation_data=(x_val, y_val), callbacks=[cb], verbose=0
    )
    run = RunStore(fitgap_home).get_run(cb.run_id)
    # 45 samples / 15 = 3 steps an epoch, halving every 2 steps.
    assert run.history["learning_rate"] == pytest.approx(
        [0.1 * 0.5 ** (3 * e / 2) for e in (1, 2, 3)]
    )
    assert run.levers["parameters"] == model.count_params() == 8 * 8 * 10 + 10
    assert run.levers["batch_size"] == 15 and run.config.training.batch_size == 15
    assert run.levers["optimizer"]["class"] == "SGD"
    assert "sparse_categorical_accuracy" in run.history
    assert run.diagnosis["numbers"]["accuracy_gap_at_last"] is not None


def test_a_train_eval_the_model_cannot_take_warns_and_the_rest_is_recorded(fitgap_home):
    from fitgap_gui.callback import FitGapCallback

    x, y, x_val, y_val = digits_images(60)
    cb = FitGapCallback(home=fitgap_home, train_eval=(np.zeros((4, 3)), y[:4]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        small_cnn().fit(x, y, epochs=2, validation_data=(x_val, y_val), callbacks=[cb], verbose=0)
    mine = [w for w in caught if "train_eval could not be measured" in str(w.message)]
    assert len(mine) == 1
    run = RunStore(fitgap_home).get_run(cb.run_id)
    assert run.epochs_run == 2 and run.status == "completed"
    assert "train_eval_cross_entropy" not in run.history


def _fitgap_warnings(caught) -> list:
    return [
        w
        for w in caught
        if issubclass(w.category, RuntimeWarning) and "not being recorded" in str(w.message)
    ]


def test_a_damaged_store_warns_once_and_training_goes_on(tmp_path):
    from fitgap_gui.callback import FitGapCallback

    home = tmp_path / "damaged"
    home.mkdir()
    (home / "runs.sqlite3").write_bytes(b"this is not an SQLite database" * 100)
    x, y, x_val, y_val = digits_images(60)
    model = small_cnn()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # Keras's own deprecation notes are recorded too
        history = model.fit(
            x,
            y,
            epochs=3,
            validation_data=(x_val, y_val),
            callbacks=[FitGapCallback(home=home)],
            verbose=0,
        )
    assert len(history.history["loss"]) == 3  # the training went on to its end
    assert len(_fitgap_warnings(caught)) == 1


def test_a_store_that_fails_mid_run_warns_once(fitgap_home):
    from fitgap_gui.callback import FitGapCallback

    x, y, x_val, y_val = digits_images(60)
    model = small_cnn()
    cb = FitGapCallback(home=fitgap_home)

    import keras

    class Break(keras.callbacks.Callback):
        """After the first epoch the store's file can no longer be opened (a gone disk)."""

        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                cb._store.close()
                cb._store.path = fitgap_home / "gone" / "runs.sqlite3"

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(
            x, y, epochs=3, validation_data=(x_val, y_val), callbacks=[cb, Break()], verbose=0
        )
    assert len(_fitgap_warnings(caught)) == 1
    assert len(history.history["loss"]) == 3
    assert RunStore(fitgap_home).get_run(cb.run_id).epochs_run == 1


def test_kill_9_keeps_every_reported_epoch(fitgap_home, own_model_script):
    proc = own_model_script(name="killed", epochs=50, pause_after=2)
    assert proc.stdout is not None
    assert [proc.stdout.readline().strip() for _ in range(2)] == ["epoch 1", "epoch 2"]
    proc.kill()  # SIGKILL while the script waits after epoch 2: no on_train_end, no cleanup
    proc.wait(timeout=30)
    (run,) = RunStore(fitgap_home).list_runs()
    assert run.name == "killed"
    assert run.status == "interrupted"
    assert run.epochs_run == 2
    assert len(RunStore(fitgap_home).history(run.run_id)["loss"]) == 2


def test_script_export_is_refused_and_other_exports_work(fitgap_home, tmp_path, capsys):
    from fitgap_gui.callback import FitGapCallback

    x, y, x_val, y_val = digits_images(60)
    cb = FitGapCallback(home=fitgap_home)
    small_cnn().fit(x, y, epochs=2, validation_data=(x_val, y_val), callbacks=[cb], verbose=0)
    run_id = str(cb.run_id)
    assert main(["export", "script", run_id, "-o", str(tmp_path / "s.py")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "FitGapCallback" in err[0] and "no Keras script" in err[0]
    assert not (tmp_path / "s.py").exists()
    assert main(["export", "model", run_id, "-o", str(tmp_path / "m.keras")]) == 2
    assert "model.save" in capsys.readouterr().err
    assert main(["runs", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["kind"] == "callback"
    for fmt, out in (("csv", "r.csv"), ("json", "r.json"), ("tensorboard", "tb")):
        assert main(["export", fmt, run_id, "-o", str(tmp_path / out)]) == 0, fmt
        assert (tmp_path / out).exists()
    rows = (tmp_path / "r.csv").read_text().splitlines()
    assert len(rows) == 3 and "val_accuracy" in rows[0]


def test_importing_the_callback_loads_no_qt():
    code = (
        "import sys, fitgap_gui.callback; "
        "print(sorted(m for m in ('PySide6', 'pyqtgraph', 'shiboken6', 'jinja2') if m in sys.modules))"
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_a_callback_run_ends_stopped_or_diverged_as_the_engine_decides(fitgap_home):
    """``results.status.final_status``: another callback's stop, and a NaN loss."""
    import keras

    from fitgap_gui.callback import FitGapCallback

    class StopAfterOne(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    x, y, x_val, y_val = digits_images(60)
    stopped = FitGapCallback(home=fitgap_home)
    small_cnn().fit(
        x,
        y,
        epochs=3,
        validation_data=(x_val, y_val),
        callbacks=[StopAfterOne(), stopped],
        verbose=0,
    )
    diverged = FitGapCallback(home=fitgap_home)
    small_cnn().fit(
        np.full_like(x, np.nan),
        y,
        epochs=2,
        validation_data=(x_val, y_val),
        callbacks=[diverged],
        verbose=0,
    )
    store = RunStore(fitgap_home)
    run = store.get_run(stopped.run_id)
    assert (run.status, run.epochs_run, run.stopped_epoch) == ("stopped", 1, None)
    assert run.levers["stopped_by"] == "a callback set model.stop_training"
    run = store.get_run(diverged.run_id)
    assert run.status == "diverged" and run.message == "loss became NaN or infinite by epoch 2"


@pytest.mark.parametrize("before_early_stopping", [True, False], ids=["first", "last"])
def test_test_data_judges_the_model_fit_delivers(fitgap_home, before_early_stopping):
    """Its restored best epoch, whichever callback ends first; the history untouched."""
    import keras

    from fitgap_gui.callback import FitGapCallback

    x, y, x_val, y_val = digits_images(160)

    def fit(test_data):
        model = small_cnn(dropout=0.25, l2=0.0)
        early = keras.callbacks.EarlyStopping(patience=1, restore_best_weights=True)
        cb = FitGapCallback(home=fitgap_home, test_data=test_data, early_stopping=early)
        callbacks = [cb, early] if before_early_stopping else [early, cb]
        history = model.fit(
            x, y, epochs=30, validation_data=(x_val, y_val), callbacks=callbacks, verbose=0
        )
        return model, cb, history.history, early

    model, cb, history, early = fit((x_val, y_val))
    _, _, unjudged, _ = fit(None)
    assert history == unjudged  # judged after fit: no number of the history changed
    run = RunStore(fitgap_home).get_run(cb.run_id)
    assert early.stopped_epoch > 0 and run.test is not None
    epoch = run.test["epoch"]
    assert epoch == early.best_epoch + 1 == run.best_epoch < run.epochs_run
    # The test part here is the validation rows: the delivered epoch's validation numbers.
    assert run.test["n"] == len(y_val)
    assert run.test["accuracy"] == pytest.approx(history["val_accuracy"][epoch - 1], abs=1e-6)
    assert run.test["cross_entropy"] == pytest.approx(history["val_loss"][epoch - 1], abs=1e-4)
    assert run.to_dict()["test"] == run.test
    assert run.levers["test_data"] == {"samples": len(y_val)}
    assert "test" in run.provenance["fingerprints"]
    probabilities = model.predict(x_val, verbose=0)  # the model fit left: the judged one
    accuracy = float(np.mean(probabilities.argmax(axis=1) == y_val))
    assert run.test["accuracy"] == pytest.approx(accuracy, abs=1e-6)


def test_without_test_data_a_callback_run_has_no_test_numbers(fitgap_home):
    from fitgap_gui.callback import FitGapCallback

    x, y, x_val, y_val = digits_images(60)
    cb = FitGapCallback(home=fitgap_home)
    small_cnn().fit(x, y, epochs=1, validation_data=(x_val, y_val), callbacks=[cb], verbose=0)
    run = RunStore(fitgap_home).get_run(cb.run_id)
    assert run.test is None and run.to_dict()["test"] is None
