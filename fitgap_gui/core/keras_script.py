"""Export as Keras script: one run written out as a standalone, plain Keras program.

The program rebuilds the data exactly as ``core.data`` does for the run's config (the
same built-in set, file, image folder or Keras cache file, split, subsample, label
noise and scaling, written out in readable numpy/csv/Pillow code, not imported from
FitGap), seeds Keras, builds the same Sequential model (augmentation layers
included), and calls ``model.fit``.  Its last line of output is
``json.dumps(history.history)``, which equals the stored run's history to 1e-4: this
is the program of docs/ARCHITECTURE.md's faithfulness contract.

The "data" section (one template per source) lives in ``keras_script_data``; the
model, the training call and the assembly of the program live here.  A setting the
generator does not know how to write out raises ScriptExportError instead of
producing a program that would quietly train something else.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from .config import SECTIONS, RunConfig
from .keras_script_data import (
    SOURCES,
    ScriptExportError,
    Source,
    comment_text,
    docstring_text,
    literal,
    load_data_function,
)

__all__ = ["SOURCES", "SUPPORTED", "ScriptExportError", "check_exportable", "keras_script"]


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
        "label_column",
        "image_size",
        "grayscale",
    },
    "model": {
        "hidden_units",
        "activation",
        "dropout",
        "l2",
        "l1",
        "augment_flip",
        "augment_rotation",
        "augment_translation",
    },
    "training": {"optimizer", "learning_rate", "batch_size", "epochs", "seed"},
    "early_stopping": {"enabled", "monitor", "patience", "min_delta", "restore_best_weights"},
}

OPTIMIZER_CLASSES = {
    "adam": "Adam",
    "adamw": "AdamW",
    "sgd": "SGD",
    "rmsprop": "RMSprop",
    "nadam": "Nadam",
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
            if f.name in SUPPORTED[section]:
                continue
            if getattr(ours, f.name) != getattr(theirs, f.name):
                raise ScriptExportError(
                    f"{section}.{f.name} = {getattr(ours, f.name)!r} cannot be exported as a "
                    "Keras script yet; set it back to its default to export this run"
                )


# -- model and training --------------------------------------------------------------------------
def _regularizer(config: RunConfig) -> str:
    m = config.model
    if m.l1 and m.l2:
        return "keras.regularizers.l1_l2(l1=L1, l2=L2)"
    if m.l2:
        return "keras.regularizers.l2(L2)"
    if m.l1:
        return "keras.regularizers.l1(L1)"
    return "None"


def _augmentation_lines(config: RunConfig, input_shape, image_shape) -> list[str]:
    """model.build_model's augmentation layers, in its order (empty when it is off)."""
    from .model import augmentation_enabled, augmentation_image_shape

    m = config.model
    if not augmentation_enabled(m):
        return []
    if input_shape is None:
        raise ScriptExportError("augmentation needs the data's shape to be written out")
    aug_shape = augmentation_image_shape(m, tuple(input_shape), image_shape)
    lines = []
    if tuple(input_shape) != aug_shape:
        lines.append(
            f"keras.layers.Reshape({aug_shape!r}),  # samples as (height, width, channels)"
        )
    if m.augment_flip:
        lines.append('keras.layers.RandomFlip("horizontal"),')
    if m.augment_rotation:
        lines.append("keras.layers.RandomRotation(ROTATION),")
    if m.augment_translation:
        lines.append("keras.layers.RandomTranslation(TRANSLATION, TRANSLATION),")
    return lines


def _build_model_function(config: RunConfig, input_shape, image_shape, input_rank: int) -> str:
    m = config.model
    augmentation = _augmentation_lines(config, input_shape, image_shape)
    lines = ["keras.Input(shape=input_shape),"]
    if augmentation:
        lines.append("# Augmentation: random changes to each training batch, none in validation.")
    lines += augmentation
    if input_rank > 1 or augmentation:
        lines.append("keras.layers.Flatten(),")
    for units in m.hidden_units:
        args = f"{units}, activation={literal(m.activation)}, "
        args += f"kernel_regularizer={_regularizer(config)}"
        if len(args) <= 70:
            lines.append(f"keras.layers.Dense({args}),")
        else:  # wrapped the way ruff format would
            lines.append(f"keras.layers.Dense(\n                {args}\n            ),")
        if m.dropout > 0:
            lines.append("keras.layers.Dropout(DROPOUT),")
    lines.append('keras.layers.Dense(n_classes, activation="softmax"),')
    return (
        "def build_model(input_shape, n_classes):\n"
        "    return keras.Sequential(\n        [\n"
        + "\n".join("            " + line for line in lines)
        + "\n        ]\n    )\n"
    )


