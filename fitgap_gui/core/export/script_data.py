"""The "data" section of an exported Keras script: one reader per source, then the steps.

The program reads the run's data with the engine's own plain functions, carried by their
source (``core.data.readers``, ``core.data.tableprep``: the drawn sets, NPZ labels, the
image decoder, the Keras-cache readers, a table's pandas reading and scikit-learn
preparation), then splits and prepares it with ``core.data.steps``.  Its arrays equal
``load_dataset(cfg, seed)``'s bit for bit, the test part included (tests/core/export/).
"""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import numpy as np

from fitgap_gui.core.config.schema import KERAS_CACHE_SOURCES, RunConfig
from fitgap_gui.core.data import sklearn_sets, splits, steps, tableprep, toys
from fitgap_gui.core.data.datasets import data_steps
from fitgap_gui.core.data.readers import imagefolder, keras_cache, npzfile
from fitgap_gui.core.data.readers.npzfile import NPZ_NO_TEST, TEST_KEYS, VAL_KEYS
from fitgap_gui.core.data.readers.tablefile import read_table
from fitgap_gui.core.export.script_text import (
    ScriptExportError,
    carried,
    comment_text,
    copied,
    literal,
)

#: The data settings the sources and steps below write out.
DATA_KEYS = {
    "source", "path", "train_fraction", "test_split", "validation_split", "validation_fraction",
    "label_noise", "scale", "noise", "n_samples", "label_column", "image_size", "grayscale",
    "sheet", "missing", "max_categories",
}  # fmt: skip
#: The plan keys of a table the program needs (``tablefile.read_table``'s plan).
TABLE_PLAN_KEYS = ("label", "label_numeric", "numbers", "booleans", "categories", "missing")


@dataclasses.dataclass
class Source:
    """``body`` makes ``x, y, n_classes`` (``presplit``: ``x_train, y_train, x_val, y_val``;
    ``own_test``: also ``x_test, y_test``), with the ``consts``, ``helpers`` and ``imports``
    it uses; ``no_test``: why a pre-split source has no test part."""

    body: str
    consts: list[str] = dataclasses.field(default_factory=list)
    helpers: str = ""
    imports: list[str] = dataclasses.field(default_factory=list)
    presplit: bool = False
    own_test: bool = False
    no_test: str = ""
    #: A table: ``x`` holds row numbers, ``features`` the typed columns (``tableprep``).
    table: bool = False


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
def _source_npz(config: RunConfig) -> Source:
    try:
        with np.load(Path(str(config.data.path)).expanduser(), allow_pickle=False) as archive:
            has = set(archive.files)
    except (OSError, ValueError) as exc:
        raise ScriptExportError(f"{config.data.path}: cannot read the run's data ({exc})") from None
    presplit = {"x_train", "y_train", *VAL_KEYS} <= has
    own_test = {"x_train", "y_train", *TEST_KEYS} <= has
    parts = [("x_train, y_train" if presplit else "x, y", "train" if presplit or own_test else "")]
    parts += [("x_val, y_val", "val")] if presplit else []
    parts += [("x_test, y_test", "test")] if own_test else []  # the test part: the NPZ's own
    body = "data = np.load(DATA_PATH)  # plain arrays only: allow_pickle stays False\n"
    for names, part in parts:
        x, y = (f"{v}_{part}" if part else v for v in "xy")
        body += f'{names} = data["{x}"].astype(np.float32), as_labels(data["{y}"])\n'
    ys = ", ".join(names.split(", ")[1] for names, _ in parts)
    body += f"n_classes = int(max(labels.max() for labels in ({ys},))) + 1\n"
    helpers = copied(npzfile.as_labels)
    return Source(body, [_data_path(config)], helpers, [], presplit, own_test, NPZ_NO_TEST)


