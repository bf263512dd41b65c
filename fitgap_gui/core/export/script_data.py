"""The "data" section of an exported Keras script: one template per data source.

Each template writes out, in readable numpy/csv/Pillow code, how FitGap's reader for
that source (``core.readers``, ``core.data``) turns the run's file or built-in set
into arrays, followed by the pipeline every source shares (split, subsample, label
noise, scaling).  The result must be bit-identical to ``load_dataset(cfg, seed)``;
tests/core/export/test_export.py and tests/core/export/test_script_sources.py check that.
"""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import numpy as np

from fitgap_gui.core.config.schema import KERAS_CACHE_SOURCES, RunConfig
from fitgap_gui.core.data.datasets import VALIDATION_SEED_OFFSET
from fitgap_gui.core.data.readers import csvfile
from fitgap_gui.core.errors import FitGapError


class ScriptExportError(FitGapError):
    """A run whose settings the Keras script generator cannot write out faithfully."""


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


def literal(value: object) -> str:
    """Python source for a plain value, built by ``repr`` so that any string round-trips
    (quotes, backslashes, newlines, controls escaped; emoji kept whole, never split into
    surrogates); strings in double quotes when that needs no escape, as ruff formats them."""
    text = repr(value)
    # repr picks single quotes unless the string holds one; with no double quote in
    # it either, the same body is valid between double quotes.
    if isinstance(value, str) and text.startswith("'") and '"' not in value:
        text = '"' + text[1:-1] + '"'
    return text


def _escape_unprintable(text: str, extra: dict[str, str]) -> str:
    """Each character of ``text`` that is not printable as ``repr`` escapes it (so no
    newline, CR, U+2028 or control survives), and each one in ``extra`` as given."""
    return "".join(
        extra[ch] if ch in extra else ch if ch.isprintable() else repr(ch)[1:-1] for ch in text
    )


def comment_text(text: str) -> str:
    """``text`` for the rest of a ``#`` comment line: nothing in it can end the line."""
    return _escape_unprintable(text, {})


def docstring_text(text: str) -> str:
    """``text`` for the inside of a triple-double-quoted string whose value is then
    ``text`` exactly: backslashes and double quotes are escaped, so nothing in it can
    end the string, start an escape of its own, or end the line."""
    return _escape_unprintable(text, {"\\": "\\\\", '"': '\\"'})


def _data_path(config: RunConfig) -> str:
    """The run's file as an absolute path, so the script runs from any folder."""
    assert config.data.path is not None  # file sources require one (DataConfig checks)
    return f"DATA_PATH = {literal(str(Path(config.data.path).expanduser().absolute()))}"


# -- built-in sets ---------------------------------------------------------------------------
def _source_digits(config: RunConfig) -> Source:
    return Source("""
        from sklearn.datasets import load_digits

        digits = load_digits()  # ships with scikit-learn, nothing is downloaded
        x = digits.data.astype(np.float32)
        y = digits.target.astype(np.int64)
        n_classes = 10
    """)


def _toy_consts(config: RunConfig) -> list[str]:
    return [f"N_SAMPLES = {config.data.n_samples!r}", f"NOISE = {config.data.noise!r}"]


def _source_moons(config: RunConfig) -> Source:
    body = """
        from sklearn.datasets import make_moons

        x, y = make_moons(n_samples=N_SAMPLES, noise=NOISE, random_state=SEED)
        x, y = x.astype(np.float32), y.astype(np.int64)
        n_classes = 2
    """
    return Source(body, _toy_consts(config))


def _source_circles(config: RunConfig) -> Source:
    body = """
        from sklearn.datasets import make_circles

        x, y = make_circles(n_samples=N_SAMPLES, noise=NOISE, factor=0.5, random_state=SEED)
        x, y = x.astype(np.float32), y.astype(np.int64)
        n_classes = 2
    """
    return Source(body, _toy_consts(config))


def _source_spirals(config: RunConfig) -> Source:
    body = """
        # Two spirals, the second the first turned by half a turn, plus Gaussian noise.
        rng = np.random.default_rng(SEED)
        t = np.sqrt(rng.uniform(0.0, 1.0, N_SAMPLES)) * 3.0 * np.pi
        arm = np.column_stack([t * np.cos(t), t * np.sin(t)]) / (3.0 * np.pi)
        y = (np.arange(N_SAMPLES) >= N_SAMPLES // 2).astype(np.int64)
        x = np.where(y[:, None] == 1, -arm, arm)
        x = (x + rng.normal(scale=NOISE * 0.5, size=x.shape)).astype(np.float32)
        n_classes = 2
    """
    return Source(body, _toy_consts(config))


