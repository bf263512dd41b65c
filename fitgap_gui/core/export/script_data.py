"""The "data" section of an exported Keras script: one reader per source, then the steps.

A template per source writes out, in readable numpy/csv code, how FitGap's reader for it
(``core.data.readers``) turns the run's file into arrays; where the engine's own code is
plain (the drawn sets, the image decoder, the Keras-cache readers) the program carries
it.  The split and the steps after it are always the engine's (``core.data.steps``).
The arrays equal ``load_dataset(cfg, seed)``'s bit for bit (tests/core/export/).
"""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import numpy as np

from fitgap_gui.core.config.schema import KERAS_CACHE_SOURCES, RunConfig
from fitgap_gui.core.data import sklearn_sets, splits, steps, toys
from fitgap_gui.core.data.datasets import data_steps
from fitgap_gui.core.data.readers import csvfile, imagefolder, keras_cache
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
    """A source written out: ``body`` makes ``x``, ``y`` and ``n_classes`` (``presplit``:
    the four arrays), with the module-level ``consts``, ``helpers`` and ``imports`` it uses."""

    body: str
    consts: list[str] = dataclasses.field(default_factory=list)
    helpers: str = ""
    imports: list[str] = dataclasses.field(default_factory=list)
    presplit: bool = False


def _data_path(config: RunConfig) -> str:
    """The run's file as an absolute path, so the script runs from any folder."""
    assert config.data.path is not None  # file sources require one (DataConfig checks)
    return f"DATA_PATH = {literal(str(Path(config.data.path).expanduser().absolute()))}"


# -- built-in sets: digits from scikit-learn, the drawn ones as FitGap draws them ---------
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
    helpers = carried(sklearn_sets) + "\n\n" + carried(toys)
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


def _source_npz(config: RunConfig) -> Source:
    consts, keys = [_data_path(config)], []
    try:
        with np.load(Path(str(config.data.path)).expanduser(), allow_pickle=False) as archive:
            keys = list(archive.files)
    except (OSError, ValueError) as exc:
        raise ScriptExportError(f"{config.data.path}: cannot read the run's data ({exc})") from None
    read = "data = np.load(DATA_PATH)  # plain arrays only: allow_pickle stays False\n"
    val = [(xv, yv) for xv, yv in VAL_ALIASES if {xv, yv, "x_train", "y_train"} <= set(keys)]
    if not val:  # split by the program, as by FitGap
        body = read + 'x, y = data["x"].astype(np.float32), as_labels(data["y"])\n'
        return Source(body + "n_classes = int(y.max()) + 1\n", consts, AS_LABELS)
    body = read + (
        f'x_train, x_val = data["x_train"], data[{literal(val[0][0])}]\n'
        "x_train, x_val = x_train.astype(np.float32), x_val.astype(np.float32)\n"
        f'y_train, y_val = as_labels(data["y_train"]), as_labels(data[{literal(val[0][1])}])\n'
        "n_classes = int(max(y_train.max(), y_val.max())) + 1\n"
    )
    return Source(body, consts, AS_LABELS, presplit=True)


