"""Keras's own datasets, read only from Keras's download cache: never downloaded.

``keras.datasets.<name>.load_data()`` saves its files under ``$KERAS_HOME/datasets``
(default ``~/.keras/datasets``).  Where they are already there, FitGap offers them;
otherwise ``keras_cache_status`` names the file and the folder to put it in.  The
files are parsed here without TensorFlow.  CIFAR-10's batches are Python pickles, so
they are read with an unpickler that builds numpy arrays and nothing else.  The exported
Keras script carries the readers' plain parts (``datasets_dir``, ``cifar_dir``,
``cache_files``, ``read_idx``, ``ArrayUnpickler``, ``read_cifar_batch``,
``cached_arrays``): one allow-list, one parser.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fitgap_gui.core.config.sources import SOURCES
from fitgap_gui.core.data.readers import RawData
from fitgap_gui.core.data.readers.npzfile import open_npz
from fitgap_gui.core.errors import DataError

FASHION_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip
CIFAR10_CLASSES = [
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
]  # fmt: skip
FASHION_FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)
CIFAR10_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)


@dataclass(frozen=True)
class CacheEntry:
    """One Keras dataset: whether it is cached here, where, and how to get it if not."""

    name: str
    available: bool
    path: Path
    hint: str


def datasets_dir() -> Path:
    """Keras's cache folder: ``$KERAS_HOME/datasets``, else ``~/.keras/datasets``."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets"


def cifar_dir(root: Path) -> Path:
    # Keras 3 extracts into "cifar-10-batches-py-target/"; Keras 2 did not.
    older = root / "cifar-10-batches-py"
    return older if older.is_dir() else root / "cifar-10-batches-py-target" / older.name


def cache_files(name: str, root: Path) -> tuple[Path, tuple[str, ...]]:
    if name == "mnist":
        return root, ("mnist.npz",)
    if name == "fashion_mnist":
        return root / "fashion-mnist", FASHION_FILES
    return cifar_dir(root), CIFAR10_FILES  # cifar10


def keras_cache_status() -> list[CacheEntry]:
    """MNIST, Fashion-MNIST and CIFAR-10: available offline, or what file is missing."""
    root = datasets_dir()
    out = []
    for name in ("mnist", "fashion_mnist", "cifar10"):
        folder, files = cache_files(name, root)
        missing = [f for f in files if not (folder / f).is_file()]
        if not missing:
            out.append(CacheEntry(name, True, folder, f"cached in {folder}"))
            continue
        hint = (
            f"not available offline: put {', '.join(missing[:3])}"
            f"{' ...' if len(missing) > 3 else ''} in {folder} "
            f"(keras.datasets.{name}.load_data() saves it there when online)"
        )
        out.append(CacheEntry(name, False, folder, hint))
    return out


def _require(name: str) -> tuple[Path, tuple[str, ...]]:
    folder, files = cache_files(name, datasets_dir())
    for entry in keras_cache_status():
        if entry.name == name and not entry.available:
            raise DataError(f"{name} is {entry.hint}; FitGap never downloads")
    return folder, files


def read_idx(path: Path, offset: int) -> np.ndarray:
    """The bytes of a gzipped IDX file after its header: labels or pixels."""
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def _idx(path: Path, offset: int) -> np.ndarray:
    try:
        return read_idx(path, offset)
    except (OSError, EOFError, ValueError) as exc:
        raise DataError(f"{path} is not a readable gzip IDX file ({exc})") from None


