"""Export as Keras script: one run written out as a standalone, plain Keras program.

The program rebuilds the data exactly as ``core.data`` does for the run's config
(``script_data``: a readable reader per source, then FitGap's own data steps), seeds
Keras, builds the run's layer plan and compiles its training plan (printed as Python
literals, ``core.model.build``) with the engine's own functions (``core.model.layers``,
``optimizer`` and ``measurements``, their source copied in), and calls ``model.fit``.
Its last line of output is ``json.dumps(history.history)``, which equals the stored
run's history to 1e-4: the program of docs/ARCHITECTURE.md's faithfulness contract.
Nothing in it imports FitGap.  A setting the generator does not know raises
ScriptExportError instead of producing a program that would quietly train something else.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from fitgap_gui.core.config.schema import SECTIONS, RunConfig
from fitgap_gui.core.export.script_branch import BranchPlan, branch_parts
from fitgap_gui.core.export.script_data import SOURCES, Source, data_steps, load_data_function
from fitgap_gui.core.export.script_text import (
    FIT,
    ScriptExportError,
    comment_text,
    copied,
    docstring_text,
    plan_consts,
    section,
)
from fitgap_gui.core.model import layers, measurements, optimizer
from fitgap_gui.core.model.build import augmentation_enabled

__all__ = ["SOURCES", "SUPPORTED", "ScriptExportError", "check_exportable", "keras_script"]

#: Settings the generated program reproduces; any other setting must be at its default.
SUPPORTED = {
    "data": {
        "source", "path", "train_fraction", "validation_split", "validation_fraction",
        "label_noise", "scale", "noise", "n_samples", "label_column", "image_size", "grayscale",
    },
    "model": {
        "hidden_units", "activation", "dropout", "l2", "l1", "augment_flip", "augment_rotation",
        "augment_translation", "batch_norm", "kind", "conv_filters",
    },
    "training": {
        "optimizer", "learning_rate", "batch_size", "epochs", "seed", "lr_schedule",
        "weight_decay",
    },
    "early_stopping": {"enabled", "monitor", "patience", "min_delta", "restore_best_weights"},
}  # fmt: skip

#: The engine's own code the program carries, section by section.
MODEL_CODE = (layers.kernel_regularizer, layers.make_layer, layers.build_model)
TRAINING_CODE = (
    optimizer.steps_per_epoch,
    optimizer.learning_rate_schedule,
    optimizer.compile_model,
    optimizer.training_callbacks,
    optimizer.learning_rate_log,
)
MEASUREMENT_CODE = (
    measurements.train_eval_rows,
    measurements.weight_penalty,
    measurements.widest_layer,
    measurements.chunk_rows,
    measurements.keras_scores,
    measurements.compiled_test_step,
    measurements.make_train_eval_callback,
)


def check_exportable(config: RunConfig) -> None:
    """Raise ScriptExportError when the generator cannot reproduce ``config`` exactly."""
    if config.data.source not in SOURCES:
        raise ScriptExportError(
            f"data.source {config.data.source!r} cannot be exported as a Keras script yet "
            f"(supported: {', '.join(SOURCES)})"
        )
    default = RunConfig()
    for name in SECTIONS:
        ours, theirs = getattr(config, name), getattr(default, name)
        for f in dataclasses.fields(ours):
            if f.name not in SUPPORTED[name] and getattr(ours, f.name) != getattr(theirs, f.name):
                raise ScriptExportError(
                    f"{name}.{f.name} = {getattr(ours, f.name)!r} cannot be exported as a "
                    "Keras script yet; set it back to its default to export this run"
                )


MEASURE = '''

def measure_training_set(x_train, y_train, layers):
    """The training set measured the way fit() measures validation, after each epoch
    (first among the callbacks, so the ones after it see its numbers)."""
    widest = widest_layer(layers, x_train.shape[1:])
    {flipped}
    return make_train_eval_callback(
        x_train, y_train, seed=SEED, widest_layer=widest, flipped_rows=flipped
    )
'''

MAIN = (
    """def main():
    x_train, y_train, x_val, y_val, n_classes = load_data()
    # The seed comes after the data and right before the model: nothing else may
    # draw from Keras's random stream between the two.
    keras.utils.set_random_seed(SEED)
    model = build_model(LAYERS, x_train.shape[1:], n_classes)
    steps = steps_per_epoch(len(x_train), BATCH_SIZE)
    compile_model(model, TRAINING, steps)
    callbacks = [
        measure_training_set(x_train, y_train, LAYERS),
        *training_callbacks(TRAINING),  # ReduceLROnPlateau, EarlyStopping: each when set
        learning_rate_log(TRAINING, steps),
    ]
