"""The split and the built-in sets FitGap draws without scikit-learn are scikit-learn's, exactly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_circles, make_moons
from sklearn.model_selection import train_test_split

from fitgap_gui.core.config.schema import DataConfig
from fitgap_gui.core.data import sklearn_sets, splits
from fitgap_gui.core.data.datasets import _digits, load_dataset
from fitgap_gui.core.data.steps import TEST_SEED_OFFSET, can_stratify


def _sklearn(y: np.ndarray, validation_split: float, seed: int, stratify: bool):
    return train_test_split(
        np.arange(len(y)),
        test_size=validation_split,
        random_state=seed,
        stratify=y if stratify else None,
    )


def _labels(rng: np.random.Generator, n: int, n_classes: int, skew: bool) -> np.ndarray:
    """Labels with every class at least twice; ``skew`` makes some classes rare."""
    weights = rng.dirichlet(np.full(n_classes, 0.3 if skew else 5.0))
    y = rng.choice(n_classes, size=n - 2 * n_classes, p=weights)
    return rng.permutation(np.concatenate([y, np.repeat(np.arange(n_classes), 2)]))


def _cases():
    rng = np.random.default_rng(12)
    for n in (7, 20, 45, 101, 360):
        for n_classes in (2, 3, 10):
            if n < 2 * n_classes + 1:
                continue
            for skew in (False, True):
                y = _labels(rng, n, n_classes, skew)
                for validation_split in (0.1, 0.2, 1 / 3, 0.77):
                    yield y, validation_split


def test_the_rows_are_train_test_splits_for_many_seeds_sizes_and_balances():
    checked = {True: 0, False: 0}
    for case, (y, validation_split) in enumerate(_cases()):
        n_val = int(np.ceil(len(y) * validation_split))
        for seed in (0, case, 2**31 - 1):
            for stratify in (False, True) if can_stratify(y, n_val) else (False,):
                train, val = splits.split_rows(y, validation_split, seed, stratify=stratify)
                want_train, want_val = _sklearn(y, validation_split, seed, stratify)
                np.testing.assert_array_equal(train, want_train)
                np.testing.assert_array_equal(val, want_val)
                checked[stratify] += 1
    assert checked[True] > 200 and checked[False] > 200  # both kinds of split, many times


def test_tied_remainders_are_broken_like_sklearn():
    """Equal class sizes leave tied remainders: the random tie-break must match too."""
    y = np.repeat(np.arange(7), 3)  # 21 rows, 7 classes of 3: ties everywhere
    for seed in range(60):
        train, val = splits.split_rows(y, 0.4, seed, stratify=True)
        want_train, want_val = _sklearn(y, 0.4, seed, True)
        np.testing.assert_array_equal(train, want_train)
        np.testing.assert_array_equal(val, want_val)


def test_arguments_it_does_not_reproduce_go_to_sklearn():
    y = np.arange(40) % 4
    for seed in (np.int32(3), 5):
        np.testing.assert_array_equal(
            splits.split_rows(y, 0.25, seed, stratify=True)[1], _sklearn(y, 0.25, seed, True)[1]
        )
    assert not splits._reproduced(y, 0.25, True)  # a bool seed: sklearn decides
    assert not splits._reproduced(y.astype(str), 0.25, 0)
    assert not splits._reproduced(y, 1, 0)  # an int test_size means rows to sklearn
    with pytest.raises(ValueError, match="least populated class"):
        splits.split_rows(np.array([0, 0, 0, 1, 1, 1, 2]), 0.4, 0, stratify=True)


def test_digits_are_load_digits_exactly():
    bunch = load_digits()
    x, y, names = _digits()
    np.testing.assert_array_equal(x, bunch.data.astype(np.float32))
    np.testing.assert_array_equal(y, bunch.target)
    assert x.dtype == np.float32 and y.dtype == np.int64 and names == [str(i) for i in range(10)]


@pytest.mark.parametrize("n_samples", [20, 21, 400, 1001])
def test_moons_and_circles_are_sklearns_bit_for_bit(n_samples):
    for seed, noise in ((0, 0.0), (5, 0.1), (2**31 - 1, 0.35)):
        x, y = sklearn_sets.make_moons(n_samples, noise, seed)
        want_x, want_y = make_moons(n_samples=n_samples, noise=noise, random_state=seed)
        np.testing.assert_array_equal(x, want_x)
        np.testing.assert_array_equal(y, want_y)
        x, y = sklearn_sets.make_circles(n_samples, noise, seed, factor=0.5)
        want_x, want_y = make_circles(
            n_samples=n_samples, noise=noise, factor=0.5, random_state=seed
        )
        np.testing.assert_array_equal(x, want_x)
        np.testing.assert_array_equal(y, want_y)


def test_the_digits_run_splits_like_the_exported_script():
    """The pipeline's splits of digits are sklearn's stratified ones, row for row: the
    test part first from all rows on its own stream, then validation from the rest."""
    bunch = load_digits()
    x, y = bunch.data.astype(np.float32), bunch.target.astype(np.int64)
    for seed in (0, 3):
        ds = load_dataset(DataConfig(source="digits", scale="none"), seed=seed)
        x_rest, x_te, y_rest, y_te = train_test_split(
            x, y, test_size=0.2, random_state=seed + TEST_SEED_OFFSET, stratify=y
        )
        np.testing.assert_array_equal(ds.x_test, x_te)
        np.testing.assert_array_equal(ds.y_test, y_te)
        x_tr, x_va, y_tr, y_va = train_test_split(
            x_rest, y_rest, test_size=0.2, random_state=seed, stratify=y_rest
        )
        np.testing.assert_array_equal(ds.x_train, x_tr)
        np.testing.assert_array_equal(ds.x_val, x_va)
        np.testing.assert_array_equal(ds.y_train, y_tr)
        np.testing.assert_array_equal(ds.y_val, y_va)


def test_loading_the_built_in_sets_imports_no_sklearn():
    code = (
        "import sys\n"
        "from fitgap_gui.core.config.schema import DataConfig\n"
        "from fitgap_gui.core.data.datasets import load_dataset\n"
        "ds = load_dataset(DataConfig(source='digits', train_fraction=0.5), seed=1)\n"
        "assert (len(ds.x_train), len(ds.x_test)) == (574, 360), len(ds.x_train)\n"
        "for source in ('moons', 'circles', 'spirals', 'xor'):\n"
        "    assert len(load_dataset(DataConfig(source=source), seed=2).x_val) == 64\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'scipy')))\n"
    )
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=root
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