# -- table files: pandas reads, scikit-learn prepares (the engine's own functions) -------------
def _source_table(config: RunConfig) -> Source:
    """How FitGap read the table (pandas' options) and typed its columns (the plan:
    the label, the numbers, the 0/1 and the category columns) are read here; the
    reading, typing and preparation are ``core.data.tableprep``'s own functions."""
    d = config.data
    raw = read_table(
        Path(str(d.path)).expanduser(),
        d.label_column,
        sheet=d.sheet,
        missing=d.missing,
        max_categories=d.max_categories,
    )
    plan = {key: raw.table.plan[key] for key in TABLE_PLAN_KEYS}
    consts = [
        _data_path(config),
        f"READ_OPTIONS = {literal(raw.table.options, room=0)}",
        f"TABLE_PLAN = {literal(plan, room=0)}",
        f"CLASS_NAMES = {literal(raw.class_names, room=0)}",
    ]
    body = """
        # The table as FitGap read it (pandas), typed by FitGap's plan: rows without a
        # label dropped, the numbers, 0/1 and category columns (each category as the
        # number of its value in sorted order) in one float32 array.  The splits draw
        # row numbers; the imputation, one-hot encoding and scaling are fitted on the
        # training rows after them (prepare_table).
        frame = clean_table(read_table_file(DATA_PATH, READ_OPTIONS))
        features, y, class_names, _, _ = table_rows(frame, TABLE_PLAN)
        assert class_names == CLASS_NAMES, "the file changed since the run"
        n_classes = len(class_names)
        x = np.arange(len(y)).reshape(-1, 1)  # row numbers
    """
    return Source(body, consts, carried(tableprep), table=True)


# -- image folder: FitGap's own decoder ------------------------------------------------------------
READ_FOLDER = '''
def read_folder(folder, class_names):
    """One subfolder per class (of ``class_names``), read as FitGap read it."""
    entries = [(class_names.index(n), image_files(folder / n)) for n in class_folder_names(folder)]
    return read_images(folder, entries, IMAGE_SIZE, GRAYSCALE, [])
'''


def _source_images(config: RunConfig) -> Source:
    d = config.data
    consts = [
        _data_path(config),
        f"IMAGE_SIZE = {tuple(d.image_size)!r}  # (height, width)",
        f"GRAYSCALE = {d.grayscale!r}",
        f"IMAGE_SUFFIXES = {literal(tuple(imagefolder.IMAGE_SUFFIXES))}",
        f"FORMATS = {literal(tuple(imagefolder.FORMATS))}  # the only ones decoded",
    ]
    root = Path(str(d.path)).expanduser()
    try:
        folders = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    except OSError as exc:
        raise ScriptExportError(f"{d.path}: cannot read the run's data ({exc})") from None
    parts = imagefolder.part_folders(folders)
    helpers = copied(
        imagefolder.read_image, imagefolder.class_folder_names, imagefolder.image_files,
        imagefolder.read_images,
    ) + READ_FOLDER  # fmt: skip
    imports = ["import stat", "import warnings", "from pathlib import Path"]
    if parts is None:
        body = (
            "root = Path(DATA_PATH)\n"
            "class_names = class_folder_names(root)\n"
            "x, y = read_folder(root, class_names)\n"
            "n_classes = len(class_names)\n"
        )
        return Source(body, consts, helpers, imports)
    presplit, own_test = "val" in parts, "test" in parts
    train = "x_train, y_train" if presplit else "x, y"
    body = (
        "# The folder brings its own parts: train/, val/ and/or test/, one subfolder per\n"
        "# class in each (the classes named by train/).\n"
        "root = Path(DATA_PATH)\n"
        f"class_names = class_folder_names(root / {literal(parts['train'].name)})\n"
        f"{train} = read_folder(root / {literal(parts['train'].name)}, class_names)\n"
    )
    for part in ("val", "test"):  # the test part: the test/ folder
        if part in parts:
            where = literal(parts[part].name)
            body += f"x_{part}, y_{part} = read_folder(root / {where}, class_names)\n"
    body += "n_classes = len(class_names)\n"
    return Source(body, consts, helpers, imports, presplit, own_test, imagefolder.FOLDER_NO_TEST)


