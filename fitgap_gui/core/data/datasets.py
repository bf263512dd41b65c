"""Datasets: the built-in sets, the user's files, and the split into train/validation/test.

The readers (``core.readers``) turn a table file (CSV, TSV, Parquet, Excel), NPZ, image
folder or Keras cache file into arrays (a table: row numbers, its typed columns beside); ``read_source`` adds the checks every source shares, ``preview`` summarizes a
source for the open-data dialog, and ``load_dataset`` splits it for training.  Every
source ends as a ``Dataset`` of numpy arrays.  The pipeline (``core.data.steps``, which
the exported Keras script carries) is short and deterministic: load -> the test part,
drawn first from all rows (``test_split``, its own stream; or the source's own test
rows) -> the validation split of the rest (stratified, ``random_state=seed``; or the
source's own validation rows) -> keep ``train_fraction`` of the training rows (and
``validation_fraction`` of the validation rows where it applies) -> flip
``label_noise`` of the training labels (never a test label) -> scale (fitted on
training rows only; a table's imputation, one-hot encoding and scaling are fitted there
too: ``core.data.tableprep``).
No step touches the global random stream, so Keras's seeded run stays plain Keras.

Nothing here downloads anything: the built-ins ship with scikit-learn or are drawn,
all without importing scikit-learn (``core.data.splits``, ``core.data.toys``).
"""

from __future__ import annotations

import dataclasses
import gzip
import importlib.util
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fitgap_gui.core.config.schema import KERAS_CACHE_SOURCES, DataConfig, RunConfig
from fitgap_gui.core.data.readers import RawData
from fitgap_gui.core.data.readers.imagefolder import read_image_folder
from fitgap_gui.core.data.readers.keras_cache import (
    CacheEntry,
    keras_cache_status,
    read_keras_cached,
)
from fitgap_gui.core.data.readers.npzfile import read_npz
from fitgap_gui.core.data.readers.tablefile import TableReport, read_table
from fitgap_gui.core.data.steps import STEP_KEYS, prepare, split_data, split_test, subsample
from fitgap_gui.core.data.tableprep import prepare_table
from fitgap_gui.core.data.toys import TOYS, toy_points
from fitgap_gui.core.errors import DataError
from fitgap_gui.core.formatting import format_percent

__all__ = [
    "CacheEntry",
    "DataPreview",
    "Dataset",
    "keras_cache_status",
    "load_dataset",
    "preview",
    "read_source",
]