def _source_xor(config: RunConfig) -> Source:
    body = """
        # Points in [-1, 1]^2; opposite quadrants share a class.
        rng = np.random.default_rng(SEED)
        x = rng.uniform(-1.0, 1.0, size=(N_SAMPLES, 2))
        y = (np.sign(x[:, 0]) != np.sign(x[:, 1])).astype(np.int64)
        x = (x + rng.normal(scale=NOISE * 0.5, size=x.shape)).astype(np.float32)
        n_classes = 2
    """
    return Source(body, _toy_consts(config))


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


def _npz_keys(config: RunConfig) -> list[str]:
    assert config.data.path is not None  # file sources require one (DataConfig checks)
    try:
        with np.load(Path(config.data.path).expanduser(), allow_pickle=False) as archive:
            return list(archive.files)
    except (OSError, ValueError) as exc:
        raise ScriptExportError(f"{config.data.path}: cannot read the run's data ({exc})") from None


def _npz_validation_keys(config: RunConfig) -> tuple[str, str] | None:
    """The validation arrays of a pre-split archive (as the NPZ reader picks them), or None."""
    from fitgap_gui.core.data.readers.npzfile import VAL_ALIASES

    keys = _npz_keys(config)
    if "x_train" in keys and "y_train" in keys:
        for xv, yv in VAL_ALIASES:
            if xv in keys and yv in keys:
                return xv, yv
    return None


def _source_npz(config: RunConfig) -> Source:
    consts = [_data_path(config)]
    val = _npz_validation_keys(config)
    if val is not None:
        body = f"""
            data = np.load(DATA_PATH)  # plain arrays only: allow_pickle stays False
            x_train = data["x_train"].astype(np.float32)
            x_val = data[{literal(val[0])}].astype(np.float32)
            y_train = as_labels(data["y_train"])
            y_val = as_labels(data[{literal(val[1])}])
            n_classes = int(max(y_train.max(), y_val.max())) + 1
        """
        return Source(body, consts, AS_LABELS, presplit=True)
    body = """
        data = np.load(DATA_PATH)  # plain arrays only: allow_pickle stays False
        x = data["x"].astype(np.float32)
        y = as_labels(data["y"])
    """
    return Source(body, consts, AS_LABELS)


# -- CSV -------------------------------------------------------------------------------------------
CSV_HELPERS = '''
def is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def encode_labels(labels):
    """Each distinct label is a class: numbers ordered by value, text by name."""
    distinct = sorted(set(labels))
    if all(is_number(t) for t in distinct):
        values = sorted({float(t) for t in distinct})
        index = {v: i for i, v in enumerate(values)}
        return np.array([index[float(t)] for t in labels], dtype=np.int64), len(values)
    index = {t: i for i, t in enumerate(distinct)}
    return np.array([index[t] for t in labels], dtype=np.int64), len(distinct)
'''


def _csv_layout(config: RunConfig) -> tuple[csvfile.CsvLayout, str]:
    """The layout the CSV reader finds (delimiter, header, trailing delimiter, label
    column) and a note naming the label column; read here, so the script stays short."""
    assert config.data.path is not None  # file sources require one (DataConfig checks)
    layout = csvfile.csv_layout(Path(config.data.path).expanduser(), config.data.label_column)
    if layout.header is not None:
        return layout, f"the {literal(layout.header[layout.label])} column"
    return layout, "counted from 0"


