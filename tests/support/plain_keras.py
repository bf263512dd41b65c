"""The plain Keras program of docs/ARCHITECTURE.md's faithfulness contract, and its data."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_presplit_npz(folder: Path) -> Path:
    """120 digits rows as a pre-split NPZ (80 training, 40 validation)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(5)
    rows = rng.permutation(len(digits.target))[:120]
    x, y = digits.data[rows], digits.target[rows]
    path = folder / "digits-presplit.npz"
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
