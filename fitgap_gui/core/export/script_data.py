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
import inspect
import textwrap
from pathlib import Path

import numpy as np

from fitgap_gui.core.config.schema import KERAS_CACHE_SOURCES, RunConfig
from fitgap_gui.core.data import splits, steps
from fitgap_gui.core.data.readers import csvfile
from fitgap_gui.core.data.readers.imagefolder import FORMATS, IMAGE_SUFFIXES
from fitgap_gui.core.data.readers.keras_cache import ArrayUnpickler
from fitgap_gui.core.data.readers.npzfile import VAL_ALIASES
from fitgap_gui.core.export.script_text import ScriptExportError, comment_text, copied, literal


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
TOYS = {
    "digits": """
        from sklearn.datasets import load_digits

        digits = load_digits()  # ships with scikit-learn, nothing is downloaded
        x, y = digits.data.astype(np.float32), digits.target.astype(np.int64)
    """,
    "moons": """
        from sklearn.datasets import make_moons

        x, y = make_moons(n_samples=N_SAMPLES, noise=NOISE, random_state=SEED)
    """,
    "circles": """
        from sklearn.datasets import make_circles

        x, y = make_circles(n_samples=N_SAMPLES, noise=NOISE, factor=0.5, random_state=SEED)
    """,
    "spirals": """
        # Two spirals, the second the first turned by half a turn, plus Gaussian noise.
        rng = np.random.default_rng(SEED)
        t = np.sqrt(rng.uniform(0.0, 1.0, N_SAMPLES)) * 3.0 * np.pi
        arm = np.column_stack([t * np.cos(t), t * np.sin(t)]) / (3.0 * np.pi)
        y = (np.arange(N_SAMPLES) >= N_SAMPLES // 2).astype(np.int64)
        x = np.where(y[:, None] == 1, -arm, arm)
        x = x + rng.normal(scale=NOISE * 0.5, size=x.shape)
    """,
    "xor": """
        # Points in [-1, 1]^2; opposite quadrants share a class.
        rng = np.random.default_rng(SEED)
        x = rng.uniform(-1.0, 1.0, size=(N_SAMPLES, 2))
        y = (np.sign(x[:, 0]) != np.sign(x[:, 1])).astype(np.int64)
        x = x + rng.normal(scale=NOISE * 0.5, size=x.shape)
    """,
}