class ArrayUnpickler(pickle.Unpickler):
    """Builds dicts, lists, bytes and numpy arrays; any other global is refused.

    The exported Keras script reads CIFAR-10 with this very class (its source is copied).
    """

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refused to load {module}.{name}")
        return super().find_class(module, name)


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 batch: images as (n, 32, 32, 3) pixels, and their labels."""
    batch = ArrayUnpickler(io.BytesIO(path.read_bytes()), encoding="bytes").load()
    data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
    return data.transpose(0, 2, 3, 1), np.asarray(batch[b"labels"], dtype=np.int64)


def _cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        return read_cifar_batch(path)
    except Exception as exc:  # any damage in a file we did not write
        raise DataError(f"{path} is not a readable CIFAR-10 batch ({exc})") from None


def cached_arrays(name, folder, files, load=np.load, idx=read_idx, batch=read_cifar_batch):
    """``x_train, y_train, x_test, y_test`` of ``keras.datasets.<name>.load_data()``, as
    float32 images and int64 labels, from ``files`` in ``folder`` (``cache_files``);
    ``load``, ``idx`` and ``batch`` read one .npz, IDX or CIFAR-10 batch file."""
    if name == "mnist":
        data = load(folder / files[0])  # allow_pickle stays False
        parts = data["x_train"], data["y_train"], data["x_test"], data["y_test"]
    elif name == "fashion_mnist":
        y_tr, x_tr, y_te, x_te = (idx(folder / f, 8 if "labels" in f else 16) for f in files)
        parts = x_tr.reshape(-1, 28, 28), y_tr, x_te.reshape(-1, 28, 28), y_te
    else:
        batches = [batch(folder / f) for f in files]
        x_tr = np.concatenate([images for images, _ in batches[:5]])
        parts = (x_tr, np.concatenate([labels for _, labels in batches[:5]]), *batches[5])
    x_tr, y_tr, x_te, y_te = (np.asarray(a) for a in parts)
    x_tr, x_te = x_tr.astype(np.float32), x_te.astype(np.float32)
    return x_tr, y_tr.astype(np.int64).reshape(-1), x_te, y_te.astype(np.int64).reshape(-1)


def read_keras_cached(name: str) -> RawData:
    """The cached dataset: its training images (validation is split from them later)
    and its official test set, the test part."""
    folder, files = _require(name)
    try:
        x_tr, y_tr, x_te, y_te = cached_arrays(name, folder, files, open_npz, _idx, _cifar_batch)
    except DataError:
        raise
    except KeyError as exc:
        raise DataError(f"{folder / files[0]} lacks the array {exc}") from None
    except ValueError as exc:  # image bytes that do not make whole images
        raise DataError(f"the {name} files in {folder} are damaged ({exc})") from None
    class_names = {"mnist": [str(i) for i in range(10)], "fashion_mnist": FASHION_CLASSES}
    if len(x_tr) != len(y_tr) or len(x_te) != len(y_te):
        raise DataError(f"{name} in {folder}: images and labels differ in number; re-download it")
    label = next(s.label for s in SOURCES if s.name == name)
    return RawData(
        name=name,
        x=x_tr,
        y=y_tr,
        class_names=list(class_names.get(name, CIFAR10_CLASSES)),
        kind="image",
        image_shape=tuple(x_tr.shape[1:3]),
        meta={
            "split": "test given",
            "cache": str(folder),
            "test_part": f"{label}'s official test set",
        },
        x_test=x_te,
        y_test=y_te,
    )


@dataclass(frozen=True)
class SourceState:
    """A source as a picker lists it now: its label, whether it can be used, and why not."""

    name: str
    label: str
    ready: bool
    tooltip: str


def source_states() -> list[SourceState]:
    """Every source, with Keras datasets ready only when their files are in the cache.

    FitGap never downloads: a Keras dataset missing from ``~/.keras/datasets`` is listed
    as "not downloaded" with the file to put there, never as ready.
    """
    cache = {entry.name: entry for entry in keras_cache_status()}
    states = []
    for s in SOURCES:
        entry = cache.get(s.name)
        if entry is None:
            states.append(SourceState(s.name, s.label, True, ""))
        elif entry.available:
            states.append(SourceState(s.name, f"{s.label} (cached)", True, entry.hint))
        else:
            where = entry.hint.removeprefix("not available offline: ")
            tip = f"Not downloaded, and FitGap never downloads: {where}."
            states.append(SourceState(s.name, f"{s.label}: not downloaded", False, tip))
    return states