# -- the honest measurements (core.measurements, written out) -----------------------------------
MEASUREMENTS = '''
class HonestMeasurements(keras.callbacks.Callback):
    """After each epoch, measure the training set the way fit() measures validation.

    Adds to the epoch's logs: train_eval_cross_entropy and train_eval_accuracy
    (inference mode, end-of-epoch weights, at most TRAIN_EVAL_SAMPLES rows drawn once
    from their own generator), penalty (the weight penalty, sum of model.losses) and,
    with label noise, memorized_noise (the share of wrongly labelled training rows
    the network now predicts with their wrong label).  Inference draws no random
    numbers, so Keras's own history is unchanged.
    """

    def __init__(self, x_train, y_train, noisy_rows=None):
        super().__init__()
        rows = np.arange(len(x_train))
        if len(x_train) > TRAIN_EVAL_SAMPLES:
            rng = np.random.default_rng(SEED)
            rows = np.sort(rng.choice(len(x_train), size=TRAIN_EVAL_SAMPLES, replace=False))
        self.x, self.y = x_train[rows], y_train[rows]
        self.noisy = None
        if noisy_rows is not None:
            noisy = np.intersect1d(rows, noisy_rows)
            self.noisy = (x_train[noisy], y_train[noisy])

    def on_epoch_end(self, epoch, logs=None):
        scores = self.model.evaluate(
            self.x, self.y, batch_size=BATCH_SIZE, verbose=0, return_dict=True
        )
        logs["train_eval_cross_entropy"] = float(scores["cross_entropy"])
        logs["train_eval_accuracy"] = float(scores["accuracy"])
        penalties = [float(keras.ops.convert_to_numpy(loss)) for loss in self.model.losses]
        logs["penalty"] = float(sum(penalties))
        if self.noisy is not None:
            x_noisy, y_noisy = self.noisy
            probs = self.model.predict(x_noisy, batch_size=BATCH_SIZE, verbose=0)
            logs["memorized_noise"] = float(np.mean(probs.argmax(axis=1) == y_noisy))
'''

NOISY_ROWS = '''

def noisy_rows(n_train):
    """The training rows load_data() gave a wrong label: the same draw again."""
    rng = np.random.default_rng(SEED + 7919)
    return rng.choice(n_train, size=int(round(n_train * LABEL_NOISE)), replace=False)
'''


def _main_function(config: RunConfig) -> str:
    t, es = config.training, config.early_stopping
    noisy = "noisy_rows(len(y_train))" if config.data.label_noise > 0 else "None"
    honest = f"HonestMeasurements(x_train, y_train, {noisy})"
    if es.enabled:
        callbacks = (
            "    callbacks = [\n"
            f"        {honest},  # first: the callbacks after it see its numbers\n"
            "        keras.callbacks.EarlyStopping(\n"
            f"            monitor={literal(es.monitor)},\n"
            f"            patience={es.patience!r},\n"
            f"            min_delta={es.min_delta!r},\n"
            f"            restore_best_weights={es.restore_best_weights!r},\n"
            "        ),\n"
            "    ]\n"
        )
    else:
        callbacks = f"    callbacks = [{honest}]\n"
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
        "        # Keras's own cross-entropy: the loss without the weight penalty.\n"
        '        metrics=["accuracy", keras.metrics.SparseCategoricalCrossentropy(name="cross_entropy")],\n'
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


