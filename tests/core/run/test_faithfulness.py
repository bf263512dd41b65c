"""The faithfulness contract: a FitGap run is the plain Keras program below.

The plain program is written out here, in the test, exactly as a user would write it;
FitGap's per-epoch history must equal it to 1e-4 (the engine's steps_per_execution
and its streaming callback must not change a number).
"""

from __future__ import annotations

import numpy as np
import pytest
from support.plain_keras import plain_keras_history

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import load_dataset
from fitgap_gui.core.model.measurements import TRAIN_EVAL_KEYS
from fitgap_gui.core.run.training import train


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