#: Fewer samples cannot give two training classes and a validation set.
MIN_SAMPLES = 4
#: More classes than this is a label column of ids or numbers, not classes.
MAX_CLASSES = 10_000
#: Features per sample a dense network can take (1024x1024 RGB is 3.1 million).
MAX_FEATURES = 4_000_000

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
    """Training, validation and (optional) test arrays plus what the window needs to
    show them.  ``meta["test_part"]`` says what the test part is, or why there is none.
    Nothing that decides during a run (callbacks, early stopping, the best epoch, the
    diagnosis) reads the test part."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    class_names: list[str]
    name: str
    kind: str = "tabular"  # "tabular", "points2d" or "image"
    image_shape: tuple[int, ...] | None = None
    meta: dict = field(default_factory=dict)
    #: Training rows whose label ``label_noise`` flipped (for ``memorized_noise``).
    flipped_rows: np.ndarray | None = None
    #: Per training row: its index in the source as read, before any split (a source
    #: with its own split: the row in its training array), and its label before
    #: ``label_noise``.  None where unknown (arrays made by hand).
    source_rows: np.ndarray | None = None
    original_labels: np.ndarray | None = None
    #: The test part (labels never flipped): judged once, by the model a run delivers;
    #: nothing decides with it.  None without one.
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None

    @property
    def has_test(self) -> bool:
        return self.x_test is not None and self.y_test is not None and len(self.y_test) > 0

    @property
    def test_part(self) -> str:
        """What the test part is, or why there is none (``meta["test_part"]``)."""
        return str(self.meta.get("test_part") or "none")

    def test_line(self) -> str:
        """ "test part: 360 samples, 20 % of the rows, drawn first" or "test part: none: ..." """
        if not self.has_test:
            return f"test part: {self.test_part}"
        assert self.y_test is not None
        return f"test part: {len(self.y_test)} samples, {self.test_part}"

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def _sizes(self) -> str:
        n_train, n_val = len(self.x_train), len(self.x_val)
        if not self.has_test:
            return f"{n_train} training and {n_val} validation samples (no test part)"
        return f"{n_train} training, {n_val} validation and {len(self.y_test)} test samples"

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    def summary(self) -> str:
        counts = np.bincount(self.y_train, minlength=self.n_classes)
        return (
            f"{self.name}: {self._sizes()}, "
            f"{int(np.prod(self.input_shape))} features, {self.n_classes} classes "
            f"(training counts {counts.min()}-{counts.max()} per class)"
            + "".join(f"; {notice}" for notice in self.meta.get("notices", []))
        )


# -- built-in sets ------------------------------------------------------------------------
def _digits() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """scikit-learn's ``load_digits()``, read from its file without importing scikit-learn.

    The import costs 1-2 s of every ``fitgap train``; the data is one small CSV
    inside the installed package.  Where that file is not found (another layout
    of a future scikit-learn), ``load_digits`` reads it.
    """
    path = _digits_file()
    if path is None:
        from sklearn.datasets import load_digits

        bunch = load_digits()
        data, target = bunch.data, bunch.target
    else:
        # What sklearn.datasets.load_digits does: the last column is the label.
        with gzip.open(path, mode="rt", encoding="utf-8") as text:
            table = np.loadtxt(text, delimiter=",")
        data, target = table[:, :-1], table[:, -1].astype(int)
    return data.astype(np.float32), target.astype(np.int64), [str(i) for i in range(10)]


def _digits_file() -> Path | None:
    """``sklearn/datasets/data/digits.csv.gz`` of the installed scikit-learn, if there."""
    spec = importlib.util.find_spec("sklearn")  # finds the package without importing it
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            return path
    return None


# -- the pipeline -----------------------------------------------------------------------------
def _split(x, y, validation_split: float, seed: int):
    """``steps.split_data``, refused with a one-line reason when a part would be empty."""
    _check_splittable(len(y), validation_split, "validation_split")
    return split_data(x, y, validation_split, seed)


def _check_splittable(n: int, share: float, key: str) -> None:
    n_out = int(np.ceil(n * share))
    if n_out < 1 or n - n_out < 1:
        raise DataError(f"{n} samples are too few to split with {key}={share:g}")


def test_phrase(test_split: float) -> str:
    """What a drawn test part is ("20 % of the rows, drawn first"), or why there is none."""
    if test_split <= 0.0:
        return "none: data.test_split is 0"
    return f"{format_percent(test_split).removesuffix('%')} % of the rows, drawn first"


@dataclass
class Parts:
    """The rows of each part before the steps after the splits (``steps.prepare``)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    test_part: str
    notices: list[str | None]


def split_parts(raw: RawData, cfg: DataConfig, seed: int, x: np.ndarray | None = None) -> Parts:
    """The splits, in order: the test part first (the source's own, or ``test_split``
    of all rows from its own stream), then validation (the source's own, or
    ``validation_split`` of the rest).  ``x`` stands in for ``raw.x`` (the preview
    passes row numbers, to split labels only)."""
    x = raw.x if x is None else x
    x_te: np.ndarray | None = None
    y_te: np.ndarray | None = None
    if raw.has_test:
        x_te, y_te = raw.x_test, raw.y_test
        test_part = str(raw.meta.get("test_part", "the data's own test rows"))
    elif raw.presplit:
        test_part = str(
            raw.meta.get(
                "test_part", "none: the data brings its own validation rows but no test rows"
            )
        )
    else:
        test_part = test_phrase(cfg.test_split)
    x_rest, y_rest = x, raw.y
    if not raw.has_test and not raw.presplit and cfg.test_split > 0:
        _check_splittable(len(raw.y), cfg.test_split, "test_split")
        x_rest, y_rest, x_te, y_te = split_test(x, raw.y, cfg.test_split, seed)
    notices: list[str | None] = []
    if raw.presplit:
        assert raw.x_val is not None and raw.y_val is not None
        x_tr, y_tr, x_va, y_va = x_rest, y_rest, raw.x_val, raw.y_val
    else:
        (x_tr, x_va, y_tr, y_va), singles = _split(x_rest, y_rest, cfg.validation_split, seed)
        notices.append(_single_sample_notice(singles, raw.class_names, y_va))
    return Parts(x_tr, y_tr, x_va, y_va, x_te, y_te, test_part, notices)


