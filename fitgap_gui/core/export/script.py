"""Export as Keras script: one run written out as a standalone, plain Keras program.

The program rebuilds the data as ``core.data`` does (``script_data``), seeds Keras,
builds the run's layer plan and compiles its training plan (``core.model.build``,
printed as Python literals) with the engine's own code (``core.model.layers``,
``optimizer`` and ``measurements``, carried whole), and calls ``model.fit``; a branched
run's program trains its parent first (``script_branch``).  Its last line of output is
``json.dumps(history.history)``, the stored run's history to 1e-4: the program of
docs/ARCHITECTURE.md's faithfulness contract.  Nothing in it imports FitGap.  A setting
the generator does not know raises ScriptExportError rather than being dropped.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from fitgap_gui.core.config.schema import SECTIONS, RunConfig
from fitgap_gui.core.export import script_branch
from fitgap_gui.core.export.script_branch import BranchPlan
from fitgap_gui.core.export.script_data import DATA_KEYS, SOURCES, data_section
from fitgap_gui.core.export.script_text import (
    FIT,
    JUDGE,
    ScriptExportError,
    carried,
    comment_text,
    docstring_text,
    plan_consts,
)
from fitgap_gui.core.model import layers, measurements, optimizer
from fitgap_gui.core.model.build import PLAN_KEYS, augmentation_enabled

__all__ = ["SOURCES", "SUPPORTED", "ScriptExportError", "check_exportable", "keras_script"]

#: Settings the generated program reproduces; any other setting must be at its default.
SUPPORTED = {"data": DATA_KEYS, **PLAN_KEYS}


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


#: The training set's inference-mode measurements, as ``core.run.training`` asks for them.
MEASURE = '''def measure_training_set(x_train, y_train, layers):
    """The training set measured the way fit() measures validation, after each epoch."""
    widest = widest_layer(layers, x_train.shape[1:])
    flipped = noisy_rows(len(y_train), DATA_STEPS["label_noise"], SEED)  # None without noise
    return make_train_eval_callback(
        x_train, y_train, seed=SEED, widest_layer=widest, flipped_rows=flipped
    )
'''

MAIN = (
    """def main():
    # The test part (x_test, y_test), when the data has one, comes before n_classes.
    x_train, y_train, x_val, y_val, *test_part, n_classes = load_data()
    # The seed comes after the data and right before the model: nothing else may
    # draw from Keras's random stream between the two.
    keras.utils.set_random_seed(SEED)
    model = build_model(LAYERS, x_train.shape[1:], n_classes)
    steps = steps_per_epoch(len(x_train), BATCH_SIZE)
    compile_model(model, TRAINING, steps, cross_entropy_metric())
    callbacks = [
        measure_training_set(x_train, y_train, LAYERS),  # first: the rest see its numbers
        *training_callbacks(TRAINING),  # ReduceLROnPlateau, EarlyStopping: each when set
        learning_rate_log(TRAINING, steps),
    ]
"""
    + FIT.format(batch_size="BATCH_SIZE", epochs="EPOCHS", initial_epoch="")
    + JUDGE.format(epochs_run="len(history.epoch)")
    + "    print(json.dumps(history.history))\n"
)

#: What the program does, in its docstring (a branched run's says more).
TRAINS = """builds and trains the same
model, and prints the training history as JSON on its last line of output; that
history equals the run's to 1e-4.  With a test part, the line before it holds the
delivered model's test numbers, {"test": {...}}, equal to the run's numbers to
1e-4."""


def _imports(extra: list[str], branch: bool) -> str:
    """The import block, sorted as ruff's isort would, then Keras and numpy."""
    stdlib = {"import json", "import math", "import numbers", "import os", *extra}
    stdlib.add("from typing import Any")  # in the carried code's annotations
    if branch:
        stdlib |= {"from dataclasses import dataclass, field", "from types import SimpleNamespace"}
    lines = sorted(i for i in stdlib if i.startswith("import "))
    lines += sorted(i for i in stdlib if i.startswith("from "))
    return (
        "from __future__ import annotations\n\n"  # the carried code's annotations stay text
        + "\n".join(lines)
        + '\n\nos.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # quiet TensorFlow start-up\n\n'
        + "import keras  # noqa: E402\nimport numpy as np  # noqa: E402\n"
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
    fewer).  ``branch``: the program of a branched run, its parent's epochs first.
    """
    check_exportable(config)
    if branch is not None:
        check_exportable(branch.parent)
    if input_shape is None:
        models = [config.model] + ([branch.parent.model] if branch else [])
        if any(m.kind == "cnn" or augmentation_enabled(m) for m in models):
            raise ScriptExportError("augmentation or a CNN needs the data's shape to be written")
        input_shape = (1,) * (input_rank or 1)  # only the rank matters: a Flatten or none
    source = SOURCES[config.data.source](config)
    data_consts, data_code = data_section(config, source)
    consts = [f"SEED = {config.training.seed!r}", *source.consts, *data_consts]
    consts += plan_consts(config, input_shape, image_shape, epochs)
    if branch is not None:
        consts += ["", *script_branch.branch_consts(branch, config, input_shape, image_shape)]
    # One line, whatever the run is called; escaped, since the name is the user's text
    # and lands inside the docstring (a quote there must not end it).
    title = docstring_text(" ".join(title.split()))
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    pillow = ", Pillow" if config.data.source == "images" else ""
    header = (
        f'"""{title}, as a plain Keras program (written by FitGap, {stamp}).\n\n'
        f"It rebuilds the data the way FitGap did, seeds Keras, "
        f"{script_branch.TRAINS if branch else TRAINS}  It needs numpy, scikit-learn{pillow}"
        ' and Keras 3 with\nthe TensorFlow backend, and nothing from FitGap.\n"""\n\n'
    )
    if note:
        header += "".join(f"# {comment_text(line)}\n" for line in note.splitlines()) + "\n"
    sections = {
        "data": data_code,
        "model": carried(layers),
        "training": carried(optimizer),
        "measurements": carried(measurements) + "\n\n" + MEASURE,
        "the run": script_branch.branch_code() if branch else MAIN,
    }
    return (
        header
        + _imports(source.imports, branch is not None)
        + "\n# The run's settings.\n"
        + "".join(f"{line}\n" for line in consts)
        + "".join(
            f"\n\n# -- {k} {'-' * (86 - len(k))}\n\n\n{v.strip(chr(10))}\n"
            for k, v in sections.items()
        )
        + '\n\nif __name__ == "__main__":\n    main()\n'
    )
