"""data.validation_fraction: a fixed, per-class part of a source's own validation set.

Sizes, reproducibility from the seed, independence from the training subsample, 1.0
meaning exactly what a config without the key meant, and the one-line refusals.
"""

from __future__ import annotations

import numpy as np
import pytest

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import load_dataset, preview
from fitgap_gui.core.errors import ConfigError, DataError


@pytest.fixture
def presplit(tmp_path):
    """An NPZ with its own validation set: 40 training rows, 100 validation rows (10 a class)."""
    rng = np.random.default_rng(5)
    path = tmp_path / "split.npz"
    np.savez(
        path,
        x_train=rng.normal(size=(40, 3)),
        y_train=np.arange(40) % 10,
        x_val=rng.normal(size=(100, 3)),
        y_val=np.arange(100) % 10,
    )
    return path


def _data(path, **data):
    return RunConfig.from_dict({"data": {"source": "npz", "path": str(path), **data}}).data


def test_a_fraction_keeps_that_share_of_each_class(presplit):
    full = load_dataset(_data(presplit), seed=1)
    part = load_dataset(_data(presplit, validation_fraction=0.3), seed=1)
    assert len(part.y_val) == 30
    assert np.bincount(part.y_val).tolist() == [3] * 10
    # The kept rows are rows of the full set, in their original order.
    rows = [int(np.flatnonzero((full.x_val == row).all(axis=1))[0]) for row in part.x_val]
    assert rows == sorted(rows)
    np.testing.assert_array_equal(full.y_val[rows], part.y_val)
    # Training is untouched by it.
    np.testing.assert_array_equal(full.x_train, part.x_train)
    np.testing.assert_array_equal(full.y_train, part.y_train)


def test_the_subsample_is_reproducible_from_the_seed_and_differs_between_seeds(presplit):
    cfg = _data(presplit, validation_fraction=0.3)
    a, b = load_dataset(cfg, seed=4), load_dataset(cfg, seed=4)
    np.testing.assert_array_equal(a.x_val, b.x_val)
    other = load_dataset(cfg, seed=5)
    assert len(other.y_val) == 30 and not np.array_equal(a.x_val, other.x_val)


def test_one_keeps_the_arrays_exactly_as_a_config_without_the_key(presplit):
    without = RunConfig.from_dict({"data": {"source": "npz", "path": str(presplit)}})
    assert without.data.validation_fraction == 1.0
    plain = load_dataset(without.data, seed=3)
    explicit = load_dataset(_data(presplit, validation_fraction=1.0), seed=3)
    raw = np.load(presplit)
    np.testing.assert_array_equal(plain.x_val, raw["x_val"].astype(np.float32))
    for name in ("x_train", "y_train", "x_val", "y_val"):
        np.testing.assert_array_equal(getattr(plain, name), getattr(explicit, name))


def test_at_least_one_row_of_each_class_stays(presplit):
    part = load_dataset(_data(presplit, validation_fraction=0.01), seed=0)
    assert np.bincount(part.y_val).tolist() == [1] * 10


def test_the_preview_counts_the_validation_rows_kept(presplit):
    assert preview(_data(presplit, validation_fraction=0.5)).n_val == 50
    assert preview(_data(presplit)).n_val == 100


@pytest.mark.parametrize("value", [0, 0.0, -0.2, 1.01, "0.5", None, True])
def test_out_of_range_values_are_refused_naming_the_key(value):
    with pytest.raises(ConfigError, match=r"data\.validation_fraction must be"):
        RunConfig.from_dict({"data": {"source": "mnist", "validation_fraction": value}})


@pytest.mark.parametrize("source", ["digits", "moons", "csv", "images"])
def test_data_that_splits_itself_refuses_a_fraction_below_one(source):
    data = {"source": source, "validation_fraction": 0.5}
    if source in ("csv", "images"):
        data["path"] = "somewhere"
    with pytest.raises(ConfigError, match="set that instead") as caught:
        RunConfig.from_dict({"data": data})
    assert "validation_split" in str(caught.value) and "\n" not in str(caught.value)


def test_an_npz_without_its_own_validation_set_refuses_a_fraction(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, x=np.arange(40.0).reshape(20, 2), y=np.arange(20) % 2)
    with pytest.raises(DataError, match="no validation set of its own"):
        load_dataset(_data(path, validation_fraction=0.5))
    assert len(load_dataset(_data(path)).y_val) == 4  # 1.0: the split as before
