"""The checks every source shares, and preview() for the open-data dialog (no TensorFlow)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from fitgap_gui.core.config.schema import DataConfig, ModelConfig
from fitgap_gui.core.data.datasets import DataPreview, load_dataset, preview
from fitgap_gui.core.errors import ConfigError, DataError
from fitgap_gui.core.model.build import augmentation_image_shape


def _npz(tmp_path, **arrays) -> DataConfig:
    np.savez(tmp_path / "d.npz", **arrays)
    return DataConfig(source="npz", path=str(tmp_path / "d.npz"))


@pytest.mark.parametrize("source", ["digits", "moons", "circles", "spirals", "xor"])
def test_preview_of_builtins(source):
    p = preview(DataConfig(source=source))
    assert isinstance(p, DataPreview)
    assert p.n_train + p.n_val + p.n_test == p.n_samples == sum(p.class_counts)
    assert p.n_test == int(np.ceil(p.n_samples * 0.2))  # the test part, drawn first
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
    assert (p.n_train, p.n_val, p.n_test) == (len(ds.x_train), len(ds.x_val), len(ds.x_test))
    assert p.test_part == ds.meta["test_part"] == "20 % of the rows, drawn first"
    assert p.class_names == ds.class_names
    assert ds.meta["source"] == "npz"


def test_preview_is_fast_and_needs_no_tensorflow(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b,label\n" + "".join(f"{i},{-i},{i % 2}\n" for i in range(200)))
    code = (
        "import sys, time; t = time.perf_counter();"
        "from fitgap_gui.core.config.schema import DataConfig; from fitgap_gui.core.data.datasets import preview;"
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
    import fitgap_gui.core.data.datasets as data

    monkeypatch.setattr(data, "MAX_FEATURES", 100)  # the real limit is 4 million
    cfg = _npz(tmp_path, x=np.zeros((4, 12, 10), dtype=np.uint8), y=[0, 1, 0, 1])
    with pytest.raises(DataError, match="features per sample"):
        preview(cfg)


def test_validation_split_decides_whether_there_are_enough_rows(tmp_path):
    x = np.zeros((6, 2))
    cfg = _npz(tmp_path, x=x, y=np.arange(6) % 2)
    cfg.test_split = 0.0  # the validation split alone here
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


# -- a class with a single sample -----------------------------------------------------------------
def _single_sample_csv(tmp_path, n_common: int, extra: str = "") -> DataConfig:
    rows = "".join(f"{i},{i % 5},common\n" for i in range(n_common)) + extra + "99,9,rare\n"
    path = tmp_path / "rare.csv"
    path.write_text("f1,f2,label\n" + rows, encoding="utf-8")
    # the validation split, on the values as written (a table's default scale is standard)
    return DataConfig(source="csv", path=str(path), test_split=0.0, scale="none")


def test_a_single_sample_class_stays_in_training_whatever_the_seed(tmp_path):
    """With seed 7 sklearn's plain split put the lone sample in validation (16 + 1 rows)."""
    cfg = _single_sample_csv(tmp_path, 16)
    for seed in (7, 0, 1, 2, 3):
        ds = load_dataset(cfg, seed=seed)
        rare = ds.class_names.index("rare")
        assert (ds.y_train == rare).sum() == 1 and (ds.y_val == rare).sum() == 0
        assert len(ds.x_val) == 4 and len(ds.x_train) == 13  # ceil(17 * 0.2) held out, as before
        assert [99.0, 9.0] in ds.x_train.tolist()
        assert "class 'rare' has a single sample" in ds.meta["notices"][0]
        assert "kept in training" in ds.summary()
    p = preview(cfg)
    assert "class 'rare' has a single sample" in p.summary()


def test_a_split_that_already_trains_on_the_single_sample_is_sklearns(tmp_path):
    """Only a split that would lose a class changes (the exported script repeats sklearn's)."""
    from sklearn.model_selection import train_test_split

    x = np.arange(34, dtype=np.float32).reshape(17, 2)
    y = np.array([0] * 16 + [1])
    path = tmp_path / "one.npz"
    np.savez(path, x=x, y=y)
    ds = load_dataset(DataConfig(source="npz", path=str(path), test_split=0.0), seed=0)
    x_tr, x_va, _, _ = train_test_split(x, y, test_size=0.2, random_state=0)
    assert 1 not in train_test_split(x, y, test_size=0.2, random_state=0)[3]
    np.testing.assert_array_equal(ds.x_train, x_tr)
    np.testing.assert_array_equal(ds.x_val, x_va)


def test_several_single_sample_classes_are_named(tmp_path):
    extra = "50,1,odd\n51,2,lone\n"
    ds = load_dataset(_single_sample_csv(tmp_path, 30, extra), seed=7)
    for name in ("odd", "lone", "rare"):
        assert (ds.y_train == ds.class_names.index(name)).sum() == 1
    assert ds.meta["notices"] == [
        "3 classes have a single sample ('lone', 'odd', 'rare'), too few to appear in both "
        "training and validation: kept in training"
    ]


def test_normal_data_splits_exactly_as_sklearn_does(tmp_path):
    """Data without single-sample classes keeps today's split (the faithfulness contract)."""
    from sklearn.model_selection import train_test_split

    rng = np.random.default_rng(3)
    x = rng.normal(size=(45, 3)).astype(np.float32)
    y = np.arange(45) % 3
    path = tmp_path / "normal.npz"
    np.savez(path, x=x, y=y)
    for seed, stratified in ((7, True), (1, True)):
        ds = load_dataset(DataConfig(source="npz", path=str(path), test_split=0.0), seed=seed)
        x_tr, x_va, y_tr, y_va = train_test_split(
            x, y, test_size=0.2, random_state=seed, stratify=y if stratified else None
        )
        np.testing.assert_array_equal(ds.x_train, x_tr)
        np.testing.assert_array_equal(ds.y_val, y_va)
        assert "notices" not in ds.meta


def test_a_single_sample_that_cannot_be_trained_on_is_said_so(tmp_path):
    """Every class alone: no training row can give way, and the notice does not pretend."""
    x = np.arange(10, dtype=np.float32).reshape(5, 2)
    np.savez(tmp_path / "alone.npz", x=x, y=np.arange(5))
    cfg = DataConfig(source="npz", path=str(tmp_path / "alone.npz"), test_split=0.0)
    ds = load_dataset(cfg, seed=0)
    (notice,) = ds.meta["notices"]
    (lost,) = ds.y_val.tolist()
    assert notice.startswith("5 classes have a single sample (0, 1, 2, 3, 4)")
    assert notice.endswith(f"except {lost} (validation only: no training row could give way)")
