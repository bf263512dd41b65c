"""The exported Keras script of a branched run: the parent's epochs, then the branch.

A branched run went on from another run's state at epoch k (``core.run.branching``).
Its program trains the parent's plans for k epochs exactly as the parent's own program
does (same data, split, seed and callbacks) and copies out, at the end of epoch k, what
``capture_state`` copies; then it does what ``apply_state`` and ``train(resume=...)``
do: a fresh session and seed, the model rebuilt from this run's plan, the weights
copied layer by layer, the Dropout layers' random states, the optimizer's variables
(and the rate the parent reached when the rate setting is unchanged), the parent's
epochs replayed through EarlyStopping/ReduceLROnPlateau so their counters go on, and
``fit(initial_epoch=k)``.  Its output is the parent's history for epochs 1..k followed
by the branch's, which equals the stored child run's (docs/ARCHITECTURE.md).

Only one level is written out: when the parent was itself a branch, its first epochs
are trained from scratch here, and the program says so at its top.  The parent's
levers are constants of their own (``PARENT_LAYERS``, ``PARENT_TRAINING``...).
"""

from __future__ import annotations

from dataclasses import dataclass

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.export.script_text import FIT, plan_consts
from fitgap_gui.core.model.build import layer_plan
from fitgap_gui.core.run.branching import same_rate


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
    training: str
    imports: set[str]
    trains: str


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

    def __init__(self, callbacks):
        super().__init__()
        stoppers = [c for c in callbacks if isinstance(c, keras.callbacks.EarlyStopping)]
        self.early_stopping = stoppers[0] if stoppers else None

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
            callback.set_model(ParentEpochsModel(self.model, TRAINING["learning_rate"]))
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


PARENT = """def train_parent(x_train, y_train, x_val, y_val, n_classes):
    \"\"\"The run this one branched from, as its own program trains it, up to the end
    of epoch BRANCH_EPOCH: its history then, and what the branch starts from.\"\"\"
    keras.utils.set_random_seed(SEED)
    model = build_model(PARENT_LAYERS, x_train.shape[1:], n_classes)
    steps = steps_per_epoch(len(x_train), PARENT_BATCH_SIZE)
    compile_model(model, PARENT_TRAINING, steps)
    counted = training_callbacks(PARENT_TRAINING)
    branch_point = BranchPoint(counted)
    callbacks = [
        measure_training_set(x_train, y_train, PARENT_LAYERS),
        *counted,
        learning_rate_log(PARENT_TRAINING, steps),
        branch_point,
    ]
{fit}    return history.history, branch_point
"""

CHILD = """def main():
    x_train, y_train, x_val, y_val, n_classes = load_data()
    parent_history, start = train_parent(x_train, y_train, x_val, y_val, n_classes)

    # The branch: a fresh session and seed, as for any run, then the model with
    # this run's levers (they change no layer's shape).
    keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(SEED)
    model = build_model(LAYERS, x_train.shape[1:], n_classes)
    steps = steps_per_epoch(len(x_train), BATCH_SIZE)
    compile_model(model, TRAINING, steps)
    # The parent's weights at the branch, layer by layer.
    for layer, values in zip(weighted_layers(model), start.weights, strict=True):
        layer.set_weights(values)
{seeds}{optimizer}    counted = training_callbacks(TRAINING)
    callbacks = [measure_training_set(x_train, y_train, LAYERS), *counted]
    if counted:  # before them: their counters go on from the parent's
        callbacks.insert(1, CarryCounters(counted, parent_history, start))
    callbacks.append(learning_rate_log(TRAINING, steps))
{fit}    # Epochs 1..BRANCH_EPOCH are the parent's, then this run's own.
    joined = {{
        key: parent_history.get(key, [None] * BRANCH_EPOCH) + values
        for key, values in history.history.items()
    }}
    print(json.dumps(joined))
"""

CARRY_OPTIMIZER = """    # The optimizer's variables, in order: its step count and moment estimates.
    model.optimizer.build(model.trainable_variables)
    variables = [v for v in model.optimizer.variables if v.name != "learning_rate"]
    for variable, value in zip(variables, start.optimizer_variables, strict=True):
        variable.assign(value)
"""

SAME_RATE = """    # The rate setting is unchanged: go on at the rate the parent reached.
    for variable in model.optimizer.variables:
        if variable.name == "learning_rate":
            variable.assign(start.learning_rate)
"""

CARRY_SEEDS = """    seeds = dropout_seed_states(model)
    if len(seeds) == len(start.seeds):  # the same Dropout layers: their masks go on
        for state, value in zip(seeds, start.seeds, strict=True):
            state.assign(value)
"""


def branch_parts(
    config: RunConfig,
    plan: BranchPlan,
    input_shape: tuple[int, ...],
    image_shape: tuple[int, ...] | None,
) -> BranchParts:
    """The parts of a branched run's program that ``keras_script`` does not write."""
    optimizer = "    # The parent's saved optimizer state belongs to a later epoch: a fresh one.\n"
    if plan.carry_optimizer:
        optimizer = CARRY_OPTIMIZER + (SAME_RATE if same_rate(plan.parent, config) else "")
    seeds = CARRY_SEEDS
    if not plan.carry_seeds:
        dropout = [
            spec
            for model in (plan.parent.model, config.model)
            for spec in layer_plan(model, input_shape, image_shape)
            if spec["layer"] == "Dropout"
        ]
        seeds = (
            "    # FitGap went on from the parent's saved model, which holds no Dropout random\n"
            "    # states: the Dropout layers keep their own, seeded above.\n"
            if dropout
            else ""
        )
    of = f" (run {plan.parent_run_id})" if plan.parent_run_id is not None else ""
    consts = [
        f"# The run it branched from{of}, for its first BRANCH_EPOCH epochs.",
        f"BRANCH_EPOCH = {plan.epoch!r}",
        *plan_consts(plan.parent, input_shape, image_shape, prefix="PARENT_"),
    ]
    parent_fit = FIT.format(
        batch_size="PARENT_BATCH_SIZE", epochs="PARENT_EPOCHS", initial_epoch=""
    )
    child_fit = FIT.format(
        batch_size="BATCH_SIZE",
        epochs="EPOCHS",
        initial_epoch="\n        initial_epoch=BRANCH_EPOCH,",
    )
    training = (
        HELPERS.lstrip("\n")
        + "\n\n"
        + PARENT.format(fit=parent_fit)
        + "\n\n"
        + CHILD.format(seeds=seeds, optimizer=optimizer, fit=child_fit)
    )
    trains = (
        "trains the run this one\n"
        "branched from up to epoch BRANCH_EPOCH, then branches as FitGap did (the same\n"
        "weights, optimizer state, dropout random states and callback counters, with this\n"
        "run's levers) and trains on.  It prints the whole history (the parent's epochs,\n"
        "then this run's) as JSON on its last line of output; that history equals the\n"
        "run's to 1e-4."
    )
    return BranchParts(consts, training, {"from types import SimpleNamespace"}, trains)
