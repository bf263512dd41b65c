"""The "data" section of an exported Keras script: one reader per source, then the steps.

Each source's template writes out, in readable numpy/csv/Pillow code, how FitGap's reader
for it (``core.data.readers``, ``core.data.datasets``) turns the run's file or built-in
set into arrays.  The steps every source shares (split, subsample, label noise, scaling)
are not written out: the program carries ``core.data.steps`` itself.  The result equals
``load_dataset(cfg, seed)`` bit for bit (tests/core/export/test_export.py and
tests/core/export/test_script_sources.py).
"""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import numpy as np

from fitgap_gui.core.config.schema import KERAS_CACHE_SOURCES, RunConfig
from fitgap_gui.core.data import sklearn_sets, steps, toys
from fitgap_gui.core.data.readers import csvfile, keras_cache
from fitgap_gui.core.data.readers.imagefolder import FORMATS, IMAGE_SUFFIXES, read_image
from fitgap_gui.core.data.readers.npzfile import VAL_ALIASES
from fitgap_gui.core.export.script_text import (
    ScriptExportError,
    carried,
    comment_text,
    copied,
    literal,
)

#: The data settings the sources and steps below write out.
DATA_KEYS = {
    "source", "path", "train_fraction", "validation_split", "validation_fraction",
    "label_noise", "scale", "noise", "n_samples", "label_column", "image_size", "grayscale",
}  # fmt: skip


@dataclasses.dataclass
class Source:
    """One data source written out: the lines of ``load_data()`` that make the arrays.

    ``body`` defines ``x``, ``y`` and ``n_classes`` (or, when ``presplit``, the four
    arrays and ``n_classes``); ``consts``, ``helpers`` and ``imports`` are the module
    level constants, functions and import lines it needs.
    """

    body: str
    consts: list[str] = dataclasses.field(default_factory=list)
    helpers: str = ""
    imports: list[str] = dataclasses.field(default_factory=list)
    presplit: bool = False


def _data_path(config: RunConfig) -> str:
    """The run's file as an absolute path, so the script runs from any folder."""
    assert config.data.path is not None  # file sources require one (DataConfig checks)
    return f"DATA_PATH = {literal(str(Path(config.data.path).expanduser().absolute()))}"


# -- built-in sets ---------------------------------------------------------------------------
DIGITS = """
    from sklearn.datasets import load_digits

    digits = load_digits()  # ships with scikit-learn, nothing is downloaded
    x, y = digits.data.astype(np.float32), digits.target.astype(np.int64)
    n_classes = 10
"""


def _source_builtin(config: RunConfig) -> Source:
    d = config.data
    if d.source == "digits":
        return Source(DIGITS)
    body = f"x, y = toy_points({literal(d.source)}, N_SAMPLES, NOISE, SEED)\nn_classes = 2\n"
    helpers = carried(sklearn_sets) + "\n\n" + carried(toys)  # drawn as FitGap draws them
    return Source(body, [f"N_SAMPLES = {d.n_samples!r}", f"NOISE = {d.noise!r}"], helpers)


# -- NPZ -----------------------------------------------------------------------------------------
AS_LABELS = '''
def as_labels(y):
    """Integer class labels; one-hot rows become their class number."""
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 2 and y.shape[1] > 1:
        y = y.argmax(axis=1)
    return y.astype(np.int64)
'''


def _npz_validation_keys(config: RunConfig) -> tuple[str, str] | None:
    """The validation arrays of a pre-split archive (as the NPZ reader picks them), or None."""
    assert config.data.path is not None  # file sources require one (DataConfig checks)
    try:
        with np.load(Path(config.data.path).expanduser(), allow_pickle=False) as archive:
            keys = list(archive.files)
    except (OSError, ValueError) as exc:
        raise ScriptExportError(f"{config.data.path}: cannot read the run's data ({exc})") from None
    if "x_train" in keys and "y_train" in keys:
        return next(((xv, yv) for xv, yv in VAL_ALIASES if xv in keys and yv in keys), None)
    return None


def _source_npz(config: RunConfig) -> Source:
    consts, val = [_data_path(config)], _npz_validation_keys(config)
    read = "data = np.load(DATA_PATH)  # plain arrays only: allow_pickle stays False\n"
    if val is None:
        body = read + 'x, y = data["x"].astype(np.float32), as_labels(data["y"])\n'
        return Source(body, consts, AS_LABELS)
    body = read + (
        f'x_train, x_val = data["x_train"], data[{literal(val[0])}]\n'
        "x_train, x_val = x_train.astype(np.float32), x_val.astype(np.float32)\n"
        f'y_train, y_val = as_labels(data["y_train"]), as_labels(data[{literal(val[1])}])\n'
        "n_classes = int(max(y_train.max(), y_val.max())) + 1\n"
    )
    return Source(body, consts, AS_LABELS, presplit=True)