# -- CSV -------------------------------------------------------------------------------------------
ENCODE_LABELS = '''
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
    column) is read here, so the program stays short."""
    layout = csvfile.csv_layout(Path(str(config.data.path)).expanduser(), config.data.label_column)
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
    return Source(body, consts, ENCODE_LABELS, imports)


# -- image folder: FitGap's own decoder ------------------------------------------------------------
def _source_images(config: RunConfig) -> Source:
    d = config.data
    consts = [
        _data_path(config),
        f"IMAGE_SIZE = {tuple(d.image_size)!r}  # (height, width)",
        f"GRAYSCALE = {d.grayscale!r}",
        f"IMAGE_SUFFIXES = {literal(tuple(imagefolder.IMAGE_SUFFIXES))}",
        f"FORMATS = {literal(tuple(imagefolder.FORMATS))}  # the only ones decoded",
    ]
    body = """
        # One subfolder per class, in name order, its images (subfolders included) in path
        # order.  An image that cannot be read is skipped, as FitGap skipped it.
        folders = sorted(
            (p for p in Path(DATA_PATH).iterdir() if p.is_dir() and not p.name.startswith(".")),
            key=lambda p: p.name,
        )
        images, labels = [], []
        for label, folder in enumerate(folders):
            for file in sorted(folder.rglob("*")):
                if file.suffix.lower() not in IMAGE_SUFFIXES or file.name.startswith("."):
                    continue
                try:
                    images.append(read_image(file, IMAGE_SIZE, GRAYSCALE))
                except Exception:  # not a regular file, or not an image Pillow reads
                    continue
                labels.append(label)
        x, y, n_classes = np.stack(images), np.array(labels, dtype=np.int64), len(folders)
    """
    imports = ["import stat", "import warnings", "from pathlib import Path"]
    return Source(body, consts, copied(imagefolder.read_image), imports)


# -- Keras's dataset cache: FitGap's own readers of it ---------------------------------------------
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
    name, c = config.data.source, keras_cache
    body = (
        f"# Keras's own dataset cache, where keras.datasets.{name}.load_data() saves it;\n"
        "# read here, never downloaded.  Its training part trains, its test part validates.\n"
        + textwrap.dedent(KERAS_CACHE_READ[name])
        + "x_train, x_val = x_train.astype(np.float32), x_val.astype(np.float32)\n"
        "y_train = np.asarray(y_train, dtype=np.int64).reshape(-1)\n"
        "y_val = np.asarray(y_val, dtype=np.int64).reshape(-1)\n"
        "n_classes = 10\n"
    )
    readers = copied(c.datasets_dir, c.cifar_dir, c.read_idx, c.ArrayUnpickler, c.read_cifar_batch)
    consts = (
        [f"FASHION_FILES = {literal(list(c.FASHION_FILES))}"] if name == "fashion_mnist" else []
    )
    imports = ["import gzip", "import io", "import pickle", "from pathlib import Path"]
    return Source(body, consts, readers, imports, presplit=True)


SOURCES = {
    **{name: _source_builtin for name in ("digits", *toys.TOYS)},
    "npz": _source_npz,
    "csv": _source_csv,
    "images": _source_images,
    **{name: _source_keras_cache for name in KERAS_CACHE_SOURCES},
}


# -- the split and the steps after it: the engine's own -------------------------------------------
def data_section(config: RunConfig, source: Source) -> tuple[list[str], str]:
    """(the constants, the code: the source's helpers, the steps and ``load_data``)."""
    d = config.data
    if d.validation_fraction < 1.0 and not source.presplit:  # load_dataset refuses it too
        raise ScriptExportError(
            "data.validation_fraction needs data with its own validation set "
            "(x_val/y_val); this data is split by data.validation_split"
        )
    consts = [f"DATA_STEPS = {literal(data_steps(d), room=0)}"]
    body = textwrap.dedent(source.body).strip("\n") + "\n"
    if not source.presplit:
        consts.insert(0, f"VALIDATION_SPLIT = {d.validation_split!r}")
        body += "(x_train, x_val, y_train, y_val), _ = split_data(x, y, VALIDATION_SPLIT, SEED)\n"
    body += (
        "*arrays, _flipped = prepare(x_train, y_train, x_val, y_val, n_classes, DATA_STEPS, SEED)\n"
        "return (*arrays, n_classes)\n"
    )
    doc = '"""The training and validation arrays, exactly as FitGap built them."""\n'
    load_data = "def load_data():\n" + textwrap.indent(
        doc + body, "    ", lambda s: bool(s.strip())
    )
    code = [source.helpers, carried(splits), carried(steps), load_data]
    return consts, "\n\n\n".join(c.strip("\n") for c in code if c) + "\n"
