"""Export as Keras script: one run written out as a standalone, plain Keras program.

The program rebuilds the data exactly as ``core.data`` does for the run's config (the
same built-in set or file, split, subsample, label noise and scaling, written out in
readable numpy, not imported from FitGap), seeds Keras, builds the same Sequential
model, and calls ``model.fit``.  Its last line of output is
``json.dumps(history.history)``, which equals the stored run's history to 1e-4: this
is the program of DESIGN.md's faithfulness contract.

Each data source is one small template function.  A setting the generator does not
know how to write out (a new source, augmentation, ...) raises ScriptExportError
instead of producing a program that would quietly train something else.
"""

from __future__ import annotations

import dataclasses
import json
import textwrap
from datetime import datetime, timezone

import numpy as np

from .config import SECTIONS, RunConfig
from .errors import FitGapError


class ScriptExportError(FitGapError):
    """A run whose settings the Keras script generator cannot write out faithfully."""


#: Settings the generated program reproduces; any other setting must be at its default.
SUPPORTED = {
    "data": {
        "source",
        "path",
        "train_fraction",
        "validation_split",
        "label_noise",
        "scale",
        "noise",
        "n_samples",
    },
    "model": {"hidden_units", "activation", "dropout", "l2", "l1"},
    "training": {"optimizer", "learning_rate", "batch_size", "epochs", "seed"},
    "early_stopping": {"enabled", "monitor", "patience", "min_delta", "restore_best_weights"},
}
#: Settings that only matter to sources the generator refuses anyway (csv, images).
IRRELEVANT = {"data": {"label_column", "image_size", "grayscale"}}

OPTIMIZER_CLASSES = {
    "adam": "Adam",
    "adamw": "AdamW",
    "sgd": "SGD",
    "rmsprop": "RMSprop",
    "nadam": "Nadam",
}


# -- data sources: each returns the body lines that define x, y (or the four arrays) -----
def _source_digits(config: RunConfig) -> str:
    return """
        from sklearn.datasets import load_digits

        digits = load_digits()  # ships with scikit-learn, nothing is downloaded
        x = digits.data.astype(np.float32)
        y = digits.target.astype(np.int64)
        n_classes = 10
    """


def _source_moons(config: RunConfig) -> str:
    return """
        from sklearn.datasets import make_moons

        x, y = make_moons(n_samples=N_SAMPLES, noise=NOISE, random_state=SEED)
        x, y = x.astype(np.float32), y.astype(np.int64)
        n_classes = 2
    """


def _source_circles(config: RunConfig) -> str:
    return """
        from sklearn.datasets import make_circles

        x, y = make_circles(n_samples=N_SAMPLES, noise=NOISE, factor=0.5, random_state=SEED)
        x, y = x.astype(np.float32), y.astype(np.int64)
        n_classes = 2
    """


def _source_spirals(config: RunConfig) -> str:
    return """
        # Two spirals, the second the first turned by half a turn, plus Gaussian noise.
        rng = np.random.default_rng(SEED)
        t = np.sqrt(rng.uniform(0.0, 1.0, N_SAMPLES)) * 3.0 * np.pi
        arm = np.column_stack([t * np.cos(t), t * np.sin(t)]) / (3.0 * np.pi)
        y = (np.arange(N_SAMPLES) >= N_SAMPLES // 2).astype(np.int64)
        x = np.where(y[:, None] == 1, -arm, arm)
        x = (x + rng.normal(scale=NOISE * 0.5, size=x.shape)).astype(np.float32)
        n_classes = 2
    """


def _source_xor(config: RunConfig) -> str:
    return """
        # Points in [-1, 1]^2; opposite quadrants share a class.
        rng = np.random.default_rng(SEED)
        x = rng.uniform(-1.0, 1.0, size=(N_SAMPLES, 2))
        y = (np.sign(x[:, 0]) != np.sign(x[:, 1])).astype(np.int64)
        x = (x + rng.normal(scale=NOISE * 0.5, size=x.shape)).astype(np.float32)
        n_classes = 2
    """


def _npz_keys(config: RunConfig) -> list[str]:
    try:
        with np.load(config.data.path, allow_pickle=False) as archive:
            return list(archive.files)
    except (OSError, ValueError) as exc:
        raise ScriptExportError(f"{config.data.path}: cannot read the run's data ({exc})") from None


def _npz_is_presplit(config: RunConfig) -> bool:
    keys = _npz_keys(config)
    return all(k in keys for k in ("x_train", "y_train", "x_val", "y_val"))


