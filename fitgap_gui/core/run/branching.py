"""Pause, continue and branch a run: the pause gate and the state a branch carries over.

``PauseGate`` is shared by the thread that asks (the window, a test) and the training
thread.  The engine's epoch callback calls ``hold`` at the end of each epoch; while a
pause is asked it blocks there, inside ``fit``, with the model and its optimizer
untouched.  ``resume()`` releases it and the same ``fit`` goes on (no number changes);
``resume(config)`` with changed levers ends that ``fit`` and the run *branches*: a
child run rebuilds the model with the new levers, takes the parent's weights layer by
layer and its optimizer's variables (``TrainingState``), and trains with
``fit(initial_epoch=k)``.  A stored run's model file gives the same state
(``state_from_stored``).  No Qt here.

What a branch carries and what it cannot (docs/ARCHITECTURE.md, "Pause, continue,
branch"): the weights, the optimizer's variables, the learning rate it reached and the
dropout layers' random states are copied; EarlyStopping's and ReduceLROnPlateau's
counters are rebuilt by replaying the parent's epochs through the child's callbacks
(``CarryCounters``).  The batch order is not carried: a new ``fit`` shuffles from the
seed (with Keras 3 and a global seed every epoch gets the same order, so it matches).
``TrainingState`` and the functions that capture, apply and replay it use Keras alone
(imported inside them), so the exported script of a branched run carries them.
"""

from __future__ import annotations

import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import Dataset
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.kerasimport import import_keras
from fitgap_gui.core.results.records import delivered_epoch_of
from fitgap_gui.core.store.runstore import RunStore, StoredRun

#: How often a held epoch looks for a stop request, in seconds (the stop latency while paused).
_POLL_SECONDS = 0.05

#: The config keys a paused run may change before it branches.
BRANCH_LEVERS = (
    "model.dropout",
    "model.l1",
    "model.l2",
    "training.weight_decay",
    "training.learning_rate",
    "training.lr_schedule",
    "training.batch_size",
    "training.epochs",
    "early_stopping",
)


class Stop:
    """What ``PauseGate.hold`` returns when the run was stopped while paused."""


STOP = Stop()


class PauseGate:
    """Hold the training thread at an epoch's end until it is continued or stopped.

    Safe to call from any thread.  ``request_pause`` takes effect at the end of the
    epoch in progress; ``resume`` before that cancels the request.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wanted = False
        self._paused = threading.Event()
        self._released = threading.Event()
        self._branch: RunConfig | None = None
        #: The epoch the run is held after (1-based), while paused.
        self.paused_epoch: int | None = None
        #: Called on the training thread with the epoch, once the run is held.
        self.on_hold: Callable[[int], None] | None = None

    def request_pause(self) -> None:
        with self._lock:
            self._wanted = True

    def pause_requested(self) -> bool:
        with self._lock:
            return self._wanted

    def is_paused(self) -> bool:
        return self._paused.is_set()

    def wait_paused(self, timeout: float) -> bool:
        """Block until the run is held (tests, the CLI); False after ``timeout`` seconds."""
        return self._paused.wait(timeout)

    def resume(self, config: RunConfig | None = None) -> None:
        """Go on (``config`` None or unchanged), or branch with ``config``'s levers."""
        with self._lock:
            self._wanted = False
            self._branch = config
            self._released.set()

    def hold(self, epoch: int, should_stop: Callable[[], bool]) -> RunConfig | Stop | None:
        """On the training thread: wait while paused; the branch config, STOP or None."""
        with self._lock:
            if not self._wanted:
                return None
            self._released.clear()
            self._branch = None
            self.paused_epoch = epoch
            self._paused.set()
        if self.on_hold is not None:
            self.on_hold(epoch)
        try:
            while not self._released.wait(_POLL_SECONDS):
                if should_stop():
                    with self._lock:
                        self._wanted = False
                    return STOP
        finally:
            self._paused.clear()
            self.paused_epoch = None
        with self._lock:
            branch, self._branch = self._branch, None
        return branch