# -- Keras's dataset cache: FitGap's own readers of it ---------------------------------------------
def _source_keras_cache(config: RunConfig) -> Source:
    name, c = config.data.source, keras_cache
    body = (
        f"# Keras's own dataset cache, where keras.datasets.{name}.load_data() saves it;\n"
        "# read here, never downloaded.  Its official test set is the test part; validation\n"
        "# is split from its training part.\n"
        f"folder, files = cache_files({literal(name)}, datasets_dir())\n"
        f"x, y, x_test, y_test = cached_arrays({literal(name)}, folder, files)\n"
        "n_classes = 10\n"
    )
    readers = copied(
        c.datasets_dir, c.cifar_dir, c.cache_files, c.read_idx, c.ArrayUnpickler,
        c.read_cifar_batch, c.cached_arrays,
    )  # fmt: skip
    consts = [f"{k} = {literal(getattr(c, k))}" for k in ("FASHION_FILES", "CIFAR10_FILES")]
    imports = ["import gzip", "import io", "import pickle", "from pathlib import Path"]
    return Source(body, consts, readers, imports, own_test=True)


SOURCES = {
    **{name: _source_builtin for name in ("digits", *toys.TOYS)},
    "npz": _source_npz,
    "csv": _source_table,
    "images": _source_images,
    **{name: _source_keras_cache for name in KERAS_CACHE_SOURCES},
}


# -- the split and the steps after it: the engine's own -------------------------------------------
def data_section(config: RunConfig, source: Source) -> tuple[list[str], str]:
    """(the constants, the code: the source's helpers, the steps and ``load_data()``, which
    returns ``x_train, y_train, x_val, y_val``, then ``x_test, y_test`` if any, ``n_classes``)."""
    d = config.data
    if d.validation_fraction < 1.0 and not source.presplit and not source.own_test:
        raise ScriptExportError(  # load_dataset refuses it too
            "data.validation_fraction needs data with its own validation set "
            "(x_val/y_val); this data is split by data.validation_split"
        )
    consts = [f"DATA_STEPS = {literal(data_steps(d), room=0)}"]
    body = textwrap.dedent(source.body).strip("\n") + "\n"
    # The source's own test part (data.test_split unused), one drawn first, or none.
    has_test = source.own_test or (not source.presplit and d.test_split > 0)
    if has_test and not source.own_test:
        consts.insert(0, f"TEST_SPLIT = {d.test_split!r}")
        body += "x, y, x_test, y_test = split_test(x, y, TEST_SPLIT, SEED)  # the test part first\n"
    elif not has_test:
        why = source.no_test if source.presplit else "data.test_split is 0: no test part"
        body += f"x_test = y_test = None  # {comment_text(why)}\n"
    if not source.presplit:
        consts.insert(0, f"VALIDATION_SPLIT = {d.validation_split!r}")
        body += "(x_train, x_val, y_train, y_val), _ = split_data(x, y, VALIDATION_SPLIT, SEED)\n"
    if source.table:  # x holds row numbers: the preparation is fitted on the training rows
        body += (
            "rows_test = None if x_test is None else x_test[:, 0]\n"
            "parts = (x_train[:, 0], y_train, x_val[:, 0], y_val, rows_test, y_test)\n"
        )
    call = (
        "prepare_table(\n    features, parts, n_classes, DATA_STEPS, SEED, TABLE_PLAN\n)\n"
        if source.table
        else "prepare(\n    x_train, y_train, x_val, y_val, n_classes, DATA_STEPS, SEED, "
        "x_test, y_test\n)\n"
    )
    body += "x_train, y_train, x_val, y_val, x_test, y_test, _flipped = " + call
    test = "x_test, y_test, " if has_test else ""
    body += f"return x_train, y_train, x_val, y_val, {test}n_classes\n"
    doc = '"""The data\'s parts and its number of classes, exactly as FitGap built them."""\n'
    load_data = "def load_data():\n" + textwrap.indent(
        doc + body, "    ", lambda s: bool(s.strip())
    )
    code = [source.helpers, carried(splits), carried(steps), load_data]
    return consts, "\n\n\n".join(c.strip("\n") for c in code if c) + "\n"