def _source_npz(config: RunConfig) -> str:
    if _npz_is_presplit(config):
        return """
            data = np.load(DATA_PATH)  # plain arrays only: allow_pickle stays False
            x_train = data["x_train"].astype(np.float32)
            x_val = data["x_val"].astype(np.float32)
            y_train = as_labels(data["y_train"])
            y_val = as_labels(data["y_val"])
            n_classes = int(max(y_train.max(), y_val.max())) + 1
        """
    return """
        data = np.load(DATA_PATH)  # plain arrays only: allow_pickle stays False
        x = data["x"].astype(np.float32)
        y = as_labels(data["y"])
    """


SOURCES = {
    "digits": _source_digits,
    "moons": _source_moons,
    "circles": _source_circles,
    "spirals": _source_spirals,
    "xor": _source_xor,
    "npz": _source_npz,
}

AS_LABELS = '''
def as_labels(y):
    """Integer class labels; one-hot rows become their class number."""
    if y.ndim == 2 and y.shape[1] > 1:
        y = y.argmax(axis=1)
    return y.astype(np.int64)
'''

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
"""

NPZ_CLASSES = """
    n_classes = int(max(y_train.max(), y_val.max())) + 1
"""

SUBSAMPLE = """
    # Keep TRAIN_FRACTION of the training rows, at least one of each class.
    rng = np.random.default_rng(SEED)
    keep = []
    for label in np.unique(y_train):
        rows = np.flatnonzero(y_train == label)
        n = max(1, int(round(len(rows) * TRAIN_FRACTION)))
        keep.append(rng.permutation(rows)[:n])
    keep = np.sort(np.concatenate(keep))
    x_train, y_train = x_train[keep], y_train[keep]
