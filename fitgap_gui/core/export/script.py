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
from typing import TYPE_CHECKING

from fitgap_gui.core.config.schema import SECTIONS, RunConfig
from fitgap_gui.core.export.script_data import (
    SOURCES,
    ScriptExportError,
    Source,
    comment_text,
    docstring_text,
    literal,
    load_data_function,
)

if TYPE_CHECKING:
    from fitgap_gui.core.export.script_branch import BranchPlan

__all__ = ["SOURCES", "SUPPORTED", "ScriptExportError", "check_exportable", "keras_script"]


#: Settings the generated program reproduces; any other setting must be at its default.
SUPPORTED = {
    "data": {
        "source",
        "path",
        "train_fraction",
        "validation_split",
        "validation_fraction",
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
        "batch_norm",
        "kind",
        "conv_filters",
    },
    "training": {
        "optimizer",
        "learning_rate",
        "batch_size",
        "epochs",
        "seed",
        "lr_schedule",
        "weight_decay",
    },
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


def _picture_shape(config: RunConfig, input_shape, image_shape):
    """The (height, width, channels) augmentation or a CNN works on, or None."""
    from fitgap_gui.core.model.build import (
        augmentation_enabled,
        augmentation_image_shape,
        cnn_image_shape,
    )

    m = config.model
    if not augmentation_enabled(m) and m.kind != "cnn":
        return None
    if input_shape is None:
        raise ScriptExportError("augmentation or a CNN needs the data's shape to be written out")
    shape = tuple(input_shape)
    return augmentation_image_shape(m, shape, image_shape) or cnn_image_shape(m, shape, image_shape)


def _augmentation_lines(config: RunConfig) -> list[str]:
    """model.build_model's augmentation layers, in its order (empty when it is off)."""
    m = config.model
    lines = []
    if m.augment_flip:
        lines.append('keras.layers.RandomFlip("horizontal"),')
    if m.augment_rotation:
        lines.append("keras.layers.RandomRotation(ROTATION),")
    if m.augment_translation:
        lines.append("keras.layers.RandomTranslation(TRANSLATION, TRANSLATION),")
    return lines


def _layer_call(name: str, args: list[str], indent: str = "            ") -> str:
    """``keras.layers.<name>(<args>),`` laid out the way ruff format would: on one line,
    wrapped onto a second, or one argument per line."""
    joined = ", ".join(args)
    one_line = f"keras.layers.{name}({joined}),"
    if len(indent) + len(one_line) <= 100:
        return one_line
    inner = indent + "    "
    if len(inner) + len(joined) <= 100:
        return f"keras.layers.{name}(\n{inner}{joined}\n{indent}),"
    return f"keras.layers.{name}(\n" + "".join(f"{inner}{a},\n" for a in args) + f"{indent}),"


def _block_lines(config: RunConfig, layer: str, first_args: list[str]) -> list[str]:
    """One Dense or Conv2D block: with batch_norm, BatchNormalization then the activation."""
    m = config.model
    act = literal(m.activation)
    args = [*first_args, 'padding="same"'] if layer == "Conv2D" else list(first_args)
    reg = f"kernel_regularizer={_regularizer(config)}"
    if m.batch_norm:
        return [
            _layer_call(layer, [*args, reg]),
            "keras.layers.BatchNormalization(),",
            f"keras.layers.Activation({act}),",
        ]
    return [_layer_call(layer, [*args, f"activation={act}", reg])]


def _build_model_function(config: RunConfig, input_shape, image_shape, input_rank: int) -> str:
    m = config.model
    picture = _picture_shape(config, input_shape, image_shape)
    augmentation = _augmentation_lines(config)
    lines = ["keras.Input(shape=input_shape),"]
    if picture is not None and tuple(input_shape) != picture:
        lines.append(f"keras.layers.Reshape({picture!r}),  # samples as (height, width, channels)")
    if augmentation:
        lines.append("# Augmentation: random changes to each training batch, none in validation.")
    lines += augmentation
    if m.kind == "cnn":
        lines.append("# Convolution blocks: 3x3 filters, each block halves the image.")
        for i in range(len(m.conv_filters)):
            lines += _block_lines(config, "Conv2D", [f"CONV_FILTERS[{i}]", "3"])
            lines.append("keras.layers.MaxPooling2D(2),")
    if input_rank > 1 or picture is not None:
        lines.append("keras.layers.Flatten(),")
    for units in m.hidden_units:
        lines += _block_lines(config, "Dense", [str(units)])
        if m.dropout > 0:
            lines.append("keras.layers.Dropout(DROPOUT),")
    lines.append('keras.layers.Dense(n_classes, activation="softmax"),')
    return (
        "def build_model(input_shape, n_classes):\n"
        "    return keras.Sequential(\n        [\n"
        + "\n".join("            " + line for line in lines)
        + "\n        ]\n    )\n"
    )


# -- the inference-mode measurements (core.measurements, written out) -----------------------------------
MEASUREMENTS = '''
class TrainEvalMeasurements(keras.callbacks.Callback):
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


def _schedule_lines(config: RunConfig) -> tuple[str, str]:
    """(lines that make the rate and the callbacks' first entries, the history's rate lines).

    Mirrors model.lr_schedule / model.plateau_callback, and training's learning_rate
    history entry: the rate of each epoch's last update.
    """
    t = config.training
    s = t.lr_schedule
    kind = s["kind"]
    make = ""
    if kind in ("cosine", "step"):
        make = "    steps_per_epoch = math.ceil(len(x_train) / BATCH_SIZE)  # updates per epoch\n"
    if kind == "cosine" and s["warmup_epochs"]:
        make += (
            "    # Warm-up: from 0 up to LEARNING_RATE over WARMUP_EPOCHS, then a cosine decay.\n"
            "    learning_rate = keras.optimizers.schedules.CosineDecay(\n"
            "        initial_learning_rate=0.0,\n"
            "        decay_steps=(SCHEDULE_EPOCHS - WARMUP_EPOCHS) * steps_per_epoch,\n"
            "        warmup_target=LEARNING_RATE,\n"
            "        warmup_steps=WARMUP_EPOCHS * steps_per_epoch,\n"
            "    )\n"
        )
    elif kind == "cosine":
        make += (
            "    learning_rate = keras.optimizers.schedules.CosineDecay(\n"
            "        initial_learning_rate=LEARNING_RATE,\n"
            "        decay_steps=SCHEDULE_EPOCHS * steps_per_epoch,\n"
            "    )\n"
        )
    elif kind == "step":
        make += (
            "    # The rate is multiplied by STEP_FACTOR every STEP_EPOCHS epochs.\n"
            "    learning_rate = keras.optimizers.schedules.ExponentialDecay(\n"
            "        LEARNING_RATE,\n"
            "        decay_steps=STEP_EPOCHS * steps_per_epoch,\n"
            "        decay_rate=STEP_FACTOR,\n"
            "        staircase=True,\n"
            "    )\n"
        )
    else:
        make += "    learning_rate = LEARNING_RATE\n"
    if kind in ("cosine", "step"):
        record = (
            "    # The rate of each epoch's last update, as FitGap records it.\n"
            '    history.history["learning_rate"] = [\n'
            "        float(learning_rate((epoch + 1) * steps_per_epoch - 1))\n"
            '        for epoch in range(len(history.history["loss"]))\n'
            "    ]\n"
        )
    elif kind == "constant":
        record = (
            "    # The rate every epoch used, as FitGap records it.\n"
            '    history.history["learning_rate"] = [LEARNING_RATE] * len(history.history["loss"])\n'
        )
    else:
        record = ""  # ReduceLROnPlateau logs learning_rate itself
    return make, record


def _callback_lines(config: RunConfig) -> str:
    """``callbacks = [...]``: the measurements, then ReduceLROnPlateau and EarlyStopping
    (either optional)."""
    es, s = config.early_stopping, config.training.lr_schedule
    noisy = "noisy_rows(len(y_train))" if config.data.label_noise > 0 else "None"
    measured = f"TrainEvalMeasurements(x_train, y_train, {noisy})"
    entries = [f"        {measured},  # first: the callbacks after it see its numbers\n"]
    if s["kind"] == "plateau":
        entries.append(
            "        keras.callbacks.ReduceLROnPlateau(\n"
            f"            monitor={literal(es.monitor)},\n"
            f"            factor={s['factor']!r},\n"
            f"            patience={s['patience']!r},\n"
            f"            min_delta={s['min_delta']!r},\n"
            f"            min_lr={s['min_lr']!r},\n"
            "        ),\n"
        )
    if es.enabled:
        entries.append(
            "        keras.callbacks.EarlyStopping(\n"
            f"            monitor={literal(es.monitor)},\n"
            f"            patience={es.patience!r},\n"
            f"            min_delta={es.min_delta!r},\n"
            f"            restore_best_weights={es.restore_best_weights!r},\n"
            "        ),\n"
        )
    if len(entries) == 1:
        return f"    callbacks = [{measured}]\n"
    return "    callbacks = [\n" + "".join(entries) + "    ]\n"


def compile_lines(config: RunConfig) -> str:
    """``model.compile(...)`` with the optimizer, after ``learning_rate`` is made."""
    t = config.training
    optimizer = OPTIMIZER_CLASSES[t.optimizer]
    decay = "" if t.weight_decay is None else ", weight_decay=WEIGHT_DECAY"
    return (
        "    model.compile(\n"
        f"        optimizer=keras.optimizers.{optimizer}(learning_rate=learning_rate{decay}),\n"
        '        loss="sparse_categorical_crossentropy",\n'
        "        # Keras's own cross-entropy: the loss without the weight penalty.\n"
        '        metrics=["accuracy", keras.metrics.SparseCategoricalCrossentropy(name="cross_entropy")],\n'
        "    )\n"
    )


def _main_function(config: RunConfig) -> str:
    callbacks = _callback_lines(config)
    make_rate, record_rate = _schedule_lines(config)
    return (
        "def main():\n"
        "    x_train, y_train, x_val, y_val, n_classes = load_data()\n"
        "    # The seed comes after the data and right before the model: nothing else may\n"
        "    # draw from Keras's random stream between the two.\n"
        "    keras.utils.set_random_seed(SEED)\n"
        "    model = build_model(x_train.shape[1:], n_classes)\n"
        f"{make_rate}"
        f"{compile_lines(config)}"
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
        f"{record_rate}"
        "    print(json.dumps(history.history))\n"
    )


# -- the whole program ----------------------------------------------------------------------------
def _imports(source: Source, config: RunConfig, extra: set[str] | None = None) -> str:
    """The import block, sorted as ruff's isort would: stdlib, then keras/numpy/Pillow."""
    stdlib = {"import json", "import os"} | {i for i in source.imports if "PIL" not in i}
    stdlib |= extra or set()
    if config.training.lr_schedule["kind"] in ("cosine", "step"):
        stdlib.add("import math")  # steps per epoch
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


#: What the program does, in its docstring (a branched run's says more).
_TRAINS = (
    "builds and trains the same\nmodel, and prints the training history as JSON on its last "
    "line of output; that\nhistory equals the run's to 1e-4."
)


def lever_consts(config: RunConfig, epochs: int | None = None) -> list[str]:
    """The settings a branch may change, as constants (the rest are the data's and model's)."""
    m, t = config.model, config.training
    consts = [
        f"{name} = {value!r}"
        for name, value in (("DROPOUT", m.dropout), ("L2", m.l2), ("L1", m.l1))
        if value
    ]
    schedule = t.lr_schedule
    if schedule["kind"] == "cosine":
        # The cosine spans the epochs the run was set to, also when it stopped sooner
        # (then EPOCHS, below, is the epochs it ran).
        consts.append(f"SCHEDULE_EPOCHS = {t.epochs!r}")
    if schedule["kind"] == "cosine" and schedule["warmup_epochs"]:
        consts.append(f"WARMUP_EPOCHS = {schedule['warmup_epochs']!r}")
    if schedule["kind"] == "step":
        consts += [f"STEP_EPOCHS = {schedule['every']!r}", f"STEP_FACTOR = {schedule['factor']!r}"]
    if t.weight_decay is not None:
        consts.append(f"WEIGHT_DECAY = {t.weight_decay!r}")
    return [
        *consts,
        f"LEARNING_RATE = {t.learning_rate!r}",
        f"BATCH_SIZE = {t.batch_size!r}",
        f"EPOCHS = {epochs if epochs is not None else t.epochs!r}",
    ]


def section(name: str) -> str:
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
    branch: BranchPlan | None = None,
) -> str:
    """The plain Keras program of ``config``.

    ``input_shape`` is the shape of one sample and ``image_shape`` the dataset's
    (height, width) (both from ``load_dataset``; augmentation needs them), or give
    ``input_rank`` alone, the number of axes of one sample (2 or more adds a Flatten
    layer).  ``epochs`` overrides the config's count (a run stopped by hand ran fewer).
    ``branch`` makes it the program of a branched run: the parent's first epochs, then
    the branch (``keras_script_branch``).
    """
    check_exportable(config)
    if input_rank is None:
        input_rank = len(input_shape) if input_shape is not None else 1
    extra = None
    if branch is not None:
        from fitgap_gui.core.export.script_branch import branch_parts

        check_exportable(branch.parent)
        extra = branch_parts(config, branch, input_shape, image_shape, input_rank)
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
    if d.validation_fraction < 1.0:
        consts.append(f"VALIDATION_FRACTION = {d.validation_fraction!r}")
    if d.label_noise > 0.0:
        consts.append(f"LABEL_NOISE = {d.label_noise!r}")
    consts += [
        f"{name} = {value!r}"
        for name, value in (
            ("ROTATION", m.augment_rotation),
            ("TRANSLATION", m.augment_translation),
        )
        if value
    ]
    if m.kind == "cnn":
        consts.append(f"CONV_FILTERS = {m.conv_filters!r}")
    consts += [*lever_consts(config, epochs), "TRAIN_EVAL_SAMPLES = 10000"]
    if extra is not None:
        consts += ["", *extra.consts]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = (
        f'"""{title}, as a plain Keras program (written by FitGap, {stamp}).\n\n'
        f"It rebuilds the data the way FitGap did, seeds Keras, {_TRAINS}"
        "  It needs numpy, scikit-learn"
        f"{', Pillow' if d.source == 'images' else ''} and Keras 3 with\n"
        'the TensorFlow backend, and nothing from FitGap.\n"""\n\n'
    )
    if extra is not None:
        header = header.replace(_TRAINS, extra.trains, 1)
    if note:
        header += "".join(f"# {comment_text(line)}\n" for line in note.splitlines()) + "\n"
    parts = [
        header,
        _imports(source, config, extra.imports if extra else None),
        "# The run's settings.\n" + "\n".join(consts) + "\n\n\n",
        section("data"),
    ]
    if source.helpers:
        parts.append(source.helpers.strip("\n") + "\n\n\n")
    parts += [
        load_data_function(config, source),
        "\n\n",
        section("model"),
        _build_model_function(config, input_shape, image_shape, input_rank),
        "\n\n",
        extra.model if extra else "",
        section("measurements"),
        MEASUREMENTS.lstrip("\n"),
        NOISY_ROWS if d.label_noise > 0.0 else "",
        "\n\n",
        section("training"),
        extra.training if extra else _main_function(config),
        '\n\nif __name__ == "__main__":\n    main()\n',
    ]
    return "".join(parts)
