"""Keras's dataset cache: offered where its files are, never downloaded, damage refused."""

from __future__ import annotations

import gzip
import pickle

import numpy as np
import pytest

from fitgap_gui.core.config.schema import DataConfig
from fitgap_gui.core.data.datasets import keras_cache_status, load_dataset, preview
from fitgap_gui.core.errors import DataError

RNG = np.random.default_rng(0)


def _images(n, shape):
    return RNG.integers(0, 256, size=(n, *shape), dtype=np.uint8)


def _write_mnist(root, n_train=30, n_test=10):
    np.savez(
        root / "mnist.npz",
        x_train=_images(n_train, (28, 28)),
        y_train=np.arange(n_train) % 10,
        x_test=_images(n_test, (28, 28)),
        y_test=np.arange(n_test) % 10,
    )


def _write_fashion(root):
    folder = root / "fashion-mnist"
    folder.mkdir()
    for prefix, n in (("train", 20), ("t10k", 10)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(b"\x00" * 8 + labels.tobytes())
        with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(b"\x00" * 16 + _images(n, (28, 28)).tobytes())


def _write_cifar(root, payload=None):
    folder = root / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        batch = payload or {
            b"data": _images(4, (3072,)),
            b"labels": [0, 1, 2, 3],
        }
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    return folder


def test_nothing_cached_lists_all_unavailable_with_where_to_put_them(keras_home):
    status = {entry.name: entry for entry in keras_cache_status()}
    assert set(status) == {"mnist", "fashion_mnist", "cifar10"}
    assert not any(entry.available for entry in status.values())
    assert "mnist.npz" in status["mnist"].hint
    assert str(keras_home) in status["mnist"].hint
    assert "fashion-mnist" in str(status["fashion_mnist"].path)


def test_missing_cache_is_an_error_not_a_download(keras_home):
    with pytest.raises(DataError, match="not available offline.*never downloads"):
        load_dataset(DataConfig(source="mnist"), seed=0)


def test_cached_mnist_loads_its_test_set_as_the_test_part(keras_home):
    _write_mnist(keras_home)
    assert [e.name for e in keras_cache_status() if e.available] == ["mnist"]
    ds = load_dataset(DataConfig(source="mnist", test_split=0.5), seed=0)  # (not used)
    # validation: ceil(30 x 0.2) of the training images; test: the official 10
    assert ds.x_train.shape == (24, 28, 28)
    assert len(ds.x_val) == 6
    assert ds.x_test.shape == (10, 28, 28) and ds.has_test
    with np.load(keras_home / "mnist.npz") as data:
        np.testing.assert_array_equal(ds.x_test, data["x_test"].astype(np.float32))
        np.testing.assert_array_equal(ds.y_test, data["y_test"])
    assert ds.meta["test_part"] == "MNIST's official test set"
    assert ds.kind == "image" and ds.image_shape == (28, 28)
    assert ds.class_names == [str(i) for i in range(10)]


def test_cached_fashion_mnist(keras_home):
    _write_fashion(keras_home)
    p = preview(DataConfig(source="fashion_mnist"))
    assert (p.n_train, p.n_val, p.n_test) == (16, 4, 10)
    assert p.test_part == "Fashion-MNIST's official test set"
    assert p.class_names[0] == "T-shirt/top"
    assert len(p.sample_images) == 8


def test_cached_cifar10(keras_home):
    _write_cifar(keras_home)
    p = preview(DataConfig(source="cifar10"))
    assert p.input_shape == (32, 32, 3)
    assert (p.n_train, p.n_val, p.n_test) == (16, 4, 4)
    assert p.test_part == "CIFAR-10's official test set"
    assert p.class_names[:2] == ["airplane", "automobile"]


class _Exploit:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_cifar_pickle_with_code_is_refused(keras_home, tmp_path):
    marker = tmp_path / "executed"
    _write_cifar(keras_home, payload={b"data": _Exploit(str(marker)), b"labels": [0]})
    with pytest.raises(DataError, match="refused to load"):
        preview(DataConfig(source="cifar10"))
    assert not marker.exists()


def test_damaged_cache_files(keras_home):
    (keras_home / "mnist.npz").write_bytes(b"PK\x03\x04truncated")
    with pytest.raises(DataError, match="mnist.npz is not a readable .npz"):
        preview(DataConfig(source="mnist"))
    _write_fashion(keras_home)
    (keras_home / "fashion-mnist" / "t10k-images-idx3-ubyte.gz").write_bytes(b"not gzip")
    with pytest.raises(DataError, match="not a readable gzip"):
        preview(DataConfig(source="fashion_mnist"))


def test_mnist_with_wrong_arrays(keras_home):
    np.savez(keras_home / "mnist.npz", x=np.zeros((4, 2)))
    with pytest.raises(DataError, match="lacks the array"):
        preview(DataConfig(source="mnist"))
