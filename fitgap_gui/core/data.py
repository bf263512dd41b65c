"""Datasets: the built-in sets, the user's files, and the split into train/validation.

Every source ends as a ``Dataset`` of numpy arrays.  The pipeline is short and
deterministic so the exported Keras script can repeat it: load -> split (stratified,
``random_state=seed``) -> keep ``train_fraction`` of the training rows -> flip
``label_noise`` of the training labels -> scale (fitted on training rows only).
No step touches the global random stream, so Keras's seeded run stays plain Keras.

Nothing here downloads anything: the built-ins ship with scikit-learn or are drawn.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .config import DataConfig
from .errors import DataError

#: Small, readable descriptions for the data picker.
BUILTIN_DESCRIPTIONS = {
    "digits": "8x8 handwritten digits, 10 classes, 1,797 images (ships with scikit-learn)",
    "moons": "two interleaving half circles, 2 classes (2-D)",
    "circles": "a small circle inside a large one, 2 classes (2-D)",
    "spirals": "two intertwined spirals, 2 classes (2-D)",
    "xor": "four quadrants, opposite ones share a class (2-D)",
}


@dataclass
class Dataset:
    """Training and validation arrays plus what the window needs to show them."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    class_names: list[str]
    name: str
    kind: str = "tabular"  # "tabular", "points2d" or "image"
    image_shape: tuple[int, ...] | None = None
    meta: dict = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    def summary(self) -> str:
        counts = np.bincount(self.y_train, minlength=self.n_classes)
        return (
            f"{self.name}: {len(self.x_train)} training and {len(self.x_val)} validation samples, "
            f"{int(np.prod(self.input_shape))} features, {self.n_classes} classes "
            f"(training counts {counts.min()}-{counts.max()} per class)"
        )


# -- built-in sets ------------------------------------------------------------------------
def _digits() -> tuple[np.ndarray, np.ndarray, list[str]]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.data.astype(np.float32), bunch.target.astype(np.int64), [str(i) for i in range(10)]


