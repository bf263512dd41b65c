"""Real Keras (tiny): a NaN loss ends a run as ``diverged``, an exception is stored as
``failed``, and augmentation layers are there only when asked for, in training only."""

from __future__ import annotations

import numpy as np
import pytest

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.store.runstore import RunStore


def _config(tmp_path, x, y, **model) -> RunConfig:
    np.savez(tmp_path / "d.npz", x=x, y=y)
    return RunConfig.from_dict(
        {
            "data": {"source": "npz", "path": str(tmp_path / "d.npz")},
            "model": {"hidden_units": [8], **model},
            "training": {"epochs": 4, "batch_size": 8, "seed": 0},
        }
    )


def test_nan_loss_ends_the_run_as_diverged_with_a_hint(tmp_path, capfd):
    from fitgap_gui.core.run.session import run_recorded

    x = np.random.default_rng(0).normal(size=(48, 4)).astype(np.float32) * 1e37
    cfg = _config(tmp_path, x, np.arange(48) % 2)
    store = RunStore()
    seen = []
    result = run_recorded(cfg, store, on_epoch=lambda run_id, m: seen.append(m))
    assert result.status == "diverged"
    assert result.epochs_run == 1 == len(seen)  # stopped in the first epoch, not after 4
    assert "learning rate" in result.message
    stored = store.get_run(result.run_id)
    assert stored.status == "diverged"
    assert "NaN" in stored.message
    assert stored.history["loss"] == [None]  # JSON has no NaN: stored as null
    assert capfd.readouterr().out == ""  # nothing on stdout: `fitgap train --jsonl` stays JSON


def test_exception_inside_training_is_stored_as_failed(tmp_path):
    from fitgap_gui.core.run.session import run_recorded

    x = np.random.default_rng(0).normal(size=(48, 4)).astype(np.float32)
    cfg = _config(tmp_path, x, np.arange(48) % 2)
    store = RunStore()

    def on_epoch(run_id, metrics):
        if metrics.epoch == 2:
            raise RuntimeError("disk full while plotting")

    with pytest.raises(RuntimeError, match="disk full"):
        run_recorded(cfg, store, on_epoch=on_epoch)
    (stored,) = store.list_runs()
    assert stored.status == "failed"
    assert stored.message == "RuntimeError: disk full while plotting"
    assert len(store.history(stored.run_id)["loss"]) == 2  # committed epochs are kept


def _layer_names(model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers]


def test_augmentation_off_is_the_plain_stack():
    from fitgap_gui.core.config.schema import ModelConfig
    from fitgap_gui.core.model.build import build_model

    model = build_model(ModelConfig(hidden_units=[8]), (6, 6, 1), 3, image_shape=(6, 6))
    assert _layer_names(model) == ["Flatten", "Dense", "Dense"]


def test_augmentation_layers_act_in_training_only():
    import keras

    from fitgap_gui.core.config.schema import ModelConfig
    from fitgap_gui.core.model.build import build_model

    cfg = ModelConfig(
        hidden_units=[8], augment_flip=True, augment_rotation=0.2, augment_translation=0.2
    )
    keras.utils.set_random_seed(0)
    model = build_model(cfg, (64,), 10, image_shape=(8, 8))  # flat digits
    assert _layer_names(model) == [
        "Reshape",
        "RandomFlip",
        "RandomRotation",
        "RandomTranslation",
        "Flatten",
        "Dense",
        "Dense",
    ]
    x = np.random.default_rng(1).uniform(size=(16, 64)).astype(np.float32)
    inference = [np.asarray(model(x, training=False)) for _ in range(2)]
    training = [np.asarray(model(x, training=True)) for _ in range(2)]
    np.testing.assert_array_equal(inference[0], inference[1])
    assert not np.allclose(training[0], training[1])


def test_training_with_augmentation_on_image_folder_data(tmp_path):
    from PIL import Image

    from fitgap_gui.core.run.session import run_recorded

    for c, name in enumerate(("a", "b")):
        (tmp_path / "img" / name).mkdir(parents=True)
        for i in range(8):
            Image.new("RGB", (9 + i, 7), (30 * i, 200 * c, 50)).save(
                tmp_path / "img" / name / f"{i}.png"
            )
    cfg = RunConfig.from_dict(
        {
            "data": {"source": "images", "path": str(tmp_path / "img"), "image_size": [6, 6]},
            "model": {"hidden_units": [8], "augment_flip": True, "augment_translation": 0.1},
            "training": {"epochs": 2, "batch_size": 4},
        }
    )
    result = run_recorded(cfg, RunStore(), save_model=False)
    assert result.status == "completed"
    assert result.epochs_run == 2
    assert "RandomFlip" in _layer_names(result.model)