def _source_toy(config: RunConfig) -> Source:
    d, body = config.data, textwrap.dedent(TOYS[config.data.source]).strip("\n") + "\n"
    if d.source == "digits":
        return Source(body + "n_classes = 10\n")
    body += "x, y = x.astype(np.float32), y.astype(np.int64)\nn_classes = 2\n"
    return Source(body, [f"N_SAMPLES = {d.n_samples!r}", f"NOISE = {d.noise!r}"])


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
    d = config.data
    consts = [
        _data_path(config),
        f"IMAGE_SIZE = {tuple(d.image_size)!r}  # (height, width)",
        f"GRAYSCALE = {d.grayscale!r}",
        f"IMAGE_SUFFIXES = {literal(tuple(IMAGE_SUFFIXES))}",
        f"IMAGE_FORMATS = {literal(list(FORMATS))}",
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
        x, y, n_classes = np.stack(images), np.array(labels, dtype=np.int64), len(folders)
    """
    imports = ["import warnings", "from pathlib import Path", "from PIL import Image"]
    return Source(body, consts, IMAGE_HELPERS, imports)


# -- Keras's dataset cache -------------------------------------------------------------------------
KERAS_CACHE_READ = {
    "mnist": """
        with np.load(datasets / "mnist.npz") as data:  # allow_pickle stays False
            x_train, y_train = data["x_train"], data["y_train"]
            x_val, y_val = data["x_test"], data["y_test"]
    """,
    "fashion_mnist": """
        def read_idx(name, offset):  # the bytes of a gzipped IDX file after its header
            with gzip.open(datasets / "fashion-mnist" / name, "rb") as f:
                return np.frombuffer(f.read(), np.uint8, offset=offset)

        y_train = read_idx("train-labels-idx1-ubyte.gz", 8)
        x_train = read_idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
        y_val = read_idx("t10k-labels-idx1-ubyte.gz", 8)
        x_val = read_idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
    """,
    "cifar10": """
        folder = datasets / "cifar-10-batches-py"
        if not folder.is_dir():  # Keras 3 extracts one folder deeper
            folder = datasets / "cifar-10-batches-py-target" / "cifar-10-batches-py"

        def read_batch(name):  # images as (n, 32, 32, 3) pixels, and their labels
            batch = ArrayUnpickler(io.BytesIO((folder / name).read_bytes()), encoding="bytes")
            batch = batch.load()
            images = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
            return images.transpose(0, 2, 3, 1), np.asarray(batch[b"labels"], dtype=np.int64)

        batches = [read_batch(f"data_batch_{i}") for i in range(1, 6)]
        x_train = np.concatenate([images for images, _ in batches])
        y_train = np.concatenate([labels for _, labels in batches])
        x_val, y_val = read_batch("test_batch")
    """,
}


def _source_keras_cache(config: RunConfig) -> Source:
    name = config.data.source
    body = (
        f"# Keras's own dataset cache, where keras.datasets.{name}.load_data() saves it;\n"
        "# read here, never downloaded.  Its training part trains, its test part validates.\n"
        'keras_home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")\n'
        'datasets = Path(keras_home) / "datasets"\n'
        + textwrap.dedent(KERAS_CACHE_READ[name])
        + "x_train, x_val = x_train.astype(np.float32), x_val.astype(np.float32)\n"
        "y_train = np.asarray(y_train, dtype=np.int64).reshape(-1)\n"
        "y_val = np.asarray(y_val, dtype=np.int64).reshape(-1)\n"
        "n_classes = 10\n"
    )
    helpers, imports = "", ["from pathlib import Path"]
    if name == "fashion_mnist":
        imports.append("import gzip")
    if name == "cifar10":  # FitGap's own unpickler: arrays, dicts and lists, nothing else
        helpers, imports = copied(ArrayUnpickler), [*imports, "import io", "import pickle"]
    return Source(body, [], helpers, imports, presplit=True)


SOURCES = {
    **{name: _source_toy for name in TOYS},
    "npz": _source_npz,
    "csv": _source_csv,
    "images": _source_images,
    **{name: _source_keras_cache for name in KERAS_CACHE_SOURCES},
}


# -- the steps every source shares (core.data.steps, carried whole) -------------------------------
#: ``core.data.splits``' functions (``split_rows`` and its helpers), in their order.
SPLIT_ROWS = [
    f for f in vars(splits).values() if inspect.isfunction(f) and f.__module__ == splits.__name__
]


def data_steps(config: RunConfig, source: Source) -> tuple[list[str], str, str]:
    """(the constants, the functions the program carries, the lines of ``load_data``)."""
    d, consts, used, lines = config.data, [], [], []
    if not source.presplit:
        consts.append(f"VALIDATION_SPLIT = {d.validation_split!r}")
        used += [steps.can_stratify, *SPLIT_ROWS, steps.split_data]
        lines.append(
            "(x_train, x_val, y_train, y_val), _ = split_data(x, y, VALIDATION_SPLIT, SEED)"
        )
        if d.source == "npz":
            lines.append("n_classes = int(max(y_train.max(), y_val.max())) + 1")
    if d.train_fraction < 1.0:
        consts.append(f"TRAIN_FRACTION = {d.train_fraction!r}")
        used.append(steps.subsample)
        lines.append("x_train, y_train = subsample(x_train, y_train, TRAIN_FRACTION, SEED)")
    if d.validation_fraction < 1.0:
        if not source.presplit:  # load_dataset refuses it too: nothing to subsample
            raise ScriptExportError(
                "data.validation_fraction needs data with its own validation set "
                "(x_val/y_val); this data is split by data.validation_split"
            )
        consts.append(f"VALIDATION_FRACTION = {d.validation_fraction!r}")
        used += [] if steps.subsample in used else [steps.subsample]
        lines.append("# The data's own validation rows, from a stream of their own.")
        lines.append(
            "x_val, y_val = subsample(\n"
            f"    x_val, y_val, VALIDATION_FRACTION, SEED + {steps.VALIDATION_SEED_OFFSET!r}\n)"
        )
    if d.label_noise > 0.0:
        consts.append(f"LABEL_NOISE = {d.label_noise!r}")
        used += [steps.label_noise_rows, steps.flip_labels]
        lines.append("y_train = flip_labels(y_train, LABEL_NOISE, n_classes, SEED)")
    if d.scale != "none":
        consts.append(f"SCALE = {literal(d.scale)}")
        used.append(steps.scale)
        lines.append("x_train, x_val = scale(x_train, x_val, SCALE)")
    return consts, copied(*used) if used else "", "\n".join(lines) + "\n"


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
