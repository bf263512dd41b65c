"""The NPZ reader: pre-split and unsplit archives, one-hot labels, and every bad archive."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from fitgap_gui.core.config.schema import DataConfig
from fitgap_gui.core.data.datasets import load_dataset, preview
from fitgap_gui.core.errors import DataError

RNG = np.random.default_rng(0)


def _npz(tmp_path, name="data.npz", **arrays) -> DataConfig:
    path = tmp_path / name
    np.savez(path, **arrays)
    return DataConfig(source="npz", path=str(path))


def _xy(n=40, d=3, classes=2):
    return RNG.normal(size=(n, d)).astype(np.float32), np.arange(n) % classes


# -- valid archives -----------------------------------------------------------------------------
def test_presplit_is_used_as_given(tmp_path):
    x, y = _xy(30)
    xv, yv = _xy(10)
    ds = load_dataset(_npz(tmp_path, x_train=x, y_train=y, x_val=xv, y_val=yv), seed=3)
    np.testing.assert_array_equal(ds.x_train, x)
    np.testing.assert_array_equal(ds.y_val, yv)
    # its own validation rows but no test rows: no test part (test_split is not used)
    assert not ds.has_test and ds.x_test is None
    assert ds.meta["test_part"] == "none: the NPZ brings its own validation rows but no test rows"


def test_unsplit_is_split_with_the_seed(tmp_path):
    x, y = _xy(50)
    cfg = _npz(tmp_path, x=x, y=y)
    a, b = load_dataset(cfg, seed=1), load_dataset(cfg, seed=1)
    c = load_dataset(cfg, seed=2)
    assert (len(a.x_train), len(a.x_val), len(a.x_test)) == (32, 8, 10)  # the test part first
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)


def test_one_hot_and_column_labels(tmp_path):
    x, y = _xy(40, classes=3)
    one_hot = np.eye(3, dtype=np.float32)[y]
    ds = load_dataset(_npz(tmp_path, x=x, y=one_hot), seed=0)
    assert ds.n_classes == 3
    p = preview(_npz(tmp_path, "col.npz", x=x, y=y[:, None]))
    assert p.class_counts == [14, 13, 13]


def test_keras_style_test_arrays_are_the_test_part(tmp_path):
    """x_test/y_test are the test part; validation is split from the training rows."""
    x, y = _xy(30)
    p = preview(_npz(tmp_path, x_train=x, y_train=y, x_test=x[:8], y_test=y[:8]))
    assert (p.n_train, p.n_val, p.n_test) == (24, 6, 8)
    assert p.test_part == "the NPZ's own x_test"


def test_image_shaped_samples_are_image_kind(tmp_path):
    x = RNG.normal(size=(20, 6, 5)).astype(np.float32)
    p = preview(_npz(tmp_path, x=x, y=np.arange(20) % 2))
    assert p.kind == "image"
    assert p.image_shape == (6, 5)
    assert p.sample_images[0][0].shape == (6, 5)
    assert p.sample_images[0][0].dtype == np.uint8


# -- malformed archives --------------------------------------------------------------------------
x40, y40 = _xy(40)
MALFORMED = [
    ("wrong keys", {"features": x40, "labels": y40}, "needs arrays x and y, or x_train"),
    ("train without val", {"x_train": x40, "y_train": y40}, "no x_val, y_val or x_test"),
    ("length mismatch", {"x": x40, "y": y40[:30]}, "x has 40 rows but y has 30"),
    ("feature shapes differ", {"x_train": x40, "y_train": y40, "x_val": x40[:, :2], "y_val": y40}, "shape"),
    ("val length mismatch", {"x_train": x40, "y_train": y40, "x_val": x40, "y_val": y40[:3]}, "x_val has 40 rows"),
    ("1-D features", {"x": y40.astype(float), "y": y40}, "one row per sample"),
    ("text features", {"x": np.array([["a", "b"]] * 40), "y": y40}, "must be numeric"),
    ("nan", {"x": np.where(np.arange(40)[:, None] == 7, np.nan, x40), "y": y40}, "row 7"),
    ("inf", {"x": np.full((40, 3), np.inf), "y": y40}, "infinite"),
    ("float32 overflow", {"x": np.full((40, 3), 1e300), "y": y40}, "overflows float32"),
    ("fractional labels", {"x": x40, "y": y40 + 0.5}, "whole-number"),
    ("negative labels", {"x": x40, "y": y40 - 1}, "negative"),
    ("text labels", {"x": x40, "y": np.array(["a", "b"] * 20)}, "integer class labels"),
    ("not one-hot", {"x": x40, "y": np.full((40, 3), 0.5)}, "not one-hot"),
    ("two ones", {"x": x40, "y": np.ones((40, 3))}, "exactly one 1"),
    ("3-D labels", {"x": x40, "y": np.zeros((40, 2, 2))}, "1-D array"),
    ("one class", {"x": x40, "y": np.zeros(40, dtype=int)}, "at least two classes"),
    ("too few rows", {"x": x40[:3], "y": y40[:3]}, "too few"),
    ("huge label", {"x": x40, "y": y40 * 10**7}, "classes"),
    ("empty arrays", {"x": np.zeros((0, 3)), "y": np.zeros(0, dtype=int)}, "holds no samples"),
    ("zero features", {"x": np.zeros((40, 0)), "y": y40}, "no features"),
    ("scalar x", {"x": np.float64(1.0), "y": y40}, "one row per sample"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "arrays", "expected"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_npz_is_one_clear_error(tmp_path, case, arrays, expected):
    cfg = _npz(tmp_path, **arrays)
    with pytest.raises(DataError) as info:
        load_dataset(cfg, seed=0)
    assert expected in str(info.value)
    assert "data.npz" in str(info.value)


def test_pickled_objects_are_refused_not_executed(tmp_path):
    marker = tmp_path / "executed"
    objects = np.empty(2, dtype=object)
    objects[0], objects[1] = {"a": 1}, _Exploit(str(marker))
    cfg = _npz(tmp_path, x=objects, y=np.array([0, 1]))
    with pytest.raises(DataError, match="pickled Python objects"):
        preview(cfg)
    assert not marker.exists()


class _Exploit:
    """Unpickling this would create a file: the test checks that it never happens."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize(
    ("case", "content", "expected"),
    [
        ("empty", b"", "is empty"),
        ("random bytes", b"\x01\x02garbage" * 10, "no zip header"),
        ("single npy", b"\x93NUMPY\x01\x00rest", "single .npy"),
        ("pickle stream", b"\x80\x04K\x01.", "no zip header"),
    ],
)
def test_corrupt_archive(tmp_path, case, content, expected):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(DataError, match=expected):
        preview(DataConfig(source="npz", path=str(path)))


