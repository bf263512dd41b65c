"""The faithfulness contract for the newer levers: schedules, weight decay, batch norm, a CNN.

Each case trains a tiny run (digits, 8x8 images, a few epochs) three ways: FitGap's
``run_recorded``, the plain Keras program written out below in the test (nothing from
FitGap), and FitGap's exported Keras script run on its own.  All three histories must
agree to 1e-4, ``learning_rate`` included (the rate of each epoch's last update).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.export.files import export_runs
from fitgap_gui.core.run.session import run_recorded
from fitgap_gui.core.store.runstore import RunStore

SEED, LR, BATCH, N_TRAIN = 3, 0.01, 16, 150
STEPS = math.ceil(N_TRAIN / BATCH)  # 10 updates per epoch


@pytest.fixture(scope="module")
def digits_npz(tmp_path_factory):
    """200 digits as 8x8 images (so a CNN may use them), split 150 / 50."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    rows = np.random.default_rng(7).permutation(len(digits.target))[:200]
    x, y = digits.images[rows] / 16.0, digits.target[rows]
    path = tmp_path_factory.mktemp("data") / "digits-images.npz"
    np.savez(path, x_train=x[:N_TRAIN], y_train=y[:N_TRAIN], x_val=x[N_TRAIN:], y_val=y[N_TRAIN:])
    return path


def plain_keras(path, case: dict) -> dict:
    """A user's own Keras program for ``case``: nothing from FitGap."""
    import keras

    data = np.load(path)
    x_train, y_train, x_val, y_val = (data[k] for k in ("x_train", "y_train", "x_val", "y_val"))
    keras.utils.set_random_seed(SEED)
    batch_norm = case.get("batch_norm", False)
    layers = [keras.Input(x_train.shape[1:])]
    if "conv_filters" in case:
        layers.append(keras.layers.Reshape((8, 8, 1)))  # images with one channel
    for filters in case.get("conv_filters", []):
        layers.append(keras.layers.Conv2D(filters, 3, padding="same", activation="relu"))
        layers.append(keras.layers.MaxPooling2D(2))
    layers.append(keras.layers.Flatten())
    for width in (32, 16):
        if batch_norm:
            layers.append(keras.layers.Dense(width))
            layers.append(keras.layers.BatchNormalization())
            layers.append(keras.layers.Activation("relu"))
        else:
            layers.append(keras.layers.Dense(width, activation="relu"))
    layers.append(keras.layers.Dense(10, activation="softmax"))
    model = keras.Sequential(layers)

    epochs = case["epochs"]
    schedule = case.get("schedule", "constant")
    steps = math.ceil(len(x_train) / BATCH)
    if schedule == "cosine":  # one warm-up epoch
        learning_rate = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=0.0,
            decay_steps=(epochs - 1) * steps,
            warmup_target=LR,
            warmup_steps=1 * steps,
        )
    elif schedule == "step":  # halved every epoch
        learning_rate = keras.optimizers.schedules.ExponentialDecay(
            LR, decay_steps=1 * steps, decay_rate=0.5, staircase=True
        )
    else:
        learning_rate = LR
    optimizer = {"adam": keras.optimizers.Adam, "adamw": keras.optimizers.AdamW}[
        case.get("optimizer", "adam")
    ]
    extra = {"weight_decay": case["weight_decay"]} if "weight_decay" in case else {}
    model.compile(
        optimizer=optimizer(learning_rate=learning_rate, **extra),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    callbacks = []
    if schedule == "plateau":
        # min_delta 10: no epoch after the first counts as better, so with patience 1
        # the rate halves after every epoch from the second on.
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor="val_loss", factor=0.5, patience=1, min_delta=10.0, min_lr=1e-5
            )
        )
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=10))
    history = model.fit(
        x_train,
        y_train,
        batch_size=BATCH,
        epochs=epochs,
        validation_data=(x_val, y_val),
        callbacks=callbacks,
        shuffle=True,
        verbose=0,
    ).history
    if schedule in ("cosine", "step"):
        rate = [float(learning_rate((e + 1) * steps - 1)) for e in range(epochs)]
        history["learning_rate"] = rate
    elif schedule == "constant":
        history["learning_rate"] = [LR] * epochs
    return history