"""

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


def check_exportable(config: RunConfig) -> None:
    """Raise ScriptExportError when the generator cannot reproduce ``config`` exactly."""
    if config.data.source not in SOURCES:
        raise ScriptExportError(
            f"data.source {config.data.source!r} cannot be exported as a Keras script yet "
            f"(supported: {', '.join(SOURCES)})"
        )
    default = RunConfig()
    for section in SECTIONS:
        ours, theirs = getattr(config, section), getattr(default, section)
        for f in dataclasses.fields(ours):
            if f.name in SUPPORTED[section] or f.name in IRRELEVANT.get(section, ()):
                continue
            if getattr(ours, f.name) != getattr(theirs, f.name):
                raise ScriptExportError(
                    f"{section}.{f.name} = {getattr(ours, f.name)!r} cannot be exported as a "
                    "Keras script yet; set it back to its default to export this run"
                )


def _indent(block: str) -> str:
    return textwrap.indent(textwrap.dedent(block).strip("\n"), "    ") + "\n"


def _load_data_function(config: RunConfig) -> str:
    d = config.data
    body = _indent(SOURCES[d.source](config))
    presplit = d.source == "npz" and _npz_is_presplit(config)
    if not presplit:
        body += SPLIT
        if d.source == "npz":
            body += NPZ_CLASSES
    if d.train_fraction < 1.0:
        body += SUBSAMPLE
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


def _literal(value: object) -> str:
    """Python source for a plain value; strings in double quotes, as ruff formats them."""
    return json.dumps(value) if isinstance(value, str) else repr(value)


def _regularizer(config: RunConfig) -> str:
    m = config.model
    if m.l1 and m.l2:
        return "keras.regularizers.l1_l2(l1=L1, l2=L2)"
    if m.l2:
        return "keras.regularizers.l2(L2)"
    if m.l1:
        return "keras.regularizers.l1(L1)"
    return "None"


def _build_model_function(config: RunConfig, input_rank: int) -> str:
    m = config.model
    lines = ["        keras.Input(shape=input_shape),"]
    if input_rank > 1:
        lines.append("        keras.layers.Flatten(),")
    for units in m.hidden_units:
        args = f"{units}, activation={_literal(m.activation)}, "
        args += f"kernel_regularizer={_regularizer(config)}"
        if len(args) <= 70:
            lines.append(f"        keras.layers.Dense({args}),")
        else:  # wrapped the way ruff format would
            lines.append(f"        keras.layers.Dense(\n                {args}\n            ),")
        if m.dropout > 0:
            lines.append("        keras.layers.Dropout(DROPOUT),")
    lines.append('        keras.layers.Dense(n_classes, activation="softmax"),')
    return (
        "def build_model(input_shape, n_classes):\n"
        "    return keras.Sequential(\n        [\n"
        + "\n".join("    " + line for line in lines)
        + "\n        ]\n    )\n"
    )


def _main_function(config: RunConfig) -> str:
    t, es = config.training, config.early_stopping
    if es.enabled:
        callbacks = (
            "    callbacks = [\n"
            "        keras.callbacks.EarlyStopping(\n"
            f"            monitor={_literal(es.monitor)},\n"
            f"            patience={es.patience!r},\n"
            f"            min_delta={es.min_delta!r},\n"
            f"            restore_best_weights={es.restore_best_weights!r},\n"
            "        )\n"
            "    ]\n"
        )
    else:
        callbacks = "    callbacks = []\n"
    optimizer = OPTIMIZER_CLASSES[t.optimizer]
    return (
        "def main():\n"
        "    x_train, y_train, x_val, y_val, n_classes = load_data()\n"
        "    # The seed comes after the data and right before the model: nothing else may\n"
        "    # draw from Keras's random stream between the two.\n"
        "    keras.utils.set_random_seed(SEED)\n"
        "    model = build_model(x_train.shape[1:], n_classes)\n"
        "    model.compile(\n"
        f"        optimizer=keras.optimizers.{optimizer}(learning_rate=LEARNING_RATE),\n"
        '        loss="sparse_categorical_crossentropy",\n'
        '        metrics=["accuracy"],\n'
        "    )\n"
        f"{callbacks}"
        "    history = model.fit(\n"
        "        x_train,\n"
        "        y_train,\n"
        "        batch_size=BATCH_SIZE,\n"
        "        epochs=EPOCHS,\n"
        "        validation_data=(x_val, y_val),\n"
        "        callbacks=callbacks,\n"
        "        shuffle=True,\n"
        "        verbose=0,\n"
        "    )\n"
        "    print(json.dumps(history.history))\n"
    )


def keras_script(
    config: RunConfig,
    *,
    input_rank: int = 1,
    epochs: int | None = None,
    title: str = "a FitGap run",
    note: str | None = None,
) -> str:
    """The plain Keras program of ``config``.

    ``input_rank`` is the number of axes of one sample (2 or more adds a Flatten
    layer); ``epochs`` overrides the config's count (a run stopped by hand ran fewer).
    """
    check_exportable(config)
    d, t = config.data, config.training
    title = " ".join(title.split())  # one line, whatever the run is called
    m = config.model
    consts = [f"SEED = {t.seed!r}"]
    if d.source == "npz":
        consts.append(f"DATA_PATH = {_literal(d.path)}")
    if d.source in ("moons", "circles", "spirals", "xor"):
        consts += [f"N_SAMPLES = {d.n_samples!r}", f"NOISE = {d.noise!r}"]
    consts.append(f"VALIDATION_SPLIT = {d.validation_split!r}")
    if d.train_fraction < 1.0:
        consts.append(f"TRAIN_FRACTION = {d.train_fraction!r}")
    if d.label_noise > 0.0:
        consts.append(f"LABEL_NOISE = {d.label_noise!r}")
    consts += [
        f"{name} = {value!r}"
        for name, value in (("DROPOUT", m.dropout), ("L2", m.l2), ("L1", m.l1))
        if value
    ]
    consts += [
        f"LEARNING_RATE = {t.learning_rate!r}",
        f"BATCH_SIZE = {t.batch_size!r}",
        f"EPOCHS = {epochs if epochs is not None else t.epochs!r}",
    ]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    header = (
        f'"""{title}, as a plain Keras program (written by FitGap, {stamp}).\n\n'
        "It rebuilds the data the way FitGap did, seeds Keras, builds and trains the same\n"
        "model, and prints the training history as JSON on its last line of output; that\n"
        "history equals the run's to 1e-4.  It needs numpy, scikit-learn and Keras 3 with\n"
        'the TensorFlow backend, and nothing from FitGap.\n"""\n\n'
    )
    if note:
        header += "".join(f"# {line}\n" for line in note.splitlines()) + "\n"
    parts = [
        header,
        "import json\nimport os\n\n",
        'os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # quiet TensorFlow start-up\n\n',
        "import keras  # noqa: E402\nimport numpy as np  # noqa: E402\n\n",
        "\n".join(consts) + "\n\n\n",
    ]
    if d.source == "npz":
        parts.append(AS_LABELS.lstrip("\n") + "\n\n")
    parts += [
        _load_data_function(config),
        "\n\n",
        _build_model_function(config, input_rank),
        "\n\n",
        _main_function(config),
        '\n\nif __name__ == "__main__":\n    main()\n',
    ]
    return "".join(parts)
