"""The checks every source shares, and preview() for the open-data dialog (no TensorFlow)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from fitgap_gui.core.config import DataConfig, ModelConfig
from fitgap_gui.core.data import DataPreview, load_dataset, preview
from fitgap_gui.core.errors import ConfigError, DataError
from fitgap_gui.core.model import augmentation_image_shape


def _npz(tmp_path, **arrays) -> DataConfig:
    np.savez(tmp_path / "d.npz", **arrays)
    return DataConfig(source="npz", path=str(tmp_path / "d.npz"))


@pytest.mark.parametrize("source", ["digits", "moons", "circles", "spirals", "xor"])
def test_preview_of_builtins(source):
    p = preview(DataConfig(source=source))
    assert isinstance(p, DataPreview)
    assert p.n_train + p.n_val == p.n_samples == sum(p.class_counts)
    assert len(p.class_names) == len(p.class_counts) >= 2
    assert source in p.summary()
    if source == "digits":
        assert p.kind == "image" and len(p.sample_images) == 8
        assert {name for _, name in p.sample_images} >= {str(i) for i in range(8)}
    else:
        assert p.kind == "points2d" and p.sample_images == []


def test_preview_matches_what_training_gets(tmp_path):
    x = np.random.default_rng(0).normal(size=(50, 4))
    cfg = _npz(tmp_path, x=x, y=np.arange(50) % 3)
    p, ds = preview(cfg), load_dataset(cfg, seed=0)
    assert (p.n_train, p.n_val) == (len(ds.x_train), len(ds.x_val))
    assert p.class_names == ds.class_names
    assert ds.meta["source"] == "npz"


def test_preview_is_fast_and_needs_no_tensorflow(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b,label\n" + "".join(f"{i},{-i},{i % 2}\n" for i in range(200)))
    code = (
        "import sys, time; t = time.perf_counter();"
        "from fitgap_gui.core.config import DataConfig; from fitgap_gui.core.data import preview;"
        f"p = preview(DataConfig(source='csv', path={str(path)!r}));"
        "print(p.n_samples, 'tensorflow' in sys.modules, time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    n, tf_loaded, seconds = out.stdout.split()
    assert (n, tf_loaded) == ("200", "False"), out.stderr
    assert float(seconds) < 5.0


def test_presplit_with_one_training_class_is_refused(tmp_path):
    x = np.zeros((10, 2))
    cfg = _npz(tmp_path, x_train=x, y_train=np.zeros(10), x_val=x, y_val=np.arange(10) % 2)
    with pytest.raises(DataError, match="at least two classes"):
        preview(cfg)


def test_empty_validation_is_refused(tmp_path):
    x = np.zeros((10, 2))
    y = np.arange(10) % 2
    cfg = _npz(tmp_path, x_train=x, y_train=y, x_val=x[:0], y_val=y[:0])
    with pytest.raises(DataError, match="too few"):
        preview(cfg)


def test_too_many_features_is_refused(tmp_path, monkeypatch):
    import fitgap_gui.core.data as data

    monkeypatch.setattr(data, "MAX_FEATURES", 100)  # the real limit is 4 million
    cfg = _npz(tmp_path, x=np.zeros((4, 12, 10), dtype=np.uint8), y=[0, 1, 0, 1])
    with pytest.raises(DataError, match="features per sample"):
        preview(cfg)


def test_validation_split_decides_whether_there_are_enough_rows(tmp_path):
    x = np.zeros((6, 2))
    cfg = _npz(tmp_path, x=x, y=np.arange(6) % 2)
    assert preview(cfg).n_val == 2
    cfg.validation_split = 0.9
    with pytest.raises(DataError, match="too few"):
        preview(cfg)


def test_augmentation_shape_checks_run_before_tensorflow():
    on = ModelConfig(augment_flip=True)
    assert augmentation_image_shape(ModelConfig(), (2,), None) is None
    assert augmentation_image_shape(on, (28, 28), (28, 28)) == (28, 28, 1)
    assert augmentation_image_shape(on, (8, 8, 3), (8, 8)) == (8, 8, 3)
    assert augmentation_image_shape(on, (64,), (8, 8)) == (8, 8, 1)  # flat digits
    with pytest.raises(ConfigError, match="image data only"):
        augmentation_image_shape(on, (2,), None)