@dataclass
class TrainingState:
    """What a child run starts from: the weights after epoch ``epoch`` and more.

    ``weights`` holds each weighted layer's weights, in layer order (the levers a branch
    may change never change a shape).  ``optimizer`` holds the optimizer's variables in
    order as ``(path, value)`` (``iterations`` and the moment estimates; the learning
    rate is kept apart in ``learning_rate``); None gives the child a fresh optimizer.
    ``seeds`` are the dropout layers' random states.  ``history`` is the parent's
    epochs 1..``epoch`` and ``config`` the parent's config.
    """

    parent_run_id: int | None
    epoch: int
    weights: list[list[Any]]
    optimizer: list[tuple[str, Any]] | None
    history: dict[str, list[float | None]] = field(default_factory=dict)
    config: RunConfig | None = None
    learning_rate: float | None = None
    seeds: list[Any] = field(default_factory=list)
    #: Said to the user when something could not be carried (a fresh optimizer).
    note: str | None = None
    #: The parent's EarlyStopping best epoch (0-based, as Keras counts) and its weights
    #: (``model.get_weights()`` order), when it kept them (restore_best_weights).
    early_best: tuple[int, list[Any]] | None = None


@dataclass
class Branch:
    """A paused run continued with changed levers: the child's config and start."""

    config: RunConfig
    state: TrainingState


def weighted_layers(model: Any) -> list[Any]:
    """The model's layers that hold weights, in order (Dropout layers come and go)."""
    return [layer for layer in model.layers if layer.weights]


def is_learning_rate(path: str) -> bool:
    return path.rsplit("/", 1)[-1] == "learning_rate"


def variable_role(path: str) -> str:
    """What an optimizer variable is (``iteration``, ``momentum``, ``velocity``…)."""
    return path.rsplit("/", 1)[-1].rsplit("_", 1)[-1]


def seed_states(model: Any) -> list[Any]:
    """The Dropout layers' random states: which units the next batches drop."""
    import keras  # deferred: Keras is a heavy import (and imported by now)

    return [
        layer.seed_generator.state
        for layer in model.layers
        if isinstance(layer, keras.layers.Dropout) and getattr(layer, "seed_generator", None)
    ]


def capture_state(
    model: Any,
    epoch: int,
    history: dict[str, list[float | None]],
    *,
    parent_run_id: int | None = None,
    config: RunConfig | None = None,
    with_optimizer: bool = True,
) -> TrainingState:
    """Copy the model's weights (and optimizer variables) out, as numpy arrays."""
    import keras  # deferred: Keras is a heavy import (and imported by now)

    def numpy(value: Any) -> Any:
        return keras.ops.convert_to_numpy(value).copy()

    weights = [[numpy(w) for w in layer.weights] for layer in weighted_layers(model)]
    optimizer = None
    learning_rate = None
    if with_optimizer and getattr(model, "optimizer", None) is not None:
        variables = list(model.optimizer.variables)
        optimizer = [(v.path, numpy(v)) for v in variables if not is_learning_rate(v.path)]
        rates = [v for v in variables if is_learning_rate(v.path)]
        learning_rate = float(numpy(rates[0])) if rates else None
        if len(optimizer) <= 1:  # an optimizer never built (a model loaded without state)
            optimizer = None
    prefix = {key: list(values[:epoch]) for key, values in history.items()}
    seeds = [numpy(state) for state in seed_states(model)]
    return TrainingState(
        parent_run_id, epoch, weights, optimizer, prefix, config, learning_rate, seeds
    )


def same_rate(parent: RunConfig | None, child: RunConfig) -> bool:
    """The child keeps the parent's rate setting, and it is one the optimizer holds."""
    if parent is None:
        return False
    p, c = parent.training, child.training
    kind = c.lr_schedule.get("kind", "constant")
    return (
        p.learning_rate == c.learning_rate
        and p.lr_schedule == c.lr_schedule
        and kind in ("constant", "plateau")
    )


