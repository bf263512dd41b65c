"""The exported Keras script of a branched run: the parent's epochs, then the branch.

A branched run went on from another run's state at epoch k (``core.run.branching``).
Its program trains the parent's plans for k epochs exactly as the parent's own program
does (same data, split, seed and callbacks) and, at the end of epoch k, copies out its
state with the engine's own ``capture_state``; then it does what ``train(resume=...)``
does, with the same functions: a fresh session and seed, the model built from this
run's plan, ``apply_state`` (weights, Dropout random states, optimizer variables and,
when the rate setting is unchanged, the rate the parent reached), the parent's epochs
replayed through EarlyStopping/ReduceLROnPlateau (``make_counter_carrier``) and
``fit(initial_epoch=k)``.  Its output is the parent's history for epochs 1..k followed
by the branch's, which equals the stored child run's (docs/ARCHITECTURE.md).

Only one level is written out: when the parent was itself a branch, its first epochs
are trained from scratch here, and the program says so at its top.
"""

from __future__ import annotations

from dataclasses import dataclass

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.export.script_text import FIT, JUDGE, copied, plan_consts
from fitgap_gui.core.run import branching


@dataclass
class BranchPlan:
    """How a run branched: from ``parent`` at ``epoch``; ``carry_optimizer`` is False when
    the child started with a fresh optimizer (a stored run whose saved optimizer state
    belongs to a later epoch), ``carry_seeds`` when it went on from a saved model."""

    parent: RunConfig
    epoch: int
    parent_run_id: int | None = None
    carry_optimizer: bool = True
    carry_seeds: bool = True


#: The engine's branching code the program carries (``core.run.branching``).
CARRIED = (
    FitGapError, branching.TrainingState, branching.weighted_layers, branching.is_learning_rate,
    branching.variable_role, branching.seed_states, branching.capture_state, branching.apply_state,
    branching.StandIn, branching.replay_epochs, branching.make_counter_carrier,
)  # fmt: skip

BRANCH = '''

class BranchPoint(keras.callbacks.Callback):
    """Records the parent's epochs; at the end of epoch BRANCH_EPOCH it copies out what
    the branch starts from, as FitGap does when a paused run goes on, and stops.

    Placed last, so that epoch's decisions (a lowered rate, a best epoch) are in it.
    """

    def __init__(self, callbacks):
        super().__init__()
        self.history = {}
        early = [c for c in callbacks if isinstance(c, keras.callbacks.EarlyStopping)]
        self.early_stopping = early[0] if early else None

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        if epoch + 1 != BRANCH_EPOCH:
            return
        state = capture_state(self.model, BRANCH_EPOCH, self.history)
        if not CARRY_OPTIMIZER:  # a stored run's optimizer state was a later epoch's
            state.optimizer = None
        if not CARRY_SEEDS:  # a saved model holds no Dropout random states
            state.seeds = []
        early = self.early_stopping
        if early is not None and early.best_weights is not None:
            state.early_best = (early.best_epoch, list(early.best_weights))
        self.state = state
        self.model.stop_training = True


def train_parent(x_train, y_train, x_val, y_val, n_classes):
    """The run this one branched from, as its own program trains it, up to the end of
    epoch BRANCH_EPOCH: what the branch starts from (its history included)."""
    keras.utils.set_random_seed(SEED)
    model = build_model(PARENT_LAYERS, x_train.shape[1:], n_classes)
    steps = steps_per_epoch(len(x_train), PARENT_BATCH_SIZE)
    compile_model(model, PARENT_TRAINING, steps, cross_entropy_metric())
    counted = training_callbacks(PARENT_TRAINING)
    branch_point = BranchPoint(counted)
    callbacks = [
        measure_training_set(x_train, y_train, PARENT_LAYERS),
        *counted,
        learning_rate_log(PARENT_TRAINING, steps),
        branch_point,
    ]
{parent_fit}    return branch_point.state


def main():
    # The test part (x_test, y_test), when the data has one, comes before n_classes.
    x_train, y_train, x_val, y_val, *test_part, n_classes = load_data()
    start = train_parent(x_train, y_train, x_val, y_val, n_classes)

    # The branch: a fresh session and seed, as for any run, then the model with this
    # run's levers (they change no layer's shape), set to the parent's state.
    keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(SEED)
    model = build_model(LAYERS, x_train.shape[1:], n_classes)
    steps = steps_per_epoch(len(x_train), BATCH_SIZE)
    compile_model(model, TRAINING, steps, cross_entropy_metric())
    apply_state(model, start, SAME_RATE)
    counted = training_callbacks(TRAINING)
    callbacks = [measure_training_set(x_train, y_train, LAYERS), *counted]
    if counted:  # before them: their counters go on from the parent's
        callbacks.insert(1, make_counter_carrier(start, counted, TRAINING["learning_rate"]))
    callbacks.append(learning_rate_log(TRAINING, steps))
{fit}{judge}    # Epochs 1..BRANCH_EPOCH are the parent's, then this run's own.
    joined = {
        key: start.history.get(key, [None] * BRANCH_EPOCH) + values
        for key, values in history.history.items()
    }
    print(json.dumps(joined))
'''

#: What the program does, in its docstring.
TRAINS = """trains the run this one
branched from up to epoch BRANCH_EPOCH, then branches as FitGap did (the same
weights, optimizer state, dropout random states and callback counters, with this
run's levers) and trains on.  It prints the whole history (the parent's epochs,
then this run's) as JSON on its last line of output; that history equals the
run's to 1e-4.  With a test part, the line before it holds the delivered model's
test numbers, {"test": {...}}, equal to the run's numbers to
1e-4."""


def branch_consts(
    plan: BranchPlan,
    config: RunConfig,
    input_shape: tuple[int, ...],
    image_shape: tuple[int, ...] | None,
) -> list[str]:
    """The branch's constants: where it branched, what it carries, the parent's plans."""
    of = f" (run {plan.parent_run_id})" if plan.parent_run_id is not None else ""
    same = branching.same_rate(plan.parent, config)
    return [
        f"# The run it branched from{of}, for its first BRANCH_EPOCH epochs.",
        f"BRANCH_EPOCH = {plan.epoch!r}",
        f"CARRY_OPTIMIZER = {plan.carry_optimizer!r}",
        f"CARRY_SEEDS = {plan.carry_seeds!r}",
        f"SAME_RATE = {same!r}  # unchanged: go on at the rate the parent reached",
        *plan_consts(plan.parent, input_shape, image_shape, prefix="PARENT_"),
    ]


def branch_code() -> str:
    """The program's run section: the engine's branching code, the parent, the branch."""
    first = "\n        initial_epoch=BRANCH_EPOCH,"
    parent_fit = FIT.replace("history = ", "").format(
        batch_size="PARENT_BATCH_SIZE", epochs="PARENT_EPOCHS", initial_epoch=""
    )
    fit = FIT.format(batch_size="BATCH_SIZE", epochs="EPOCHS", initial_epoch=first)
    judge = JUDGE.format(epochs_run="BRANCH_EPOCH + len(history.epoch)")
    code = BRANCH.replace("{parent_fit}", parent_fit).replace("{fit}", fit)
    return copied(*CARRIED) + code.replace("{judge}", judge)