# -- the whole program ----------------------------------------------------------------------------
def _imports(source: Source) -> str:
    """The import block, sorted as ruff's isort would: stdlib, then keras/numpy/Pillow."""
    stdlib = {"import json", "import os"} | {i for i in source.imports if "PIL" not in i}
    straight = sorted(i for i in stdlib if i.startswith("import "))
    froms = sorted(i for i in stdlib if i.startswith("from "))
    third = ["import keras  # noqa: E402", "import numpy as np  # noqa: E402"]
    third += [f"{i}  # noqa: E402" for i in source.imports if "PIL" in i]
    return (
        "\n".join(straight + froms)
        + "\n\n"
        + 'os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # quiet TensorFlow start-up\n\n'
        + "\n".join(third)
        + "\n\n"
    )


def _section(name: str) -> str:
    return f"# -- {name} " + "-" * (86 - len(name)) + "\n\n\n"


def keras_script(
    config: RunConfig,
    *,
    input_rank: int | None = None,
    input_shape: tuple[int, ...] | None = None,
    image_shape: tuple[int, ...] | None = None,
    epochs: int | None = None,
    title: str = "a FitGap run",
    note: str | None = None,
) -> str:
    """The plain Keras program of ``config``.

    ``input_shape`` is the shape of one sample and ``image_shape`` the dataset's
    (height, width) (both from ``load_dataset``; augmentation needs them), or give
    ``input_rank`` alone, the number of axes of one sample (2 or more adds a Flatten
    layer).  ``epochs`` overrides the config's count (a run stopped by hand ran fewer).
    """
    check_exportable(config)
    if input_rank is None:
        input_rank = len(input_shape) if input_shape is not None else 1
    d, t, m = config.data, config.training, config.model
    source = SOURCES[d.source](config)
    # One line, whatever the run is called; escaped, since the name is the user's text
    # and lands inside the docstring (a quote there must not end it).
    title = docstring_text(" ".join(title.split()))
    consts = [f"SEED = {t.seed!r}", *source.consts]
    if not source.presplit:
        consts.append(f"VALIDATION_SPLIT = {d.validation_split!r}")
    if d.train_fraction < 1.0:
        consts.append(f"TRAIN_FRACTION = {d.train_fraction!r}")
    if d.label_noise > 0.0:
        consts.append(f"LABEL_NOISE = {d.label_noise!r}")
    consts += [
        f"{name} = {value!r}"
        for name, value in (
            ("ROTATION", m.augment_rotation),
            ("TRANSLATION", m.augment_translation),
            ("DROPOUT", m.dropout),
            ("L2", m.l2),
            ("L1", m.l1),
        )
        if value
    ]
    consts += [
        f"LEARNING_RATE = {t.learning_rate!r}",
        f"BATCH_SIZE = {t.batch_size!r}",
        f"EPOCHS = {epochs if epochs is not None else t.epochs!r}",
        "TRAIN_EVAL_SAMPLES = 10000",
    ]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = (
        f'"""{title}, as a plain Keras program (written by FitGap, {stamp}).\n\n'
        "It rebuilds the data the way FitGap did, seeds Keras, builds and trains the same\n"
        "model, and prints the training history as JSON on its last line of output; that\n"
        "history equals the run's to 1e-4.  It needs numpy, scikit-learn"
        f"{', Pillow' if d.source == 'images' else ''} and Keras 3 with\n"
        'the TensorFlow backend, and nothing from FitGap.\n"""\n\n'
    )
    if note:
        header += "".join(f"# {comment_text(line)}\n" for line in note.splitlines()) + "\n"
    parts = [
        header,
        _imports(source),
        "# The run's settings.\n" + "\n".join(consts) + "\n\n\n",
        _section("data"),
    ]
    if source.helpers:
        parts.append(source.helpers.strip("\n") + "\n\n\n")
    parts += [
        load_data_function(config, source),
        "\n\n",
        _section("model"),
        _build_model_function(config, input_shape, image_shape, input_rank),
        "\n\n",
        _section("measurements"),
        MEASUREMENTS.lstrip("\n"),
        NOISY_ROWS if d.label_noise > 0.0 else "",
        "\n\n",
        _section("training"),
        _main_function(config),
        '\n\nif __name__ == "__main__":\n    main()\n',
    ]
    return "".join(parts)