def part_sizes(raw: RawData, cfg: DataConfig) -> tuple[int, int, int]:
    """(training, validation, test) rows the splits make, before any fraction."""
    n = len(raw.y)
    n_test = 0
    if raw.has_test:
        assert raw.y_test is not None
        n_test = len(raw.y_test)
    elif not raw.presplit and cfg.test_split > 0:
        n_test = int(np.ceil(n * cfg.test_split))
        n -= n_test
    if raw.presplit:
        assert raw.y_val is not None
        return n, len(raw.y_val), n_test
    n_val = int(np.ceil(n * cfg.validation_split))
    return n - n_val, n_val, n_test


def _single_sample_notice(
    singles: list[int], class_names: list[str] | None, y_val: np.ndarray | None = None
) -> str | None:
    """One line naming the classes too small to appear in both training and validation.

    With ``y_val`` (after the split) it also names any that no training row could
    make room for, so the line never claims more than the split did.
    """
    if not singles:
        return None

    def listed(classes: list[int]) -> str:
        names = [repr(class_names[c]) if class_names else str(c) for c in classes]
        more = f" and {len(names) - 5} more" if len(names) > 5 else ""
        return ", ".join(names[:5]) + more

    lost = [c for c in singles if y_val is not None and c in set(y_val.tolist())]
    if len(singles) == 1:
        line = f"class {listed(singles)} has a single sample"
    else:
        line = f"{len(singles)} classes have a single sample ({listed(singles)})"
    line += ", too few to appear in both training and validation: kept in training"
    if lost:
        line += f" except {listed(lost)} (validation only: no training row could give way)"
    return line


def kept_rows(y: np.ndarray, fraction: float) -> int:
    """How many rows ``steps.subsample`` keeps of labels ``y`` at ``fraction``."""
    if fraction >= 1.0:
        return len(y)
    counts = np.bincount(y)
    return int(sum(max(1, int(round(n * fraction))) for n in counts[counts > 0]))


def _source_name(cfg: DataConfig) -> str:
    return str(Path(cfg.path).expanduser()) if cfg.path else cfg.source


def read_source(cfg: DataConfig, seed: int = 0) -> RawData:
    """The samples a config names, read and checked but not yet split; no TensorFlow."""
    path = Path(cfg.path).expanduser() if cfg.path else None
    if cfg.source == "digits":
        x, y, names = _digits()
        raw = RawData("digits", x, y, class_names=names, kind="image", image_shape=(8, 8))
    elif cfg.source in TOYS:
        x, y = toy_points(cfg.source, cfg.n_samples, cfg.noise, seed)
        raw = RawData(cfg.source, x, y, class_names=["0", "1"], kind="points2d")
    elif cfg.source == "npz":
        raw = read_npz(path)
    elif cfg.source == "csv":  # any table file: CSV, TSV, Parquet, Excel
        assert path is not None
        raw = read_table(
            path,
            cfg.label_column,
            sheet=cfg.sheet,
            missing=cfg.missing,
            max_categories=cfg.max_categories,
        )
    elif cfg.source == "images":
        raw = read_image_folder(path, tuple(cfg.image_size), cfg.grayscale)
    elif cfg.source in KERAS_CACHE_SOURCES:
        raw = read_keras_cached(cfg.source)
    else:  # pragma: no cover - guarded by the config's choices
        raise DataError(f"data source {cfg.source!r} is not available in this version")
    check_raw(raw, cfg, _source_name(cfg))
    if raw.x.ndim >= 3 and raw.image_shape is None:
        raw.kind, raw.image_shape = "image", tuple(raw.x.shape[1:3])
    if _n_inputs(raw) == (2,) and raw.kind == "tabular":
        raw.kind = "points2d"
    return raw


def _n_inputs(raw: RawData) -> tuple[int, ...]:
    """The shape of one prepared sample (a table's: its columns after one-hot encoding)."""
    if raw.table is None:
        return tuple(raw.x.shape[1:])
    plan = raw.table.plan
    n_categories = sum(plan["levels"].values())
    return (len(plan["numbers"]) + len(plan["booleans"]) + n_categories,)