def _toy(source: str, n_samples: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if source == "moons":
        from sklearn.datasets import make_moons

        x, y = make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    elif source == "circles":
        from sklearn.datasets import make_circles

        x, y = make_circles(n_samples=n_samples, noise=noise, factor=0.5, random_state=seed)
    elif source == "spirals":
        t = np.sqrt(rng.uniform(0.0, 1.0, n_samples)) * 3.0 * np.pi
        arm = np.column_stack([t * np.cos(t), t * np.sin(t)]) / (3.0 * np.pi)
        y = (np.arange(n_samples) >= n_samples // 2).astype(np.int64)
        x = np.where(y[:, None] == 1, -arm, arm)
        x = x + rng.normal(scale=noise * 0.5, size=x.shape)
    elif source == "xor":
        x = rng.uniform(-1.0, 1.0, size=(n_samples, 2))
        y = (np.sign(x[:, 0]) != np.sign(x[:, 1])).astype(np.int64)
        x = x + rng.normal(scale=noise * 0.5, size=x.shape)
    else:  # pragma: no cover - guarded by the config's choices
        raise DataError(f"unknown built-in dataset {source!r}")
    return x.astype(np.float32), y.astype(np.int64)


# -- files -----------------------------------------------------------------------------------
def _open_npz(path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.is_dir():
        raise DataError(f"{path} is a folder, not an .npz file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "pickle" in str(exc).lower():
            raise DataError(
                f"{path} holds pickled Python objects, which FitGap never loads; "
                "save plain numeric arrays with np.savez"
            ) from None
        raise DataError(f"{path} is not a readable .npz archive ({exc})") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise DataError(f"{path} is not a readable .npz archive ({exc})") from None


def _labels(path: Path, key: str, y: np.ndarray) -> np.ndarray:
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot rows
        y = y.argmax(axis=1)
    if y.ndim != 1:
        raise DataError(f"{path}: {key} must be a 1-D array of integer labels, got shape {y.shape}")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise DataError(f"{path}: {key} must hold integer class labels")
    elif y.dtype.kind not in "iub":
        raise DataError(f"{path}: {key} must hold integer class labels, not {y.dtype}")
    y = y.astype(np.int64)
    if len(y) and y.min() < 0:
        raise DataError(f"{path}: {key} has negative labels; use 0..n_classes-1")
    return y


def _features(path: Path, key: str, x: np.ndarray) -> np.ndarray:
    if x.dtype.kind not in "iufb":
        raise DataError(f"{path}: {key} must be numeric, not {x.dtype}")
    if x.ndim < 2:
        raise DataError(f"{path}: {key} must have one row per sample, got shape {x.shape}")
    x = x.astype(np.float32)
    if not np.all(np.isfinite(x)):
        raise DataError(f"{path}: {key} contains NaN or infinite values")
    return x


def _load_npz(path: Path):
    arrays = _open_npz(path)
    presplit = ("x_train", "y_train", "x_val", "y_val")
    if all(k in arrays for k in presplit):
        x_tr = _features(path, "x_train", arrays["x_train"])
        x_va = _features(path, "x_val", arrays["x_val"])
        y_tr = _labels(path, "y_train", arrays["y_train"])
        y_va = _labels(path, "y_val", arrays["y_val"])
        if len(x_tr) != len(y_tr):
            raise DataError(f"{path}: x_train has {len(x_tr)} rows but y_train has {len(y_tr)}")
        if len(x_va) != len(y_va):
            raise DataError(f"{path}: x_val has {len(x_va)} rows but y_val has {len(y_va)}")
        if x_tr.shape[1:] != x_va.shape[1:]:
            raise DataError(
                f"{path}: x_train samples have shape {x_tr.shape[1:]} but x_val samples {x_va.shape[1:]}"
            )
        return "presplit", (x_tr, y_tr, x_va, y_va)
    if "x" in arrays and "y" in arrays:
        x = _features(path, "x", arrays["x"])
        y = _labels(path, "y", arrays["y"])
        if len(x) != len(y):
            raise DataError(f"{path}: x has {len(x)} rows but y has {len(y)}")
        return "unsplit", (x, y)
    raise DataError(
        f"{path} needs arrays x_train, y_train, x_val, y_val (or x and y); it has "
        f"{', '.join(sorted(arrays)) or 'none'}"
    )


# -- the pipeline -----------------------------------------------------------------------------
def _split(x, y, validation_split: float, seed: int):
    from sklearn.model_selection import train_test_split

    n_classes = len(np.unique(y))
    n_val = int(np.ceil(len(y) * validation_split))
    if n_val < 1 or len(y) - n_val < 1:
        raise DataError(
            f"{len(y)} samples are too few to split with validation_split={validation_split:g}"
        )
    counts = np.bincount(y)
    stratify = (
        y
        if counts[counts > 0].min() >= 2 and n_val >= n_classes and len(y) - n_val >= n_classes
        else None
    )
    return train_test_split(x, y, test_size=validation_split, random_state=seed, stratify=stratify)


def _subsample(x, y, fraction: float, seed: int):
    """Keep ``fraction`` of the training rows, every class represented where possible."""
    if fraction >= 1.0:
        return x, y
    rng = np.random.default_rng(seed)
    keep = []
    for cls in np.unique(y):
        rows = np.flatnonzero(y == cls)
        n = max(1, int(round(len(rows) * fraction)))
        keep.append(rng.permutation(rows)[:n])
    keep = np.sort(np.concatenate(keep))
    return x[keep], y[keep]


def _flip_labels(y, fraction: float, n_classes: int, seed: int):
    """Give ``fraction`` of the labels a different, random class (training rows only)."""
    if fraction <= 0.0 or n_classes < 2:
        return y
    rng = np.random.default_rng(seed + 7919)
    y = y.copy()
    rows = rng.choice(len(y), size=int(round(len(y) * fraction)), replace=False)
    shift = rng.integers(1, n_classes, size=len(rows))
    y[rows] = (y[rows] + shift) % n_classes
    return y


def _scale(x_train, x_val, how: str):
    if how == "none":
        return x_train, x_val
    if how == "standard":
        mean = x_train.mean(axis=0)
        std = x_train.std(axis=0)
        std[std == 0] = 1.0
        return (x_train - mean) / std, (x_val - mean) / std
    lo = x_train.min(axis=0)
    span = x_train.max(axis=0) - lo
    span[span == 0] = 1.0
    return (x_train - lo) / span, (x_val - lo) / span


def load_dataset(cfg: DataConfig, seed: int = 0) -> Dataset:
    """Load and split the data a config names; raises DataError with a one-line reason."""
    kind, image_shape, class_names = "tabular", None, None
    path = Path(cfg.path).expanduser() if cfg.path else None
    if cfg.source == "digits":
        x, y, class_names = _digits()
        kind, image_shape, name = "image", (8, 8), "digits"
        parts = ("unsplit", (x, y))
    elif cfg.source in ("moons", "circles", "spirals", "xor"):
        x, y = _toy(cfg.source, cfg.n_samples, cfg.noise, seed)
        kind, name, class_names = "points2d", cfg.source, ["0", "1"]
        parts = ("unsplit", (x, y))
    elif cfg.source == "npz":
        parts = _load_npz(path)
        name = path.name
    else:
        raise DataError(f"data source {cfg.source!r} is not available in this version")

    if parts[0] == "unsplit":
        x, y = parts[1]
        x_tr, x_va, y_tr, y_va = _split(x, y, cfg.validation_split, seed)
    else:
        x_tr, y_tr, x_va, y_va = parts[1]

    n_classes = int(max(y_tr.max(initial=0), y_va.max(initial=0))) + 1
    if class_names is None:
        class_names = [str(i) for i in range(n_classes)]
    if len(np.unique(y_tr)) < 2:
        raise DataError(f"{name}: the training data has fewer than two classes")
    if len(x_va) == 0:
        raise DataError(f"{name}: the validation data is empty")

    x_tr, y_tr = _subsample(x_tr, y_tr, cfg.train_fraction, seed)
    y_tr = _flip_labels(y_tr, cfg.label_noise, len(class_names), seed)
    x_tr, x_va = _scale(x_tr, x_va, cfg.scale)
    if x_tr.ndim >= 3 and image_shape is None:
        kind, image_shape = "image", tuple(x_tr.shape[1:3])
    if x_tr.ndim == 2 and x_tr.shape[1] == 2 and kind == "tabular":
        kind = "points2d"
    return Dataset(
        x_train=np.ascontiguousarray(x_tr, dtype=np.float32),
        y_train=np.ascontiguousarray(y_tr, dtype=np.int64),
        x_val=np.ascontiguousarray(x_va, dtype=np.float32),
        y_val=np.ascontiguousarray(y_va, dtype=np.int64),
        class_names=list(class_names),
        name=name,
        kind=kind,
        image_shape=image_shape,
    )