# -- CSV -------------------------------------------------------------------------------------------
CSV_HELPERS = '''
def encode_labels(labels):
    """Each distinct label is a class: numbers ordered by value, text by name."""
    distinct = sorted(set(labels))
    try:
        values = sorted({float(t) for t in distinct})
    except ValueError:  # text labels
        index = {t: i for i, t in enumerate(distinct)}
        return np.array([index[t] for t in labels], dtype=np.int64), len(distinct)
    index = {v: i for i, v in enumerate(values)}
    return np.array([index[float(t)] for t in labels], dtype=np.int64), len(values)
'''


def _source_csv(config: RunConfig) -> Source:
    """The layout the CSV reader finds (delimiter, header, trailing delimiter, label
    column) is read here, so the script stays short."""
    assert config.data.path is not None  # file sources require one (DataConfig checks)
    layout = csvfile.csv_layout(Path(config.data.path).expanduser(), config.data.label_column)
    note = "counted from 0"
    if layout.header is not None:
        note = f"the {literal(layout.header[layout.label])} column"
    consts = [
        _data_path(config),
        f"DELIMITER = {literal(layout.delimiter)}",
        f"HAS_HEADER = {layout.header is not None!r}",
        f"TRAILING_DELIMITER = {layout.trailing!r}  # every line ends in DELIMITER",
        f"LABEL_COLUMN = {layout.label!r}  # {comment_text(note)}",
    ]
    body = """
        # The CSV as FitGap read it: UTF-8 text parsed as one stream (a quoted field may
        # hold a line break), blank lines skipped, the empty last column dropped when
        # every line ends in DELIMITER, every column but LABEL_COLUMN a number (parsed
        # as float64, then float32), the label as text.
        text = Path(DATA_PATH).read_bytes().decode("utf-8-sig")
        stream = io.StringIO(text, newline="")
        reader = csv.reader(stream, delimiter=DELIMITER, skipinitialspace=True)
        rows = [row for row in reader if row and (len(row) > 1 or row[0].strip())]
        if TRAILING_DELIMITER:
            rows = [row[:-1] for row in rows]
        if HAS_HEADER:
            rows = rows[1:]
        features = [c for c in range(len(rows[0])) if c != LABEL_COLUMN]
        x = np.array([[float(row[c]) for c in features] for row in rows]).astype(np.float32)
        y, n_classes = encode_labels([row[LABEL_COLUMN].strip() for row in rows])
    """
    imports = ["import csv", "import io", "from pathlib import Path"]
    return Source(body, consts, CSV_HELPERS, imports)


# -- image folder ----------------------------------------------------------------------------------
IMAGE_FILES = '''
def image_files(folder):
    """The images under ``folder`` (its subfolders included), in path order."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file() and not p.name.startswith(".")
    )
'''


def _source_images(config: RunConfig) -> Source:
    d = config.data
    consts = [
        _data_path(config),
        f"IMAGE_SIZE = {tuple(d.image_size)!r}  # (height, width)",
        f"GRAYSCALE = {d.grayscale!r}",
        f"IMAGE_SUFFIXES = {literal(tuple(IMAGE_SUFFIXES))}",
        f"FORMATS = {literal(tuple(FORMATS))}  # the only ones decoded",
    ]
    body = """
        # One subfolder per class, in name order.  An image Pillow cannot read is
        # skipped, as FitGap skipped it.
        folders = sorted(
            (p for p in Path(DATA_PATH).iterdir() if p.is_dir() and not p.name.startswith(".")),
            key=lambda p: p.name,
        )
        images, labels = [], []
        for label, folder in enumerate(folders):
            for file in image_files(folder):
                try:
                    images.append(read_image(file, IMAGE_SIZE, GRAYSCALE))
                except Exception:  # whatever Pillow raises, FitGap skipped the image too
                    continue
                labels.append(label)
        x, y, n_classes = np.stack(images), np.array(labels, dtype=np.int64), len(folders)
    """
    imports = ["import stat", "import warnings", "from pathlib import Path"]
    return Source(body, consts, IMAGE_FILES + "\n\n" + copied(read_image), imports)