def check_raw(raw: RawData, cfg: DataConfig, where: str) -> None:
    """The checks every source shares: shapes, lengths, classes, sizes, enough rows."""
    parts = [("x", raw.x, raw.y)]
    if raw.presplit:
        parts.append(("validation x", raw.x_val, raw.y_val))
    if raw.has_test:
        parts.append(("test x", raw.x_test, raw.y_test))
    for label, x, y in parts:
        if x.ndim < 2 or x.dtype.kind not in "fiu":
            raise DataError(f"{where}: {label} must be numeric rows, got {x.dtype} {x.shape}")
        if len(x) != len(y):
            raise DataError(f"{where}: {label} has {len(x)} samples but {len(y)} labels")
        if not np.isfinite(x).all():
            raise DataError(f"{where}: {label} contains NaN or infinite values")
        if len(y) and int(y.min()) < 0:
            raise DataError(f"{where}: labels must be 0 or more")
        if raw.presplit and label == "x" and len(y) == 0:  # (empty validation: "too few")
            raise DataError(f"{where}: the training arrays hold no samples")
        if label == "test x" and len(y) == 0:
            raise DataError(f"{where}: the test arrays hold no samples")
    if not raw.presplit and not raw.has_test and cfg.validation_fraction < 1.0:
        raise DataError(  # (a source with its own test part validates on a split of its own)
            f"{where} has no validation set of its own (x_val, y_val), so "
            "data.validation_fraction does not apply; set data.validation_split instead"
        )
    for label, x, _ in parts[1:]:
        if raw.x.shape[1:] != x.shape[1:]:
            part = label.removesuffix(" x")
            raise DataError(
                f"{where}: training samples have shape {raw.x.shape[1:]} but {part} "
                f"samples {x.shape[1:]}"
            )
    n_features = int(np.prod(raw.x.shape[1:]))
    if n_features == 0:
        raise DataError(f"{where}: the samples have no features (shape {raw.x.shape[1:]})")
    if n_features > MAX_FEATURES:
        raise DataError(
            f"{where}: {n_features:,} features per sample is more than FitGap's dense "
            f"networks take ({MAX_FEATURES:,}); use a smaller image_size"
        )
    y_all = all_labels(raw)
    n_samples = len(y_all)
    distinct = np.unique(y_all)
    if n_samples == 0:
        raise DataError(f"{where} holds no samples")
    train_classes = np.unique(raw.y)  # raw.y is every sample when the source is unsplit
    if len(train_classes) < 2:
        only = raw.class_names[train_classes[0]] if raw.class_names else train_classes[0]
        raise DataError(
            f"{where}: every training label is the same class ({only}); "
            "a classifier needs at least two classes"
        )
    n_classes = int(distinct.max()) + 1
    if n_classes > MAX_CLASSES:
        raise DataError(
            f"{where}: a label of {n_classes - 1} would make {n_classes:,} classes; "
            f"FitGap takes up to {MAX_CLASSES:,} (use labels 0..n_classes-1)"
        )
    if len(distinct) > 20 and len(distinct) > n_samples / 2:
        raise DataError(
            f"{where}: the labels take {len(distinct)} different values in {n_samples} "
            "samples, which looks like a number to predict, not a class; FitGap "
            "classifies (choose the class column with data.label_column)"
        )
    n_train, n_val, n_test = part_sizes(raw, cfg)
    if n_samples < MIN_SAMPLES or n_train < 2 or n_val < 1:
        test = f", {n_test} for test" if n_test else ""
        raise DataError(
            f"{where}: {n_samples} samples are too few ({n_train} for training, {n_val} "
            f"for validation{test}); FitGap needs at least {MIN_SAMPLES}, two or more for "
            "training"
        )


def all_labels(raw: RawData) -> np.ndarray:
    """Every label the source holds: training, then its own validation and test rows."""
    parts = [raw.y, raw.y_val, raw.y_test]
    return np.concatenate([y for y in parts if y is not None])