def apply_state(model: Any, state: TrainingState, keep_rate: bool) -> None:
    """Set a freshly built and compiled model to ``state``: weights, optimizer, seeds.

    The optimizer's variables are matched in order (the learning rate aside); the
    learning rate the parent reached (lowered by ReduceLROnPlateau, say) is kept when
    ``keep_rate`` (``same_rate``: the child keeps the rate and schedule).  Raises
    FitGapError when the layers do not match (a lever that changes the model's shape
    cannot branch).
    """
    layers = weighted_layers(model)
    shapes_new = [[tuple(w.shape) for w in layer.weights] for layer in layers]
    shapes_old = [[tuple(w.shape) for w in ws] for ws in state.weights]
    if shapes_new != shapes_old:
        raise FitGapError(
            "cannot continue with this model: its layers differ from the run it continues "
            "(only dropout, L1/L2, weight decay, the learning rate and schedule, the batch "
            "size, early stopping and the epochs may change)"
        )
    for layer, values in zip(layers, state.weights, strict=True):
        layer.set_weights(values)
    seeds = seed_states(model)
    if len(seeds) == len(state.seeds):  # the same dropout layers: their masks go on
        for variable, value in zip(seeds, state.seeds, strict=True):
            variable.assign(value)
    if state.optimizer is None:
        return
    optimizer = model.optimizer
    optimizer.build(model.trainable_variables)
    variables = [v for v in optimizer.variables if not is_learning_rate(v.path)]
    if len(variables) != len(state.optimizer):
        raise FitGapError("cannot continue: the optimizer's state does not match this model")
    for variable, (path, value) in zip(variables, state.optimizer, strict=True):
        if variable_role(variable.path) != variable_role(path) or tuple(variable.shape) != tuple(
            value.shape
        ):
            raise FitGapError("cannot continue: the optimizer's state does not match this model")
        variable.assign(value)
    if state.learning_rate is not None and keep_rate:
        for variable in optimizer.variables:
            if is_learning_rate(variable.path):
                variable.assign(state.learning_rate)


class StandIn:
    """What a replayed callback sees as its model: the metrics, nothing it can change."""

    def __init__(self, model: Any, learning_rate: float) -> None:
        self.metrics = model.metrics
        self.stop_training = False
        self.optimizer = SimpleNamespace(learning_rate=learning_rate)

    def get_weights(self) -> list[Any]:
        # Not None: EarlyStopping would take each replayed epoch for its first (and best).
        return []

    def set_weights(self, _weights: Any) -> None:
        return None


def replay_epochs(callback: Any, model: Any, state: TrainingState, learning_rate: float) -> None:
    """Feed the parent's epochs to ``callback`` (EarlyStopping, ReduceLROnPlateau) as if
    it had watched them: its wait, best and best epoch become what they would be."""
    import keras  # deferred: Keras is a heavy import (and imported by now)

    callback.set_model(StandIn(model, learning_rate))
    try:
        for epoch in range(state.epoch):
            logs = {
                key: values[epoch]
                for key, values in state.history.items()
                if epoch < len(values) and values[epoch] is not None
            }
            callback.on_epoch_end(epoch, logs)
    finally:
        callback.set_model(model)
    if isinstance(callback, keras.callbacks.EarlyStopping):
        callback.stopped_epoch = 0  # a replayed stop is no stop: the child decides
        if callback.restore_best_weights:
            callback.best_weights = None
            if callback.best_epoch == state.epoch - 1:  # the branch epoch: its weights
                callback.best_weights = [w for ws in state.weights for w in ws]
            elif state.early_best is not None and state.early_best[0] == callback.best_epoch:
                callback.best_weights = state.early_best[1]