# -- Keras's dataset cache (FitGap's own readers of it, carried) ---------------------------------
KERAS_CACHE_READ = {
    "mnist": """
        with np.load(datasets_dir() / "mnist.npz") as data:  # allow_pickle stays False
            x_train, y_train = data["x_train"], data["y_train"]
            x_val, y_val = data["x_test"], data["y_test"]
    """,
    "fashion_mnist": """
        files = [datasets_dir() / "fashion-mnist" / name for name in FASHION_FILES]
        y_train, x_train, y_val, x_val = (read_idx(f, 8 if "labels" in f.name else 16) for f in files)
        x_train, x_val = x_train.reshape(-1, 28, 28), x_val.reshape(-1, 28, 28)
    """,
    "cifar10": """
        folder = cifar_dir(datasets_dir())
        batches = [read_cifar_batch(folder / f"data_batch_{i}") for i in range(1, 6)]
        x_train = np.concatenate([images for images, _ in batches])
        y_train = np.concatenate([labels for _, labels in batches])
        x_val, y_val = read_cifar_batch(folder / "test_batch")
    """,
}


def _source_keras_cache(config: RunConfig) -> Source:
    name = config.data.source
    body = (
        f"# Keras's own dataset cache, where keras.datasets.{name}.load_data() saves it;\n"
        "# read here, never downloaded.  Its training part trains, its test part validates.\n"
        + textwrap.dedent(KERAS_CACHE_READ[name])
        + "x_train, x_val = x_train.astype(np.float32), x_val.astype(np.float32)\n"
        "y_train = np.asarray(y_train, dtype=np.int64).reshape(-1)\n"
        "y_val = np.asarray(y_val, dtype=np.int64).reshape(-1)\n"
        "n_classes = 10\n"
    )
    c = keras_cache
    readers = [c.datasets_dir, c.cifar_dir, c.read_idx, c.ArrayUnpickler, c.read_cifar_batch]
    consts = (
        [f"FASHION_FILES = {literal(list(c.FASHION_FILES))}"] if name == "fashion_mnist" else []
    )
    imports = ["import gzip", "import io", "import pickle", "from pathlib import Path"]
    return Source(body, consts, copied(*readers), imports, presplit=True)


SOURCES = {
    **{name: _source_builtin for name in ("digits", *toys.TOYS)},
    "npz": _source_npz,
    "csv": _source_csv,
    "images": _source_images,
    **{name: _source_keras_cache for name in KERAS_CACHE_SOURCES},
}


# -- the steps every source shares (core.data.steps, carried whole) -------------------------------
def data_steps(config: RunConfig, source: Source) -> tuple[list[str], str]:
    """(the constants of the steps this run takes, the lines of ``load_data`` that take them)."""
    d = config.data
    if d.validation_fraction < 1.0 and not source.presplit:  # load_dataset refuses it too
        raise ScriptExportError(
            "data.validation_fraction needs data with its own validation set "
            "(x_val/y_val); this data is split by data.validation_split"
        )
    val_seed = f"SEED + {steps.VALIDATION_SEED_OFFSET!r}"  # a stream of its own
    taken = [
        (not source.presplit, "VALIDATION_SPLIT", d.validation_split,
         "(x_train, x_val, y_train, y_val), _ = split_data(x, y, VALIDATION_SPLIT, SEED)"),
        (not source.presplit and d.source == "npz", "", None,
         "n_classes = int(max(y_train.max(), y_val.max())) + 1"),
        (d.train_fraction < 1.0, "TRAIN_FRACTION", d.train_fraction,
         "x_train, y_train = subsample(x_train, y_train, TRAIN_FRACTION, SEED)"),
        (d.validation_fraction < 1.0, "VALIDATION_FRACTION", d.validation_fraction,
         f"x_val, y_val = subsample(x_val, y_val, VALIDATION_FRACTION, {val_seed})"),
        (d.label_noise > 0.0, "LABEL_NOISE", d.label_noise,
         "y_train = flip_labels(y_train, LABEL_NOISE, n_classes, SEED)"),
        (d.scale != "none", "SCALE", d.scale, "x_train, x_val = scale(x_train, x_val, SCALE)"),
    ]  # fmt: skip
    consts = [f"{name} = {literal(value)}" for on, name, value, _ in taken if on and name]
    return consts, "".join(f"{line}\n" for on, _, _, line in taken if on)


def load_data_function(config: RunConfig, source: Source, lines: str) -> str:
    body = textwrap.dedent(source.body).strip("\n") + "\n" + lines
    body += """return (
    np.ascontiguousarray(x_train, dtype=np.float32),
    np.ascontiguousarray(y_train, dtype=np.int64),
    np.ascontiguousarray(x_val, dtype=np.float32),
    np.ascontiguousarray(y_val, dtype=np.int64),
    n_classes,
)
"""
    doc = '"""The training and validation arrays, exactly as FitGap built them."""\n'
    return "def load_data():\n" + textwrap.indent(
        doc + body, "    ", lambda line: bool(line.strip())
    )