def _finish(raw: RawData, cfg: DataConfig, seed: int) -> Dataset:
    """The splits, then subsample, label noise and scale: the deterministic pipeline."""
    parts = split_parts(raw, cfg, seed)
    y_parts = [parts.y_train, parts.y_val] + ([parts.y_test] if parts.y_test is not None else [])
    n_classes = int(max(y.max(initial=0) for y in y_parts)) + 1
    class_names = raw.class_names or [str(i) for i in range(n_classes)]
    if len(np.unique(parts.y_train)) < 2:
        raise DataError(f"{raw.name}: the training data has fewer than two classes")

    # (validation_fraction is 1 where it does not apply: check_raw)
    if raw.table is not None:  # a table's rows: prepared by what the training rows fit
        rows_te = None if parts.x_test is None else parts.x_test[:, 0]
        split = (parts.x_train[:, 0], parts.y_train, parts.x_val[:, 0], parts.y_val)
        x_tr, y_tr, x_va, y_va, x_te, y_te, flipped = prepare_table(
            raw.table.features,
            (*split, rows_te, parts.y_test),
            len(class_names),
            data_steps(cfg),
            seed,
            raw.table.plan,
        )
    else:
        x_tr, y_tr, x_va, y_va, x_te, y_te, flipped = prepare(
            parts.x_train,
            parts.y_train,
            parts.x_val,
            parts.y_val,
            len(class_names),
            data_steps(cfg),
            seed,
            parts.x_test,
            parts.y_test,
        )
    meta = dict(raw.meta, source=cfg.source, test_part=parts.test_part)
    source_rows, original = _source_rows(raw, cfg, seed, parts)
    return Dataset(
        x_train=x_tr,
        y_train=y_tr,
        x_val=x_va,
        y_val=y_va,
        class_names=list(class_names),
        name=raw.name,
        kind=raw.kind,
        image_shape=raw.image_shape,
        meta=_with_notices(meta, parts.notices),
        flipped_rows=flipped,
        source_rows=source_rows,
        original_labels=original,
        x_test=x_te,
        y_test=y_te,
    )


def _source_rows(
    raw: RawData, cfg: DataConfig, seed: int, parts: Parts
) -> tuple[np.ndarray, np.ndarray]:
    """The training rows' indices in the source and their labels before label noise:
    the same splits and subsample run on row numbers (each step is deterministic).  A
    table's ``x`` is its row numbers already, so its ``parts`` are those splits."""
    if raw.table is not None:
        numbers_x, numbers_y = parts.x_train[:, 0], parts.y_train
    else:
        numbers = split_parts(raw, cfg, seed, x=np.arange(len(raw.y)))
        numbers_x, numbers_y = numbers.x_train, numbers.y_train
    rows, original = subsample(numbers_x, numbers_y, cfg.train_fraction, seed)
    return np.asarray(rows, dtype=np.int64), np.asarray(original, dtype=np.int64)


def data_steps(cfg: DataConfig) -> dict:
    """The steps after the split as plain data (``steps.prepare`` takes them), the scale
    resolved (null: the source's default)."""
    return {key: getattr(cfg, key) for key in STEP_KEYS} | {"scale": cfg.resolved_scale}


def _with_notices(meta: dict, notices: list[str | None]) -> dict:
    """``meta["notices"]``: one-line remarks about the data (shown with its summary)."""
    kept = [n for n in notices if n]
    if kept:
        meta["notices"] = [*meta.get("notices", []), *kept]
    return meta


def load_dataset(cfg: DataConfig, seed: int = 0) -> Dataset:
    """Load and split the data a config names; raises DataError with a one-line reason."""
    return _finish(read_source(cfg, seed), cfg, seed)


