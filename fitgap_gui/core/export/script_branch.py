"""The exported Keras script of a branched run: the parent's epochs, then the branch.

A branched run went on from another run's state at epoch k (``core.branching``).  Its
program trains the parent's config for k epochs exactly as the parent's own program
does (same data, split, seed and callbacks) and copies out, at the end of epoch k, what
``capture_state`` copies; then it does what ``apply_state`` and ``train(resume=...)``
do: a fresh session and seed, the model rebuilt with this run's levers, the weights
copied layer by layer, the Dropout layers' random states, the optimizer's variables
(and the rate the parent reached when the rate setting is unchanged), the parent's
epochs replayed through EarlyStopping/ReduceLROnPlateau so their counters go on, and
``fit(initial_epoch=k)``.  Its output is the parent's history for epochs 1..k followed
by the branch's, which equals the stored child run's (docs/ARCHITECTURE.md).

Only one level is written out: when the parent was itself a branch, its first epochs
are trained from scratch here, and the program says so at its top.

The parent's parts reuse ``keras_script``'s text with the lever constants renamed
(``DROPOUT`` becomes ``PARENT_DROPOUT``...); the renaming goes token by token, so it
touches names only, never a string or comment that holds the user's text.
"""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.export.script import (
    _build_model_function,
    _callback_lines,
    _schedule_lines,
    compile_lines,
    lever_consts,
)
from fitgap_gui.core.run.branching import _same_rate


@dataclass
class BranchPlan:
    """How a run branched: from ``parent`` at ``epoch``; ``carry_optimizer`` is False when
    the child started with a fresh optimizer (a stored run whose saved optimizer state
    belongs to a later epoch), ``carry_seeds`` when it went on from a saved model."""

    parent: RunConfig
    epoch: int
    parent_run_id: int | None = None
    carry_optimizer: bool = True
    #: False when the child went on from a saved model, which holds no Dropout states.
    carry_seeds: bool = True


@dataclass
class BranchParts:
    """What ``keras_script`` adds or replaces for a branched run."""

    consts: list[str]
    model: str
    training: str
    imports: set[str]
    trains: str


#: The constants the parent's code reads under a ``PARENT_`` name.
_LEVER_NAMES = {
    "DROPOUT",
    "L1",
    "L2",
    "SCHEDULE_EPOCHS",
    "WARMUP_EPOCHS",
    "STEP_EPOCHS",
    "STEP_FACTOR",
    "WEIGHT_DECAY",
    "LEARNING_RATE",
    "BATCH_SIZE",
    "EPOCHS",
}


def rename(code: str, names: dict[str, str]) -> str:
    """``code`` with each NAME token in ``names`` replaced (strings and comments untouched)."""
    lines = code.splitlines(keepends=True)
    hits = [
        (tok.start, tok.end, names[tok.string])
        for tok in tokenize.generate_tokens(io.StringIO(code).readline)
        if tok.type == tokenize.NAME and tok.string in names
    ]
    for (row, start), (_row, end), new in reversed(hits):
        line = lines[row - 1]
        lines[row - 1] = line[:start] + new + line[end:]
    return "".join(lines)


def _parent_names(same_model: bool) -> dict[str, str]:
    names = {name: f"PARENT_{name}" for name in _LEVER_NAMES}
    if not same_model:
        names["build_model"] = "build_parent_model"
    return names