def test_truncated_archive(tmp_path):
    x, y = _xy(400, 50)
    good = tmp_path / "good.npz"
    np.savez(good, x=x, y=y)
    bad = tmp_path / "truncated.npz"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(DataError, match="not a readable .npz archive"):
        preview(DataConfig(source="npz", path=str(bad)))


def test_damaged_member(tmp_path):
    path = tmp_path / "damaged.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': nonsense" + b" " * 40)
        archive.writestr("y.npy", b"not an array")
    with pytest.raises(DataError, match="not a readable .npz archive"):
        preview(DataConfig(source="npz", path=str(path)))


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        preview(DataConfig(source="npz", path=str(tmp_path / "none.npz")))
    (tmp_path / "folder.npz").mkdir()
    with pytest.raises(DataError, match="is a folder"):
        preview(DataConfig(source="npz", path=str(tmp_path / "folder.npz")))


# -- memory and size, checked before anything expands ----------------------------------------
def _npy_header(shape, descr="<f4", pad: int = 0) -> bytes:
    """A version 1.0 .npy header, optionally padded past numpy's size limit."""
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}"
    text += " " * pad + "\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode("latin1")


def _bomb(path, n_bytes: int) -> None:
    """A deflate bomb: one float32 member of zeros, written streaming (never held whole)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("x.npy", "w", force_zip64=True) as member:
            member.write(_npy_header((n_bytes // 4,)))
            chunk = bytes(1 << 20)
            for _ in range(n_bytes >> 20):
                member.write(chunk)
        archive.writestr("y.npy", _npy_header((4,), "<i8") + bytes(32))


def test_deflate_bomb_is_refused_before_it_expands(tmp_path, monkeypatch):
    import time
    import tracemalloc

    monkeypatch.setenv("FITGAP_MEMORY_BUDGET", str(8 * 1024**2))  # 8 MiB: the test stays small
    path = tmp_path / "bomb.npz"
    _bomb(path, 64 * 1024**2)  # 64 MiB of zeros in ~70 KB
    assert path.stat().st_size < 1024**2
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(DataError) as info:
            preview(DataConfig(source="npz", path=str(path)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert "bomb.npz" in message and "expand to 64.0 MiB" in message
    assert "8.0 MiB of memory FitGap may use" in message
    assert "\n" not in message
    assert peak < 4 * 1024**2, f"{peak / 1024**2:.1f} MiB allocated before the refusal"
    assert time.perf_counter() - start < 2.0


def test_header_claiming_a_huge_array_is_refused_before_allocating(tmp_path):
    """The zip directory may be small while the .npy header asks for a terabyte."""
    path = tmp_path / "claims.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x.npy", _npy_header((2**38, 4)) + bytes(64))
        archive.writestr("y.npy", _npy_header((4,), "<i8") + bytes(32))
    with pytest.raises(DataError, match=r"array 'x' has shape \(274877906944, 4\)"):
        preview(DataConfig(source="npz", path=str(path)))


def test_header_not_matching_its_data_is_damaged(tmp_path, monkeypatch):
    path = tmp_path / "short.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x.npy", _npy_header((1000, 4)) + bytes(64))
        archive.writestr("y.npy", _npy_header((4,), "<i8") + bytes(32))
    with pytest.raises(DataError, match="holds .* the archive is damaged"):
        preview(DataConfig(source="npz", path=str(path)))


def test_oversized_header_is_called_that_not_pickled(tmp_path):
    path = tmp_path / "header.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x.npy", _npy_header((4, 2), pad=20_000) + bytes(32))
        archive.writestr("y.npy", _npy_header((4,), "<i8") + bytes(32))
    with pytest.raises(DataError) as info:
        preview(DataConfig(source="npz", path=str(path)))
    message = str(info.value)
    assert "header of array 'x' is larger than numpy's safety limit" in message
    assert "pickle" not in message


def test_empty_training_arrays_are_a_clear_error(tmp_path):
    x, y = _xy(10)
    cfg = _npz(
        tmp_path,
        x_train=np.zeros((0, 3), np.float32),
        y_train=np.zeros(0, np.int64),
        x_val=x,
        y_val=y,
    )
    with pytest.raises(DataError, match="the training arrays hold no samples"):
        load_dataset(cfg, seed=0)


def test_fifo_is_refused_without_blocking(tmp_path):
    import os

    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match=r"not a regular file \(it is a FIFO"):
        preview(DataConfig(source="npz", path=str(fifo)))
