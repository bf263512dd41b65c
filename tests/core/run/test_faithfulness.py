"""The faithfulness contract: a FitGap run is the plain Keras program below.

The plain program is written out here, in the test, exactly as a user would write it;
FitGap's per-epoch history must equal it to 1e-4 (the engine's steps_per_execution
and its streaming callback must not change a number).
"""

from __future__ import annotations

import numpy as np
import pytest

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import load_dataset
from fitgap_gui.core.model.measurements import TRAIN_EVAL_KEYS
from fitgap_gui.core.run.training import train


@pytest.fixture
def presplit_npz(tmp_path):
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(5)
    rows = rng.permutation(len(digits.target))[:120]
    x, y = digits.data[rows], digits.target[rows]
    path = tmp_path / "digits-presplit.npz"
    np.savez(path, x_train=x[:80], y_train=y[:80], x_val=x[80:], y_val=y[80:])
    return path


def plain_keras_history(
    path, seed, units, dropout, l2, lr, batch_size, epochs, es=None, arrays=None
):
    """The program of docs/ARCHITECTURE.md's faithfulness contract: nothing from FitGap.

    ``arrays`` replaces the file's arrays (FitGap's, with its label noise applied).
    """
    import keras

    data = np.load(path)
    x_train, y_train, x_val, y_val = arrays or (
        data[k] for k in ("x_train", "y_train", "x_val", "y_val")
    )
    keras.utils.set_random_seed(seed)
    layers = [keras.Input(x_train.shape[1:])]
    for width in units:
        layers.append(
            keras.layers.Dense(
                width,
                activation="relu",
                kernel_regularizer=keras.regularizers.l2(l2) if l2 else None,
            )
        )
        if dropout > 0:
            layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(10, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=lr),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    callbacks = [keras.callbacks.EarlyStopping(**es)] if es else []
    history = model.fit(
        x_train,
        y_train,
        batch_size=batch_size,
        epochs=epochs,
        validation_data=(x_val, y_val),
        callbacks=callbacks,
        shuffle=True,
        verbose=0,
    )
    return history.history


@pytest.mark.parametrize(
    "levers",
    [
        {"units": [32], "dropout": 0.0, "l2": 0.0, "es": None},
        {
            "units": [48, 24],
            "dropout": 0.3,
            "l2": 1e-3,
            "es": {
                "monitor": "val_loss",
                "patience": 1,
                "min_delta": 0.0,
                "restore_best_weights": True,
            },
        },
        {"units": [40], "dropout": 0.2, "l2": 1e-2, "es": None, "label_noise": 0.3},
    ],
    ids=["plain", "dropout-l2-earlystopping", "dropout-l2-labelnoise"],
)
def test_history_equals_plain_keras(presplit_npz, levers):
    """Keras's own keys equal the plain program's, with the inference-mode measurements on."""
    seed, lr, batch_size, epochs = 11, 0.003, 16, 6
    es = levers["es"]
    noise = levers.get("label_noise", 0.0)
    config = RunConfig.from_dict(
        {
            "data": {"source": "npz", "path": str(presplit_npz), "label_noise": noise},
            "model": {
                "hidden_units": levers["units"],
                "dropout": levers["dropout"],
                "l2": levers["l2"],
            },
            "training": {
                "learning_rate": lr,
                "batch_size": batch_size,
                "epochs": epochs,
                "seed": seed,
            },
            "early_stopping": {"enabled": bool(es), **(es or {})},
        }
    )
    streamed = []
    dataset = load_dataset(config.data, seed)
    result = train(config, dataset, on_epoch=streamed.append)

    expected = plain_keras_history(
        presplit_npz,
        seed,
        levers["units"],
        levers["dropout"],
        levers["l2"],
        lr,
        batch_size,
        epochs,
        es,
        arrays=(dataset.x_train, dataset.y_train, dataset.x_val, dataset.y_val) if noise else None,
    )
    # FitGap adds its measurements and each epoch's learning rate beside Keras's keys
    # and changes none of them.
    extra = set(TRAIN_EVAL_KEYS) | ({"memorized_noise"} if noise else set()) | {"learning_rate"}
    assert set(result.history) == set(expected) | extra
    np.testing.assert_allclose(result.history["learning_rate"], lr, rtol=1e-6)
    for key, values in expected.items():
        assert len(result.history[key]) == len(values), key
        np.testing.assert_allclose(result.history[key], values, atol=1e-4, rtol=0, err_msg=key)
    # The stream saw every epoch, in order, with the same numbers.
    assert [m.epoch for m in streamed] == list(range(1, len(expected["loss"]) + 1))
    np.testing.assert_allclose([m["val_loss"] for m in streamed], expected["val_loss"], atol=1e-4)