# -- preview (File -> Open data) ---------------------------------------------------------------
@dataclass
class DataPreview:
    """What the open-data dialog shows before training: sizes, classes, a few images."""

    name: str
    source: str
    kind: str
    n_samples: int
    n_train: int
    n_val: int
    input_shape: tuple[int, ...]
    class_names: list[str]
    class_counts: list[int]
    image_shape: tuple[int, ...] | None = None
    #: Up to ``n_images`` (pixels as uint8 (h, w) or (h, w, 3), class name), one class each first.
    sample_images: list[tuple[np.ndarray, str]] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    #: Rows of the test part (0: none) and what it is, or why there is none.
    n_test: int = 0
    test_part: str = "none"
    #: A table file's columns, label and notices (None for other sources).
    table: TableReport | None = None

    @property
    def n_features(self) -> int:
        return int(np.prod(self.input_shape))

    def summary(self) -> str:
        counts = ", ".join(
            f"{n} {c}" for c, n in zip(self.class_names, self.class_counts, strict=False)
        )
        skipped = self.meta.get("skipped_count")
        tail = f"; {skipped} unreadable images skipped" if skipped else ""
        tail += "".join(f"; {notice}" for notice in self.meta.get("notices", []))
        return (
            f"{self.name}: {self.n_samples} samples ({self.n_train} training, {self.n_val} "
            f"validation, {self.n_test} test), {self.n_features} features, "
            f"{len(self.class_names)} classes ({counts[:300]}){tail}; test part: {self.test_part}"
        )


def _as_picture(sample: np.ndarray, image_shape: tuple[int, ...]) -> np.ndarray:
    """One sample as uint8 pixels, stretched to 0-255 so any value range is visible."""
    pixels = sample.reshape(*image_shape, -1) if sample.ndim == 1 else sample
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    lo, hi = float(pixels.min()), float(pixels.max())
    scaled = (pixels - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(pixels)
    return scaled.astype(np.uint8)


def _sample_images(raw: RawData, n_images: int) -> list[tuple[np.ndarray, str]]:
    if raw.kind != "image" or raw.image_shape is None or n_images <= 0:
        return []
    names = raw.class_names or [str(i) for i in range(int(raw.y.max()) + 1)]
    first_of_class = [int(np.flatnonzero(raw.y == c)[0]) for c in np.unique(raw.y)]
    firsts = set(first_of_class)
    rest = [i for i in range(min(len(raw.y), 2 * n_images + len(firsts))) if i not in firsts]
    rows = (first_of_class + rest)[:n_images]
    return [(_as_picture(raw.x[i], raw.image_shape), names[int(raw.y[i])]) for i in rows]


def preview(cfg: DataConfig, seed: int = 0, n_images: int = 8) -> DataPreview:
    """Read and check the data a config names, without splitting or TensorFlow.

    Raises the same DataError that training would, so the dialog can refuse a bad
    file before the user presses Train.
    """
    raw = read_source(cfg, seed)
    y_all = all_labels(raw)
    n_classes = int(y_all.max()) + 1
    names = raw.class_names or [str(i) for i in range(n_classes)]
    n_train, n_val, n_test = part_sizes(raw, cfg)
    parts = split_parts(raw, cfg, seed, x=np.arange(len(raw.y)))  # the labels only
    n_val = kept_rows(parts.y_val, cfg.validation_fraction)
    return DataPreview(
        name=raw.name,
        source=cfg.source,
        kind=raw.kind,
        n_samples=len(y_all),
        n_train=n_train,
        n_val=n_val,
        input_shape=_n_inputs(raw),
        class_names=list(names),
        class_counts=np.bincount(y_all, minlength=len(names)).tolist(),
        image_shape=raw.image_shape,
        sample_images=_sample_images(raw, n_images),
        meta=_with_notices(dict(raw.meta), [_preview_notice(raw)]),
        n_test=n_test,
        test_part=parts.test_part,
        table=None if raw.table is None else raw.table.report,
    )


def _preview_notice(raw: RawData) -> str | None:
    """The split's notice, known before splitting: classes with a single sample."""
    if raw.presplit:
        return None
    counts = np.bincount(raw.y)
    return _single_sample_notice(np.flatnonzero(counts == 1).tolist(), raw.class_names)


def load_datasets(
    planned: Sequence[tuple[str, RunConfig]], loaded: dict[str, Dataset] | None = None
) -> list[Dataset]:
    """Each planned run's data, loaded once per distinct data config and seed.

    Loading everything first means a bad data file fails before any training.
    ``loaded`` (filled here) keeps the data between calls: a caller that checked the
    data first passes the same dict to ``run_repeats``, which then loads nothing twice.
    """
    cache: dict[str, Dataset] = {} if loaded is None else loaded
    out = []
    for _, config in planned:
        key = json.dumps([dataclasses.asdict(config.data), config.training.seed])
        if key not in cache:
            cache[key] = load_dataset(config.data, config.training.seed)
        out.append(cache[key])
    return out