"""
    + FIT.format(batch_size="BATCH_SIZE", epochs="EPOCHS", initial_epoch="")
    + "    print(json.dumps(history.history))\n"
)


def _imports(source: Source, extra: set[str]) -> str:
    """The import block, sorted as ruff's isort would: stdlib, then keras/numpy/Pillow."""
    stdlib = {"import json", "import math", "import os", "from typing import Any", *extra}
    stdlib |= {i for i in source.imports if "PIL" not in i}
    if not source.presplit:
        stdlib.add("import numbers")  # the split's checks of its arguments
    straight = sorted(i for i in stdlib if i.startswith("import "))
    froms = sorted(i for i in stdlib if i.startswith("from "))
    third = ["import keras  # noqa: E402", "import numpy as np  # noqa: E402"]
    third += [f"{i}  # noqa: E402" for i in source.imports if "PIL" in i]
    return (
        "\n".join(straight + froms)
        + '\n\nos.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # quiet TensorFlow start-up\n\n'
        + "\n".join(third)
        + "\n\n"
    )


#: What the program does, in its docstring (a branched run's says more).
TRAINS = (
    "builds and trains the same\nmodel, and prints the training history as JSON on its last "
    "line of output; that\nhistory equals the run's to 1e-4."
)


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
    (height, width) (both from ``load_dataset``; augmentation and a CNN need them), or
    give ``input_rank`` alone, the number of axes of one sample (2 or more adds a
    Flatten layer).  ``epochs`` overrides the config's count (a run stopped by hand ran
    fewer).  ``branch`` makes it the program of a branched run: the parent's first
    epochs, then the branch (``script_branch``).
    """
    check_exportable(config)
    if input_shape is None:
        models = [config.model] + ([branch.parent.model] if branch else [])
        if any(m.kind == "cnn" or augmentation_enabled(m) for m in models):
            raise ScriptExportError(
                "augmentation or a CNN needs the data's shape to be written out"
            )
        input_shape = (1,) * (input_rank or 1)  # only the rank matters: a Flatten or none
    d = config.data
    source = SOURCES[d.source](config)
    step_consts, step_code, step_lines = data_steps(config, source)
    extra = None
    if branch is not None:
        check_exportable(branch.parent)
        extra = branch_parts(config, branch, input_shape, image_shape)
    # One line, whatever the run is called; escaped, since the name is the user's text
    # and lands inside the docstring (a quote there must not end it).
    title = docstring_text(" ".join(title.split()))
    consts = [f"SEED = {config.training.seed!r}", *source.consts, *step_consts]
    consts += plan_consts(config, input_shape, image_shape, epochs)
    consts += [
        f"TRAIN_EVAL_SAMPLES = {measurements.TRAIN_EVAL_SAMPLES!r}",
        f"CHUNK_FLOATS = {measurements.CHUNK_FLOATS!r}",
    ]
    if extra is not None:
        consts += ["", *extra.consts]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = (
        f'"""{title}, as a plain Keras program (written by FitGap, {stamp}).\n\n'
        f"It rebuilds the data the way FitGap did, seeds Keras, {extra.trains if extra else TRAINS}"
        "  It needs numpy, scikit-learn"
        f"{', Pillow' if d.source == 'images' else ''} and Keras 3 with\n"
        'the TensorFlow backend, and nothing from FitGap.\n"""\n\n'
    )
    if note:
        header += "".join(f"# {comment_text(line)}\n" for line in note.splitlines()) + "\n"
    flipped = "flipped = None"
    if d.label_noise > 0.0:
        flipped = "flipped = label_noise_rows(len(y_train), LABEL_NOISE, SEED)[1]"
    parts = [
        header,
        _imports(source, extra.imports if extra else set()),
        "# The run's settings.\n" + "\n".join(consts) + "\n\n\n",
        section("data"),
        *(f"{code.strip(chr(10))}\n\n\n" for code in (source.helpers, step_code) if code),
        load_data_function(config, source, step_lines),
        "\n\n",
        section("model"),
        copied(*MODEL_CODE),
        "\n\n",
        section("training"),
        copied(*TRAINING_CODE),
        "\n\n",
        section("measurements"),
        copied(*MEASUREMENT_CODE),
        MEASURE.replace("{flipped}", flipped),
        "\n\n",
        section("the run"),
        extra.training if extra else MAIN,
        '\n\nif __name__ == "__main__":\n    main()\n',
    ]
    return "".join(parts)
