"""Nothing decides with the test part: a run's whole history is blind to its labels, and
the faithfulness contract holds with a test part on (real tiny trainings)."""

from __future__ import annotations

import dataclasses

import numpy as np
from support.plain_keras import plain_keras_history

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import load_dataset
from fitgap_gui.core.model.measurements import TRAIN_EVAL_KEYS
from fitgap_gui.core.run.training import train


def _config(data: dict, **early_stopping) -> RunConfig:
    return RunConfig.from_dict(
        {
            "data": data,
            "model": {"hidden_units": [24], "dropout": 0.2},
            "training": {"epochs": 5, "batch_size": 16, "seed": 3, "learning_rate": 0.003},
            "early_stopping": {"enabled": bool(early_stopping), **early_stopping},
        }
    )


def _same_history(a: dict, b: dict) -> None:
    assert set(a) == set(b)
    for key in a:
        assert a[key] == b[key], key  # exactly: not one number may move


def test_changing_only_the_test_labels_leaves_the_whole_history_unchanged(tmp_path):
    """Two NPZ files that differ only in y_test, and a drawn test part relabelled: the
    histories (every key, the best and stopped epochs) are the same, bit for bit."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(150, 6)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1)
    y_test = y[120:]
    for name, labels in (("a.npz", y_test), ("b.npz", (y_test + 1) % 3)):
        np.savez(tmp_path / name, x_train=x[:120], y_train=y[:120], x_test=x[120:], y_test=labels)
    es = {"patience": 2, "monitor": "val_loss"}
    runs = []
    for name in ("a.npz", "b.npz"):
        config = _config({"source": "npz", "path": str(tmp_path / name), "label_noise": 0.1}, **es)
        dataset = load_dataset(config.data, 3)
        assert dataset.has_test
        runs.append(train(config, dataset))
    assert not np.array_equal(
        load_dataset(_config({"source": "npz", "path": str(tmp_path / "a.npz")}).data).y_test,
        load_dataset(_config({"source": "npz", "path": str(tmp_path / "b.npz")}).data).y_test,
    )
    _same_history(runs[0].history, runs[1].history)
    assert (runs[0].best_epoch, runs[0].stopped_epoch) == (
        runs[1].best_epoch,
        runs[1].stopped_epoch,
    )

    # A test part drawn from digits: its labels shuffled after the split.
    config = _config({"source": "digits", "train_fraction": 0.1, "scale": "minmax"})
    dataset = load_dataset(config.data, 3)
    assert dataset.has_test
    relabelled = dataclasses.replace(
        dataset, y_test=np.random.default_rng(0).permutation(dataset.y_test[::-1])
    )
    assert not np.array_equal(relabelled.y_test, dataset.y_test)
    _same_history(train(config, dataset).history, train(config, relabelled).history)


def test_history_equals_plain_keras_with_a_test_part_on(presplit_npz, tmp_path):
    """The faithfulness contract with the test part on: the plain program trains on the
    same training and validation arrays and never sees the test part."""
    with np.load(presplit_npz) as data:
        arrays = {k: data[k] for k in data.files}
    path = tmp_path / "with-test.npz"
    np.savez(path, **arrays, x_test=arrays["x_val"][:15], y_test=arrays["y_val"][:15])
    seed, lr, batch_size, epochs = 11, 0.003, 16, 6
    config = RunConfig.from_dict(
        {
            "data": {"source": "npz", "path": str(path)},
            "model": {"hidden_units": [32], "dropout": 0.3},
            "training": {"learning_rate": lr, "batch_size": batch_size, "epochs": epochs},
        }
    ).replace({"training.seed": seed})
    dataset = load_dataset(config.data, seed)
    assert dataset.has_test and len(dataset.y_test) == 15
    result = train(config, dataset)
    expected = plain_keras_history(path, seed, [32], 0.3, 0.0, lr, batch_size, epochs)
    assert set(result.history) == set(expected) | set(TRAIN_EVAL_KEYS) | {"learning_rate"}
    for key, values in expected.items():
        np.testing.assert_allclose(result.history[key], values, atol=1e-4, rtol=0, err_msg=key)

    # A drawn test part: the plain program on the arrays FitGap built (digits, 20 % first).
    config = config.replace(
        {"data.source": "digits", "data.path": None, "data.train_fraction": 0.1}
    )
    dataset = load_dataset(config.data, seed)
    assert dataset.has_test and dataset.meta["test_part"] == "20 % of the rows, drawn first"
    result = train(config, dataset)
    parts = (dataset.x_train, dataset.y_train, dataset.x_val, dataset.y_val)
    expected = plain_keras_history(
        presplit_npz, seed, [32], 0.3, 0.0, lr, batch_size, epochs, arrays=parts
    )
    for key, values in expected.items():
        np.testing.assert_allclose(result.history[key], values, atol=1e-4, rtol=0, err_msg=key)