def _source_csv(config: RunConfig) -> Source:
    layout, label_note = _csv_layout(config)
    consts = [
        _data_path(config),
        f"DELIMITER = {literal(layout.delimiter)}",
        f"HAS_HEADER = {layout.header is not None!r}",
        f"TRAILING_DELIMITER = {layout.trailing!r}  # every line ends in DELIMITER",
        f"LABEL_COLUMN = {layout.label!r}  # {comment_text(label_note)}",
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
IMAGE_HELPERS = '''
def image_files(folder):
    """The images under ``folder`` (its subfolders included), in path order."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file() and not p.name.startswith(".")
    )


def read_image(file):
    """One image as float32 (height, width, channels), 0-255, bilinear-resized.

    Only IMAGE_FORMATS are decoded (a PostScript file named .png is never run)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)  # refuse bombs
        with Image.open(file, formats=IMAGE_FORMATS) as img:
            img = img.convert("L" if GRAYSCALE else "RGB")
            img = img.resize((IMAGE_SIZE[1], IMAGE_SIZE[0]), Image.Resampling.BILINEAR)
            pixels = np.asarray(img, dtype=np.float32)
    return pixels[..., None] if GRAYSCALE else pixels
'''


def _source_images(config: RunConfig) -> Source:
    from fitgap_gui.core.data.readers.imagefolder import FORMATS, IMAGE_SUFFIXES

    d = config.data
    consts = [
        _data_path(config),
        f"IMAGE_SIZE = {tuple(d.image_size)!r}  # (height, width)",
        f"GRAYSCALE = {d.grayscale!r}",
        f"IMAGE_SUFFIXES = ({', '.join(literal(s) for s in IMAGE_SUFFIXES)})",
        f"IMAGE_FORMATS = [{', '.join(literal(s) for s in FORMATS)}]",
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
                    images.append(read_image(file))
                except Exception:  # whatever Pillow raises, FitGap skipped the image too
                    continue
                labels.append(label)
        x = np.stack(images)
        y = np.array(labels, dtype=np.int64)
        n_classes = len(folders)
    """
    imports = ["import warnings", "from pathlib import Path", "from PIL import Image"]
    return Source(body, consts, IMAGE_HELPERS, imports)


# -- Keras's dataset cache -------------------------------------------------------------------------
KERAS_CACHE_INTRO = """
    # Keras's own dataset cache ($KERAS_HOME/datasets, else ~/.keras/datasets), where
    # keras.datasets.{name}.load_data() saves it; read here, never downloaded.  Its
    # training part trains and its test part validates.
    keras_home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    datasets = Path(keras_home) / "datasets"
"""

KERAS_CACHE_READ = {
    "mnist": """
        with np.load(datasets / "mnist.npz") as data:  # allow_pickle stays False
            x_train, y_train = data["x_train"], data["y_train"]
            x_val, y_val = data["x_test"], data["y_test"]
    """,
    "fashion_mnist": """
        folder = datasets / "fashion-mnist"
        y_train = read_idx(folder / "train-labels-idx1-ubyte.gz", 8)
        x_train = read_idx(folder / "train-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
        y_val = read_idx(folder / "t10k-labels-idx1-ubyte.gz", 8)
        x_val = read_idx(folder / "t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
    """,
    "cifar10": """
        folder = datasets / "cifar-10-batches-py"
        if not folder.is_dir():  # Keras 3 extracts one folder deeper
            folder = datasets / "cifar-10-batches-py-target" / "cifar-10-batches-py"
        batches = [read_cifar_batch(folder / f"data_batch_{i}") for i in range(1, 6)]
        x_train = np.concatenate([images for images, _ in batches])
        y_train = np.concatenate([labels for _, labels in batches])
        x_val, y_val = read_cifar_batch(folder / "test_batch")
    """,
}

KERAS_CACHE_HELPERS = {
    "mnist": ("", []),
    "fashion_mnist": (
        '''
def read_idx(path, offset):
    """The bytes of a gzipped IDX file after its header: labels or pixels."""
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)
''',
        ["import gzip"],
    ),
    "cifar10": (
        '''
class ArrayUnpickler(pickle.Unpickler):
    """Loads CIFAR-10's pickled batches, refusing anything but dicts, lists and arrays."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refused to load {module}.{name}")
        return super().find_class(module, name)


def read_cifar_batch(path):
    """One batch: images as (n, 32, 32, 3) pixels, and their labels."""
    batch = ArrayUnpickler(io.BytesIO(path.read_bytes()), encoding="bytes").load()
    images = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
    return images.transpose(0, 2, 3, 1), np.asarray(batch[b"labels"], dtype=np.int64)
''',
        ["import io", "import pickle"],
    ),
}


def _source_keras_cache(config: RunConfig) -> Source:
    name = config.data.source
    body = (
        textwrap.dedent(KERAS_CACHE_INTRO).format(name=name)
        + textwrap.dedent(KERAS_CACHE_READ[name])
        + textwrap.dedent("""
            x_train, x_val = x_train.astype(np.float32), x_val.astype(np.float32)
            y_train = np.asarray(y_train, dtype=np.int64).reshape(-1)
            y_val = np.asarray(y_val, dtype=np.int64).reshape(-1)
            n_classes = 10
        """)
    )
    helpers, imports = KERAS_CACHE_HELPERS[name]
    return Source(body, [], helpers, [*imports, "from pathlib import Path"], presplit=True)


SOURCES = {
    "digits": _source_digits,
    "moons": _source_moons,
    "circles": _source_circles,
    "spirals": _source_spirals,
    "xor": _source_xor,
    "npz": _source_npz,
    "csv": _source_csv,
    "images": _source_images,
    **{name: _source_keras_cache for name in KERAS_CACHE_SOURCES},
}


# -- the pipeline every source shares (core.data._finish) --------------------------------------
SPLIT = """
    # Hold out VALIDATION_SPLIT for validation; stratified when every class has two
    # samples and both parts can hold every class.
    from sklearn.model_selection import train_test_split

    n_val = int(np.ceil(len(y) * VALIDATION_SPLIT))
    counts = np.bincount(y)
    n_present = np.count_nonzero(counts)
    can_stratify = (
        counts[counts > 0].min() >= 2 and n_val >= n_present and len(y) - n_val >= n_present
    )
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=VALIDATION_SPLIT, random_state=SEED, stratify=y if can_stratify else None
    )
    # A class with a single sample cannot be in both parts: where the split put it in
    # validation, it trades places with the last training row whose class keeps
    # another training row, so every class is trained on and the part sizes stay.
    singles = np.flatnonzero(np.bincount(y) == 1)
    for row in np.flatnonzero(np.isin(y_val, singles)):
        spare = np.flatnonzero(np.bincount(y_train)[y_train] >= 2)
        if not len(spare):
            break  # no training row can give its place
        k = spare[-1]
        x_train[k], x_val[row] = x_val[row].copy(), x_train[k].copy()
        y_train[k], y_val[row] = y_val[row], y_train[k]
"""

NPZ_CLASSES = """
    n_classes = int(max(y_train.max(), y_val.max())) + 1
"""

#: ``core.data._subsample``, written out for one part (train or val) of the arrays.
SUBSAMPLE_TEMPLATE = """
    # {comment}
    rng = np.random.default_rng({seed})
    keep = []
    for label in np.unique(y_{part}):
        rows = np.flatnonzero(y_{part} == label)
        n = max(1, int(round(len(rows) * {fraction})))
        keep.append(rng.permutation(rows)[:n])
    keep = np.sort(np.concatenate(keep))
    x_{part}, y_{part} = x_{part}[keep], y_{part}[keep]
"""

SUBSAMPLE = SUBSAMPLE_TEMPLATE.format(
    comment="Keep TRAIN_FRACTION of the training rows, at least one of each class.",
    seed="SEED",
    part="train",
    fraction="TRAIN_FRACTION",
)

VALIDATION_SUBSAMPLE = SUBSAMPLE_TEMPLATE.format(
    comment="Keep VALIDATION_FRACTION of the data's own validation rows, at least one of\n"
    f"    # each class, from a stream of its own (SEED + {VALIDATION_SEED_OFFSET}).",
    seed=f"SEED + {VALIDATION_SEED_OFFSET}",
    part="val",
    fraction="VALIDATION_FRACTION",
)

LABEL_NOISE = """
    # Give LABEL_NOISE of the training labels a different, random class.
    rng = np.random.default_rng(SEED + 7919)
    y_train = y_train.copy()
    rows = rng.choice(len(y_train), size=int(round(len(y_train) * LABEL_NOISE)), replace=False)
    shift = rng.integers(1, n_classes, size=len(rows))
    y_train[rows] = (y_train[rows] + shift) % n_classes
"""

SCALE = {
    "standard": """
    # Standardize each feature with the training rows' mean and standard deviation.
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    std[std == 0] = 1.0
    x_train, x_val = (x_train - mean) / std, (x_val - mean) / std
""",
    "minmax": """
    # Scale each feature to [0, 1] with the training rows' minimum and maximum.
    low = x_train.min(axis=0)
    span = x_train.max(axis=0) - low
    span[span == 0] = 1.0
    x_train, x_val = (x_train - low) / span, (x_val - low) / span
""",
}


def _indent(block: str) -> str:
    return textwrap.indent(textwrap.dedent(block).strip("\n"), "    ") + "\n"


def load_data_function(config: RunConfig, source: Source) -> str:
    d = config.data
    body = _indent(source.body)
    if not source.presplit:
        body += SPLIT
        if d.source == "npz":
            body += NPZ_CLASSES
    if d.train_fraction < 1.0:
        body += SUBSAMPLE
    if d.validation_fraction < 1.0:
        if not source.presplit:  # load_dataset refuses it too: nothing to subsample
            raise ScriptExportError(
                "data.validation_fraction needs data with its own validation set "
                "(x_val/y_val); this data is split by data.validation_split"
            )
        body += VALIDATION_SUBSAMPLE
    if d.label_noise > 0.0:
        body += LABEL_NOISE
    if d.scale != "none":
        body += SCALE[d.scale]
    body += """
    return (
        np.ascontiguousarray(x_train, dtype=np.float32),
        np.ascontiguousarray(y_train, dtype=np.int64),
        np.ascontiguousarray(x_val, dtype=np.float32),
        np.ascontiguousarray(y_val, dtype=np.int64),
        n_classes,
    )
"""
    doc = '    """The training and validation arrays, exactly as FitGap built them."""\n'
    return "def load_data():\n" + doc + body