HELPERS = '''
def weighted_layers(model):
    """The layers that hold weights, in order (Dropout layers hold none)."""
    return [layer for layer in model.layers if layer.weights]


def dropout_seed_states(model):
    """The Dropout layers' random states: which units the next batches drop."""
    return [
        layer.seed_generator.state
        for layer in model.layers
        if isinstance(layer, keras.layers.Dropout) and getattr(layer, "seed_generator", None)
    ]


def to_numpy(value):
    return keras.ops.convert_to_numpy(value).copy()


class BranchPoint(keras.callbacks.Callback):
    """At the end of epoch BRANCH_EPOCH: copy out what the branch starts from, and stop.

    Placed last, after EarlyStopping and ReduceLROnPlateau, so that epoch's decisions
    (a lowered rate, a best epoch) are in what it copies: the weights layer by layer,
    the optimizer's variables (its step count and moment estimates; the learning rate
    apart), the Dropout layers' random states, and EarlyStopping's best weights.
    """

    def __init__(self, early_stopping=None):
        super().__init__()
        self.early_stopping = early_stopping

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 != BRANCH_EPOCH:
            return
        model = self.model
        self.weights = [[to_numpy(w) for w in layer.weights] for layer in weighted_layers(model)]
        variables = model.optimizer.variables
        self.optimizer_variables = [to_numpy(v) for v in variables if v.name != "learning_rate"]
        rates = [v for v in variables if v.name == "learning_rate"]
        self.learning_rate = float(to_numpy(rates[0])) if rates else None
        self.seeds = [to_numpy(state) for state in dropout_seed_states(model)]
        self.early_best = None
        early = self.early_stopping
        if early is not None and early.best_weights is not None:
            self.early_best = (early.best_epoch, list(early.best_weights))
        model.stop_training = True


class ParentEpochsModel:
    """What a replayed callback sees as its model: the metrics, nothing it can change."""

    def __init__(self, model, learning_rate):
        self.metrics = model.metrics
        self.stop_training = False
        self.optimizer = SimpleNamespace(learning_rate=learning_rate)

    def get_weights(self):
        # Not None: EarlyStopping would take each replayed epoch for its first (and best).
        return []

    def set_weights(self, weights):
        return None


class CarryCounters(keras.callbacks.Callback):
    """Show EarlyStopping and ReduceLROnPlateau the parent's epochs 1..BRANCH_EPOCH.

    At this fit's first epoch end (once Keras has built the metrics that tell a
    monitor's direction, and before those callbacks judge this epoch) each of them
    sees the parent's epochs as if it had watched them: its wait, best and best epoch
    become what they were in the parent.
    """

    def __init__(self, callbacks, parent_history, start):
        super().__init__()
        self.callbacks, self.parent_history, self.start = callbacks, parent_history, start
        self.replayed = False

    def on_epoch_end(self, epoch, logs=None):
        if self.replayed:
            return
        self.replayed = True
        for callback in self.callbacks:
            callback.set_model(ParentEpochsModel(self.model, LEARNING_RATE))
            for parent_epoch in range(BRANCH_EPOCH):
                parent_logs = {
                    key: values[parent_epoch]
                    for key, values in self.parent_history.items()
                    if parent_epoch < len(values) and values[parent_epoch] is not None
                }
                callback.on_epoch_end(parent_epoch, parent_logs)
            callback.set_model(self.model)
            if isinstance(callback, keras.callbacks.EarlyStopping):
                callback.stopped_epoch = 0  # a replayed stop is no stop: this run decides
                if callback.restore_best_weights:
                    callback.best_weights = None
                    if callback.best_epoch == BRANCH_EPOCH - 1:  # the branch epoch's weights
                        callback.best_weights = [w for ws in self.start.weights for w in ws]
                    elif self.start.early_best and self.start.early_best[0] == callback.best_epoch:
                        callback.best_weights = self.start.early_best[1]
'''


def dropout_layers(model) -> bool:
    """Whether a model config has Dropout layers (build_model adds them when rate > 0)."""
    return model.dropout > 0 and bool(model.hidden_units)


def _fit_lines(epochs: str, callbacks: str, initial_epoch: str | None = None) -> str:
    first = f"        initial_epoch={initial_epoch},\n" if initial_epoch else ""
    return (
        "    history = model.fit(\n"
        "        x_train,\n"
        "        y_train,\n"
        "        batch_size=BATCH_SIZE,\n"
        f"        epochs={epochs},\n"
        f"{first}"
        "        validation_data=(x_val, y_val),\n"
        f"        callbacks={callbacks},\n"
        "        shuffle=True,\n"
        "        verbose=0,\n"
        "    )\n"
    )


def _parent_function(plan: BranchPlan, same_model: bool) -> str:
    parent = plan.parent
    make_rate, record_rate = _schedule_lines(parent)
    early = (
        "callbacks[-1]"
        if parent.early_stopping.enabled and parent.early_stopping.restore_best_weights
        else "None"
    )
    text = (
        "def train_parent(x_train, y_train, x_val, y_val, n_classes):\n"
        '    """The run this one branched from, as its own program trains it, up to the end\n'
        '    of epoch BRANCH_EPOCH: its history then, and what the branch starts from."""\n'
        "    keras.utils.set_random_seed(SEED)\n"
        "    model = build_model(x_train.shape[1:], n_classes)\n"
        f"{make_rate}"
        f"{compile_lines(parent)}"
        f"{_callback_lines(parent)}"
        f"    branch_point = BranchPoint({early})\n"
        + _fit_lines("EPOCHS", "[*callbacks, branch_point]")
        + f"{record_rate}"
        "    return history.history, branch_point\n"
    )
    return rename(text, _parent_names(same_model))


