"""The test part: drawn first, from all rows, stratified, from its own stream; never
flipped; or the source's own test rows (an NPZ's x_test, an image folder's test/)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from fitgap_gui.core.config.defaults import default_config
from fitgap_gui.core.config.schema import DataConfig, RunConfig
from fitgap_gui.core.data.datasets import load_dataset, preview
from fitgap_gui.core.data.steps import TEST_SEED_OFFSET, split_data, split_test
from fitgap_gui.core.errors import ConfigError, DataError

RNG = np.random.default_rng(11)


def _npz(tmp_path, name="d.npz", **arrays) -> DataConfig:
    np.savez(tmp_path / name, **arrays)
    return DataConfig(source="npz", path=str(tmp_path / name))


def _rows(n=60, classes=3):
    """Features that name their row (column 0 is the row number), labels by class."""
    x = np.column_stack([np.arange(n), RNG.normal(size=n)]).astype(np.float32)
    return x, (np.arange(n) % classes).astype(np.int64)


def _row_ids(x) -> set[int]:
    return {int(v) for v in x[:, 0]}


# -- the config key ---------------------------------------------------------------------------
def test_test_split_is_a_checked_config_key_with_default_0_2():
    assert DataConfig().test_split == 0.2
    assert RunConfig.from_dict({"data": {"test_split": 0}}).data.test_split == 0.0
    assert RunConfig.from_dict({"data": {"test_split": 0.5}}).data.test_split == 0.5
    for bad in (0.6, -0.1, True, "0.2"):
        with pytest.raises(ConfigError, match="data.test_split"):
            RunConfig.from_dict({"data": {"test_split": bad}})
    assert RunConfig().to_dict()["data"]["test_split"] == 0.2
    assert default_config().data.test_split == 0.2  # the default preset sets every key


def test_a_stored_config_from_before_the_key_has_no_test_part():
    old = RunConfig().to_dict()
    del old["data"]["test_split"]
    assert RunConfig.from_stored_json(json.dumps(old)).data.test_split == 0.0
    new = RunConfig().replace({"data.test_split": 0.3}).to_json()
    assert RunConfig.from_stored_json(new).data.test_split == 0.3


# -- the split: order, stream, stratification ---------------------------------------------------
def test_the_test_part_is_drawn_first_from_all_rows_on_its_own_stream(tmp_path):
    x, y = _rows(60)
    cfg = _npz(tmp_path, x=x, y=y)
    ds = load_dataset(cfg, seed=4)
    # first, from all rows: split_data of everything on the seed's own test stream
    (x_rest, x_te, y_rest, y_te), _ = split_data(x, y, 0.2, 4 + TEST_SEED_OFFSET)
    np.testing.assert_array_equal(ds.x_test, x_te)
    np.testing.assert_array_equal(ds.y_test, y_te)
    # then validation from the rest, on the seed's stream, exactly as without a test part
    (x_tr, x_va, _, _), _ = split_data(x_rest, y_rest, 0.2, 4)
    np.testing.assert_array_equal(ds.x_train, x_tr)
    np.testing.assert_array_equal(ds.x_val, x_va)
    # three disjoint parts that hold every row
    parts = [_row_ids(ds.x_train), _row_ids(ds.x_val), _row_ids(ds.x_test)]
    assert sum(map(len, parts)) == 60 and set().union(*parts) == set(range(60))
    assert ds.has_test and ds.meta["test_part"] == "20 % of the rows, drawn first"


def test_the_later_steps_never_move_the_test_part(tmp_path):
    x, y = _rows(80, classes=4)
    cfg = _npz(tmp_path, x=x, y=y)
    base = load_dataset(cfg, seed=2)
    for changes in (
        {"validation_split": 0.4},
        {"train_fraction": 0.3},
        {"label_noise": 0.5},
        {"validation_split": 0.1, "train_fraction": 0.5, "label_noise": 0.3},
    ):
        other = load_dataset(DataConfig(**{**cfg.__dict__, **changes}), seed=2)
        np.testing.assert_array_equal(other.x_test, base.x_test)
        np.testing.assert_array_equal(other.y_test, base.y_test)
    # another seed draws another test part
    assert _row_ids(load_dataset(cfg, seed=3).x_test) != _row_ids(base.x_test)


def test_test_labels_are_never_flipped(tmp_path):
    x, y = _rows(100, classes=5)
    clean = dict(zip(x[:, 0].astype(int).tolist(), y.tolist(), strict=True))
    cfg = _npz(tmp_path, x=x, y=y)
    cfg.label_noise = 0.9
    ds = load_dataset(cfg, seed=0)
    assert [clean[int(r)] for r in ds.x_test[:, 0]] == ds.y_test.tolist()
    flipped = [int(r) for r, label in zip(ds.x_train[:, 0], ds.y_train, strict=True)]
    assert sum(clean[r] != int(lab) for r, lab in zip(flipped, ds.y_train, strict=True)) > 50


def test_the_test_part_is_stratified_when_every_class_has_two_rows(tmp_path):
    y = np.array([0] * 50 + [1] * 30 + [2] * 20)
    x = np.column_stack([np.arange(100), np.zeros(100)]).astype(np.float32)
    ds = load_dataset(_npz(tmp_path, x=x, y=y), seed=9)
    assert np.bincount(ds.y_test).tolist() == [10, 6, 4]  # the classes' shares exactly
    # a class with a single row: not stratified, and that row stays in training
    y1 = np.concatenate([y[:-1], [3]])
    ds1 = load_dataset(_npz(tmp_path, "one.npz", x=x, y=y1), seed=9)
    assert 3 not in ds1.y_test and 3 not in ds1.y_val and 3 in ds1.y_train
    assert len(ds1.y_test) == 20


def test_split_test_with_0_is_no_test_part_and_the_old_split(tmp_path):
    x, y = _rows(50)
    assert split_test(x, y, 0.0, 1)[2:] == (None, None)
    cfg = _npz(tmp_path, x=x, y=y)
    cfg.test_split = 0.0
    ds = load_dataset(cfg, seed=1)
    (x_tr, x_va, _, _), _ = split_data(x, y, 0.2, 1)
    np.testing.assert_array_equal(ds.x_train, x_tr)
    np.testing.assert_array_equal(ds.x_val, x_va)
    assert not ds.has_test and ds.x_test is None
    assert ds.meta["test_part"] == "none: data.test_split is 0"
    assert "(no test part)" in ds.summary() and ds.test_line().startswith("test part: none")


def test_scaling_is_fitted_on_training_rows_and_applied_to_the_test_part(tmp_path):
    x, y = _rows(60)
    cfg = _npz(tmp_path, x=x * 3 + 7, y=y)
    raw = load_dataset(cfg, seed=0)
    cfg.scale = "minmax"
    scaled = load_dataset(cfg, seed=0)
    lo = raw.x_train.min(axis=0)
    span = raw.x_train.max(axis=0) - lo
    np.testing.assert_allclose(scaled.x_test, (raw.x_test - lo) / span, rtol=1e-6)
    assert scaled.x_test.dtype == np.float32 and scaled.y_test.dtype == np.int64


def test_too_few_rows_for_a_test_part_is_one_clear_error(tmp_path):
    x, y = _rows(5, classes=2)
    cfg = _npz(tmp_path, x=x, y=y)
    cfg.test_split = 0.5
    with pytest.raises(DataError, match="too few"):
        load_dataset(cfg, seed=0)


# -- sources that bring their own parts ----------------------------------------------------------
def test_an_npz_with_x_test_and_x_val_uses_both(tmp_path):
    x, y = _rows(40)
    xv, yv = _rows(12)
    xt, yt = _rows(9)
    cfg = _npz(tmp_path, x_train=x, y_train=y, x_val=xv, y_val=yv, x_test=xt, y_test=yt)
    cfg.test_split = 0.5  # not used: the file brings its own test part
    ds = load_dataset(cfg, seed=0)
    np.testing.assert_array_equal(ds.x_train, x)
    np.testing.assert_array_equal(ds.x_val, xv)
    np.testing.assert_array_equal(ds.x_test, xt)
    np.testing.assert_array_equal(ds.y_test, yt)
    assert ds.meta["test_part"] == "the NPZ's own x_test"
    p = preview(cfg)
    assert (p.n_train, p.n_val, p.n_test) == (40, 12, 9)


def test_an_npz_with_x_test_only_splits_validation_from_its_training_rows(tmp_path):
    x, y = _rows(40)
    xt, yt = _rows(10)
    cfg = _npz(tmp_path, x_train=x, y_train=y, x_test=xt, y_test=yt)
    ds = load_dataset(cfg, seed=5)
    (x_tr, x_va, _, _), _ = split_data(x, y, 0.2, 5)
    np.testing.assert_array_equal(ds.x_train, x_tr)
    np.testing.assert_array_equal(ds.x_val, x_va)
    np.testing.assert_array_equal(ds.x_test, xt)


def test_an_npz_test_part_of_another_shape_is_refused(tmp_path):
    x, y = _rows(40)
    cfg = _npz(tmp_path, x_train=x, y_train=y, x_test=np.zeros((5, 3)), y_test=y[:5])
    with pytest.raises(DataError, match="x_test"):
        load_dataset(cfg, seed=0)


def _image_tree(root, layout: dict[str, int]):
    """``{"train/cats": 4, ...}``: that many small PNGs in each folder."""
    for i, (folder, n) in enumerate(layout.items()):
        (root / folder).mkdir(parents=True)
        for k in range(n):
            pixels = np.full((6, 6, 3), (i * 40 + k * 7) % 256, dtype=np.uint8)
            Image.fromarray(pixels).save(root / folder / f"{k}.png")
    return DataConfig(source="images", path=str(root), image_size=[6, 6])


def test_an_image_folder_with_a_test_folder(tmp_path):
    cfg = _image_tree(
        tmp_path / "set",
        {"train/cats": 6, "train/dogs": 6, "test/cats": 2, "test/dogs": 3},
    )
    ds = load_dataset(cfg, seed=0)
    assert ds.class_names == ["cats", "dogs"]
    assert sorted(ds.y_test.tolist()) == [0, 0, 1, 1, 1]
    assert (len(ds.x_train), len(ds.x_val)) == (9, 3)  # validation split from train/
    assert ds.meta["test_part"] == "the test/ folder"
    assert preview(cfg).test_part == "the test/ folder"


def test_an_image_folder_with_train_and_val_has_no_test_part(tmp_path):
    cfg = _image_tree(tmp_path / "set", {"train/a": 3, "train/b": 3, "val/a": 1, "val/b": 2})
    ds = load_dataset(cfg, seed=0)
    assert (len(ds.x_train), len(ds.x_val)) == (6, 3) and not ds.has_test
    assert ds.meta["test_part"] == "none: the folder brings its own val/ rows but no test/ folder"
    assert ds.test_line() == f"test part: {ds.meta['test_part']}"


def test_an_image_folder_with_all_three_parts(tmp_path):
    cfg = _image_tree(
        tmp_path / "set",
        {"train/a": 3, "train/b": 3, "val/a": 1, "val/b": 1, "test/b": 2},
    )
    ds = load_dataset(cfg, seed=0)
    assert (len(ds.x_train), len(ds.x_val), len(ds.x_test)) == (6, 2, 2)
    assert ds.y_test.tolist() == [1, 1]  # labelled by train/'s classes


def test_a_test_folder_class_unknown_to_train_is_refused(tmp_path):
    cfg = _image_tree(tmp_path / "set", {"train/a": 3, "train/b": 3, "test/c": 1})
    with pytest.raises(DataError, match="'c' is not one of train/'s classes"):
        load_dataset(cfg, seed=0)


def test_a_folder_of_classes_named_otherwise_is_still_classes(tmp_path):
    cfg = _image_tree(tmp_path / "set", {"train": 4, "other": 4})
    ds = load_dataset(cfg, seed=0)
    assert ds.class_names == ["other", "train"]
    assert ds.meta["test_part"] == "20 % of the rows, drawn first"