def fitgap_config(path, case: dict) -> RunConfig:
    schedule = {
        "constant": {"kind": "constant"},
        "plateau": {"kind": "plateau", "factor": 0.5, "patience": 1, "min_delta": 10.0},
        "cosine": {"kind": "cosine", "warmup_epochs": 1},
        "step": {"kind": "step", "every": 1, "factor": 0.5},
    }[case.get("schedule", "constant")]
    model = {"hidden_units": [32, 16], "batch_norm": case.get("batch_norm", False)}
    if "conv_filters" in case:
        model.update(kind="cnn", conv_filters=case["conv_filters"])
    training = {
        "optimizer": case.get("optimizer", "adam"),
        "learning_rate": LR,
        "batch_size": BATCH,
        "epochs": case["epochs"],
        "seed": SEED,
        "lr_schedule": schedule,
        "weight_decay": case.get("weight_decay"),
    }
    early = {"enabled": True, "patience": 10} if schedule["kind"] == "plateau" else {}
    return RunConfig.from_dict(
        {
            "data": {"source": "npz", "path": str(path)},
            "model": model,
            "training": training,
            "early_stopping": early,
        }
    )


def max_difference(ours: dict, theirs: dict, *, same_keys: bool = True) -> float:
    """The largest difference over ``theirs``' keys (FitGap may add measurements of its own)."""
    assert set(ours) == set(theirs) if same_keys else set(theirs) <= set(ours)
    worst = 0.0
    for key, values in theirs.items():
        assert len(ours[key]) == len(values), key
        worst = max(worst, *(abs(a - b) for a, b in zip(ours[key], values, strict=True)))
    return worst


CASES = {
    "plateau": {"schedule": "plateau", "epochs": 4},
    "cosine-warmup": {"schedule": "cosine", "epochs": 4},
    "step": {"schedule": "step", "epochs": 3},
    "weight-decay-adamw": {"optimizer": "adamw", "weight_decay": 0.05, "epochs": 3},
    "weight-decay-adam": {"optimizer": "adam", "weight_decay": 0.05, "epochs": 3},
    "batch-norm": {"batch_norm": True, "epochs": 3},
    "cnn": {"conv_filters": [8, 16], "epochs": 3},
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_run_and_exported_script_equal_plain_keras(digits_npz, tmp_path, case):
    config = fitgap_config(digits_npz, case)
    store = RunStore()
    result = run_recorded(config, store)
    assert result.status in ("completed", "early_stopped")
    plain = plain_keras(digits_npz, case)
    worst = max_difference(result.history, plain, same_keys=False)
    print(f"plain program: max |diff| {worst:g}")
    assert worst <= 1e-4

    rates = result.history["learning_rate"]
    if case.get("schedule") in ("plateau", "step"):
        assert rates[-1] < rates[0]  # the rate did drop
    if case.get("schedule") == "cosine":
        assert rates[0] == pytest.approx(LR * (STEPS - 1) / STEPS, rel=1e-5)  # warming up

    (path,) = export_runs(store, "script", [result.run_id], tmp_path / "run.py")
    out = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=240, check=True
    )
    script = json.loads(out.stdout.strip().splitlines()[-1])
    worst = max_difference(result.history, script)
    print(f"exported script: max |diff| {worst:g}")
    assert worst <= 1e-4


def test_a_stopped_cosine_runs_script_keeps_the_schedule_it_was_set_to(digits_npz, tmp_path):
    """Stopped after 2 of 4 epochs: the script trains 2, on the 4-epoch cosine it decayed by."""
    config = fitgap_config(digits_npz, {"schedule": "cosine", "epochs": 4})
    store = RunStore()
    seen: list[int] = []
    result = run_recorded(
        config,
        store,
        on_epoch=lambda _run_id, metrics: seen.append(metrics.epoch),
        should_stop=lambda: len(seen) >= 2,
    )
    assert result.status == "stopped" and result.epochs_run == 2

    (path,) = export_runs(store, "script", [result.run_id], tmp_path / "run.py")
    out = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=240, check=True
    )
    script = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(script["loss"]) == 2
    worst = max_difference(result.history, script)
    print(f"exported script of a stopped cosine run: max |diff| {worst:g}")
    assert worst <= 1e-4