def _child_function(config: RunConfig, plan: BranchPlan) -> str:
    make_rate, record_rate = _schedule_lines(config)
    record_rate = record_rate.replace(
        'range(len(history.history["loss"]))',
        'range(BRANCH_EPOCH, BRANCH_EPOCH + len(history.history["loss"]))',
    )
    counted = config.training.lr_schedule["kind"] == "plateau" or config.early_stopping.enabled
    if plan.carry_optimizer:
        optimizer = (
            "    # The optimizer's variables, in order: its step count and moment estimates.\n"
            "    model.optimizer.build(model.trainable_variables)\n"
            '    variables = [v for v in model.optimizer.variables if v.name != "learning_rate"]\n'
            "    for variable, value in zip(variables, start.optimizer_variables, strict=True):\n"
            "        variable.assign(value)\n"
        )
        if _same_rate(plan.parent, config):
            optimizer += (
                "    # The rate setting is unchanged: go on at the rate the parent reached.\n"
                "    for variable in model.optimizer.variables:\n"
                '        if variable.name == "learning_rate":\n'
                "            variable.assign(start.learning_rate)\n"
            )
    else:
        optimizer = (
            "    # The parent's saved optimizer state belongs to a later epoch: a fresh one.\n"
        )
    if plan.carry_seeds:
        seeds = (
            "    seeds = dropout_seed_states(model)\n"
            "    if len(seeds) == len(start.seeds):  # the same Dropout layers: their masks go on\n"
            "        for state, value in zip(seeds, start.seeds, strict=True):\n"
            "            state.assign(value)\n"
        )
    else:
        seeds = (
            "    # FitGap went on from the parent's saved model, which holds no Dropout random\n"
            "    # states: the Dropout layers keep their own, seeded above.\n"
        )
        if not any(dropout_layers(c.model) for c in (plan.parent, config)):
            seeds = ""
    carry = (
        "    # Before EarlyStopping/ReduceLROnPlateau: their counters go on from the parent's.\n"
        "    callbacks.insert(1, CarryCounters(callbacks[1:], parent_history, start))\n"
        if counted
        else ""
    )
    return (
        "def main():\n"
        "    x_train, y_train, x_val, y_val, n_classes = load_data()\n"
        "    parent_history, start = train_parent(x_train, y_train, x_val, y_val, n_classes)\n"
        "\n"
        "    # The branch: a fresh session and seed, as for any run, then the model with\n"
        "    # this run's levers (they change no layer's shape).\n"
        "    keras.backend.clear_session(free_memory=False)\n"
        "    keras.utils.set_random_seed(SEED)\n"
        "    model = build_model(x_train.shape[1:], n_classes)\n"
        f"{make_rate}"
        f"{compile_lines(config)}"
        "    # The parent's weights at the branch, layer by layer.\n"
        "    for layer, values in zip(weighted_layers(model), start.weights, strict=True):\n"
        "        layer.set_weights(values)\n"
        f"{seeds}"
        f"{optimizer}"
        f"{_callback_lines(config)}"
        f"{carry}"
        + _fit_lines("EPOCHS", "callbacks", initial_epoch="BRANCH_EPOCH")
        + f"{record_rate}"
        "    # Epochs 1..BRANCH_EPOCH are the parent's, then this run's own.\n"
        "    joined = {\n"
        "        key: parent_history.get(key, [None] * BRANCH_EPOCH) + values\n"
        "        for key, values in history.history.items()\n"
        "    }\n"
        "    print(json.dumps(joined))\n"
    )


def branch_parts(
    config: RunConfig,
    plan: BranchPlan,
    input_shape: tuple[int, ...] | None,
    image_shape: tuple[int, ...] | None,
    input_rank: int,
) -> BranchParts:
    """The parts of a branched run's program that ``keras_script`` does not write."""
    parent_model = _build_model_function(plan.parent, input_shape, image_shape, input_rank)
    same_model = plan.parent.model == config.model  # then one build_model serves both
    names = _parent_names(same_model)
    consts = [
        f"# The run it branched from{_of(plan)}, for its first BRANCH_EPOCH epochs.",
        f"BRANCH_EPOCH = {plan.epoch!r}",
        *(rename(c, names) for c in lever_consts(plan.parent)),
    ]
    model = "" if same_model else rename(parent_model, names) + "\n\n"
    training = (
        HELPERS.lstrip("\n")
        + "\n\n"
        + _parent_function(plan, same_model)
        + "\n\n"
        + _child_function(config, plan)
    )
    imports = {"from types import SimpleNamespace"}
    if plan.parent.training.lr_schedule["kind"] in ("cosine", "step"):
        imports.add("import math")
    trains = (
        "trains the run this one\n"
        "branched from up to epoch BRANCH_EPOCH, then branches as FitGap did (the same\n"
        "weights, optimizer state, dropout random states and callback counters, with this\n"
        "run's levers) and trains on.  It prints the whole history (the parent's epochs,\n"
        "then this run's) as JSON on its last line of output; that history equals the\n"
        "run's to 1e-4."
    )
    return BranchParts(consts, model, training, imports, trains)


def _of(plan: BranchPlan) -> str:
    return f" (run {plan.parent_run_id})" if plan.parent_run_id is not None else ""