def make_counter_carrier(state: TrainingState, callbacks: list[Any], learning_rate: float):
    """A Keras callback, placed before ``callbacks``, that at the child's first epoch end
    replays the parent's epochs through them (after Keras has built the metrics that
    tell a monitor's direction, and before they judge that epoch)."""
    import keras  # called inside ``train``: Keras is imported by then

    class CarryCounters(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.replayed = False

        def on_epoch_end(self, epoch, logs=None):
            if not self.replayed:
                self.replayed = True
                for callback in callbacks:
                    replay_epochs(callback, self.model, state, learning_rate)

    return CarryCounters()


def saved_epoch(run: StoredRun) -> tuple[int, bool]:
    """The epoch whose weights a stored run's model holds, and whether its optimizer
    state belongs to that epoch (not when early stopping restored an earlier one)."""
    epoch = delivered_epoch_of(run) or run.epochs_run
    return epoch, epoch == run.epochs_run


def _unreadable_model(run_id: int, path: Path, exc: BaseException) -> str:
    """One line for a model file Keras cannot load: a damaged file says so (Keras's own
    words for a truncated archive are "File not found")."""
    if path.is_file() and not zipfile.is_zipfile(path):
        return (
            f"cannot read the model of run {run_id}: {path} is damaged (truncated, or not "
            "a .keras archive)"
        )
    first = (f"{exc}".strip().splitlines() or [type(exc).__name__])[0]
    return f"cannot read the model of run {run_id}: {first}"


def state_from_stored(
    store: RunStore, run_id: int, dataset: Dataset | None = None
) -> tuple[StoredRun, TrainingState]:
    """The state a stored run's model file holds; FitGapError when there is none, when
    the file cannot be read, or when ``dataset`` (the child's data) no longer has the
    shape the saved model takes."""
    run = store.get_run(run_id)
    if run.kind != "fitgap":
        raise FitGapError(f"run {run_id} is a user's own model; only FitGap's runs continue")
    if not run.has_model or run.model_file is None:
        raise FitGapError(f"run {run_id} has no saved model to continue from")
    epoch, same_optimizer = saved_epoch(run)
    if epoch < 1:
        raise FitGapError(f"run {run_id} has no epoch to continue from")
    keras = import_keras()

    try:
        model = keras.models.load_model(run.model_file, compile=True)
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign file: one line
        raise FitGapError(_unreadable_model(run_id, Path(run.model_file), exc)) from None
    if dataset is not None:
        saved = tuple(model.input_shape[1:]) if hasattr(model, "input_shape") else None
        if saved is not None and saved != tuple(dataset.input_shape):
            raise FitGapError(
                f"cannot continue run {run_id}: its data changed shape (the saved model "
                f"takes samples of shape {saved}, the data now gives {tuple(dataset.input_shape)})"
            )
    state = capture_state(
        model,
        epoch,
        run.history,
        parent_run_id=run_id,
        config=run.config,
        with_optimizer=same_optimizer,
    )
    # A saved model holds no Dropout random states: a loaded model's are drawn afresh
    # from Python's random state at load time, so copying them would make the child
    # unrepeatable.  The child keeps its own, seeded like any run's.
    state.seeds = []
    if not same_optimizer:
        state.note = (
            f"early stopping restored epoch {epoch}'s weights; the saved optimizer state is "
            f"epoch {run.epochs_run}'s, so the optimizer starts afresh"
        )
    elif state.optimizer is None:
        state.note = "the saved model holds no optimizer state, so the optimizer starts afresh"
    elif run.status == "stopped" and "while paused" not in (run.message or ""):
        state.note = (
            f"the run was stopped during epoch {epoch + 1}: its saved weights include part "
            "of that epoch's updates"
        )
    return run, state


def branch_config(parent: RunConfig, child: RunConfig) -> RunConfig:
    """``child`` checked against ``parent``: only ``BRANCH_LEVERS`` may differ."""
    changed = [
        key
        for section in ("data", "model", "training", "early_stopping")
        for key in _keys(parent, section)
        if parent.get(key) != child.get(key) and not is_branch_lever(key)
    ]
    if changed:
        raise FitGapError(
            "a branch may change only dropout, L1/L2, weight decay, the learning rate and "
            f"schedule, the batch size, early stopping and the epochs; not {', '.join(changed)}"
        )
    return child


def is_branch_lever(key: str) -> bool:
    """Whether a paused run may change the config key ``key`` and branch."""
    return any(key == lever or key.startswith(lever + ".") for lever in BRANCH_LEVERS)


def _keys(config: RunConfig, section: str) -> list[str]:
    values = config.to_dict().get(section, {})
    return [f"{section}.{name}" for name in values]
