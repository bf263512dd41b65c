"""Pause, continue and branch a run (core.branching), with real Keras fits and SQLite."""

from __future__ import annotations

import sqlite3
import threading

import numpy as np
import pytest

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import load_dataset
from fitgap_gui.core.errors import FitGapError
from fitgap_gui.core.export.files import script_for_run
from fitgap_gui.core.run.branching import (
    PauseGate,
    TrainingState,
    capture_state,
    state_from_stored,
    weighted_layers,
)
from fitgap_gui.core.run.session import run_recorded, run_with_branches
from fitgap_gui.core.run.training import train
from fitgap_gui.core.store.runstore import RunStore

WAIT = 120.0  # seconds: generous for two shared cores; the tests never sleep


@pytest.fixture
def config(tiny_config) -> RunConfig:
    return tiny_config.replace(
        {"training.epochs": 6, "training.learning_rate": 0.01, "data.train_fraction": 0.1}
    )


def paused_at_epoch_2(config, store, gate, then, **kwargs):
    """Run ``config`` on a thread, pause it at epoch 2 from this thread, then ``then()``.

    The training thread waits in epoch 2's report until the pause is asked, so the
    pause lands at the end of epoch 2 whatever the machine's speed.
    """
    first_done, asked = threading.Event(), threading.Event()
    out: dict = {}

    def on_epoch(_run_id, metrics):
        if metrics.epoch == 2:
            first_done.set()
            assert asked.wait(WAIT)

    def work():
        out["result"] = run_with_branches(
            config,
            store,
            on_epoch=on_epoch,
            gate=gate,
            on_finished=out.setdefault("all", []).append,
            **kwargs,
        )

    thread = threading.Thread(target=work)
    thread.start()
    assert first_done.wait(WAIT)
    gate.request_pause()
    asked.set()
    assert gate.wait_paused(WAIT), "the run never paused"
    out["paused_epoch"] = gate.paused_epoch
    then()
    thread.join(WAIT)
    assert not thread.is_alive()
    return out


def test_pause_then_continue_changes_no_number(config):
    store = RunStore()
    plain = run_recorded(config, store)
    gate = PauseGate()
    out = paused_at_epoch_2(config, store, gate, gate.resume)
    assert out["paused_epoch"] == 2
    result = out["result"]
    assert result.status == "completed" and result.epochs_run == 6
    assert len(out["all"]) == 1  # one run: the same fit went on
    for key, values in plain.history.items():
        np.testing.assert_allclose(result.history[key], values, atol=1e-4, err_msg=key)


def test_stop_while_paused_stops_and_keeps_the_epochs(config):
    store = RunStore()
    stop = threading.Event()
    gate = PauseGate()
    out = paused_at_epoch_2(config, store, gate, stop.set, should_stop=stop.is_set)
    result = out["result"]
    assert result.status == "stopped" and result.epochs_run == 2
    assert "while paused" in result.message
    assert len(store.get_run(result.run_id).history["loss"]) == 2


def test_a_branch_goes_on_from_the_parents_weights_and_is_linked(config):
    store = RunStore()
    gate = PauseGate()
    child_config = config.replace({"model.dropout": 0.3})
    out = paused_at_epoch_2(config, store, gate, lambda: gate.resume(child_config))
    parent, child = out["all"]
    assert parent.status == "branched" and parent.epochs_run == 2
    assert child.config.model.dropout == 0.3
    assert child.epochs_run == 6 and len(child.history["loss"]) == 6
    stored_parent, stored_child = store.get_run(parent.run_id), store.get_run(child.run_id)
    assert stored_parent.status == "branched"
    assert (stored_child.parent_run_id, stored_child.branch_epoch) == (parent.run_id, 2)
    assert stored_child.branched_from == f"branched from run {parent.run_id} at epoch 2"
    # Epochs 1-2 are the parent's, copied; the child's own start at 3.
    assert stored_child.history["val_loss"][:2] == stored_parent.history["val_loss"]
    epochs = store.epochs(child.run_id)
    assert [e.epoch for e in epochs] == [1, 2, 3, 4, 5, 6]
    assert epochs[0].extras["from_run"] == parent.run_id and "from_run" not in epochs[2].extras
    # It goes on from the parent's weights: epoch 3's held-out loss sits by the
    # parent's epoch 2, far below a fresh model's first epoch.
    fresh_first = parent.history["train_eval_cross_entropy"][0]
    at_two = parent.history["train_eval_cross_entropy"][1]
    at_three = child.history["train_eval_cross_entropy"][2]
    assert abs(at_three - at_two) < 0.5 * (fresh_first - at_two)


def test_a_branch_that_trains_nothing_more_holds_the_parents_weights_exactly(config):
    store = RunStore()
    gate = PauseGate()
    out = paused_at_epoch_2(
        config, store, gate, lambda: gate.resume(config.replace({"training.epochs": 2}))
    )
    parent, child = out["all"]
    assert child.epochs_run == 2 and child.history["loss"] == parent.history["loss"]
    state = parent.branch.state
    got = [[np.asarray(w) for w in layer.get_weights()] for layer in weighted_layers(child.model)]
    for mine, theirs in zip(got, state.weights, strict=True):
        for a, b in zip(mine, theirs, strict=True):
            np.testing.assert_array_equal(a, b)
    # ...and those are the weights of a run that trained two epochs and never paused.
    two = train(config.replace({"training.epochs": 2}), load_dataset(config.data, 1))
    for layer, theirs in zip(weighted_layers(two.model), state.weights, strict=True):
        for a, b in zip(layer.get_weights(), theirs, strict=True):
            np.testing.assert_allclose(a, b, atol=1e-6)
    # The optimizer went on too: its step counter is the parent's.
    steps = int(np.asarray(child.model.optimizer.iterations))
    assert steps == int(dict(state.optimizer)[state.optimizer[0][0]]) > 0


def test_a_branch_with_nothing_changed_differs_only_by_what_it_cannot_carry(config):
    """Measured (docs/ARCHITECTURE.md): with a global seed, Keras 3's array adapter
    draws the same batch order in every epoch and every fit, and the dropout layers'
    random states are carried, so a branch with nothing changed goes on exactly."""
    dataset = load_dataset(config.data, 1)
    whole = train(config.replace({"model.dropout": 0.2}), dataset)
    first = train(config.replace({"model.dropout": 0.2, "training.epochs": 3}), dataset)
    state = capture_state(first.model, 3, first.history, config=first.config)
    rest = train(config.replace({"model.dropout": 0.2}), dataset, resume=state)
    assert rest.epochs_run == 6
    difference = np.max(
        np.abs(np.array(rest.history["val_loss"][3:]) - np.array(whole.history["val_loss"][3:]))
    )
    print(f"max |val_loss difference| over epochs 4-6: {difference:.6f}")
    assert rest.history["val_loss"][:3] == whole.history["val_loss"][:3]
    assert difference < 1e-4


def test_a_stored_run_continues_from_its_saved_model(config):
    store = RunStore()
    first = run_recorded(config.replace({"training.epochs": 3}), store)
    run, state = state_from_stored(store, first.run_id)
    assert state.epoch == 3 and state.optimizer is not None and state.note is None
    more = run_recorded(config.replace({"training.epochs": 5}), store, resume=state)
    stored = store.get_run(more.run_id)
    assert (stored.parent_run_id, stored.branch_epoch, stored.epochs_run) == (run.run_id, 3, 5)
    assert more.history["loss"][:3] == pytest.approx(first.history["loss"])
    script = script_for_run(stored)
    assert f"branched from run {run.run_id} at epoch 3" in script and "does NOT" in script
    assert (
        more.history["train_eval_cross_entropy"][3] < first.history["train_eval_cross_entropy"][0]
    )


def test_a_restored_best_epoch_continues_with_a_fresh_optimizer(config):
    store = RunStore()
    restoring = config.replace(
        {
            "training.learning_rate": 0.3,  # too high: the loss rises, so it stops early
            "early_stopping.enabled": True,
            "early_stopping.patience": 1,
            "early_stopping.restore_best_weights": True,
        }
    )
    first = run_recorded(restoring, store)
    if not first.restored_best or first.best_epoch >= first.epochs_run:
        pytest.skip("this run did not restore an earlier epoch")
    _run, state = state_from_stored(store, first.run_id)
    assert state.epoch == first.best_epoch and state.optimizer is None
    assert "optimizer starts afresh" in state.note


def test_continuing_a_run_without_a_model_is_one_clear_error(config):
    store = RunStore()
    result = run_recorded(config.replace({"training.epochs": 1}), store, save_model=False)
    with pytest.raises(FitGapError, match="no saved model"):
        state_from_stored(store, result.run_id)


def test_a_gate_released_before_the_epoch_ends_does_not_hold():
    gate = PauseGate()
    gate.request_pause()
    gate.resume()
    assert gate.hold(1, lambda: False) is None and not gate.is_paused()


def test_an_old_store_gets_the_branch_columns(tmp_path):
    path = tmp_path / "runs.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, "
            "created TEXT NOT NULL, finished TEXT, config TEXT NOT NULL, status TEXT NOT NULL, "
            "epochs_run INTEGER NOT NULL DEFAULT 0, best_epoch INTEGER, stopped_epoch INTEGER, "
            "restored_best INTEGER NOT NULL DEFAULT 0, best_metrics TEXT, last_metrics TEXT, "
            "diagnosis TEXT, message TEXT, model_file TEXT, pid INTEGER);"
            "CREATE TABLE epochs (run_id INTEGER NOT NULL, epoch INTEGER NOT NULL, "
            "metrics TEXT NOT NULL, seconds REAL, extras TEXT, PRIMARY KEY (run_id, epoch));"
        )
        db.execute(
            "INSERT INTO runs (name, created, config, status) VALUES ('old', 'x', ?, 'completed')",
            (RunConfig().to_json(indent=None),),
        )
    db.close()
    store = RunStore(tmp_path)
    (old,) = store.list_runs()
    assert (old.parent_run_id, old.branch_epoch, old.branched_from) == (None, None, None)
    assert old.to_dict()["parent_run_id"] is None
    state = TrainingState(old.run_id, 0, [], None)
    child = store.create_run(RunConfig(), parent_run_id=state.parent_run_id, branch_epoch=0)
    assert store.get_run(child).parent_run_id == old.run_id


def test_a_branch_inside_a_waiting_streak_stops_where_the_unpaused_run_stops():
    """EarlyStopping's and ReduceLROnPlateau's counters are replayed, not reset."""
    config = RunConfig.from_dict(
        {
            "data": {"source": "digits", "train_fraction": 0.3, "validation_split": 0.2},
            "model": {"hidden_units": [64], "dropout": 0.3},
            "training": {
                "epochs": 60,
                "batch_size": 32,
                "seed": 1,
                "learning_rate": 0.01,
                "lr_schedule": {"kind": "plateau", "factor": 0.5, "patience": 2},
            },
            "early_stopping": {"enabled": True, "patience": 3, "restore_best_weights": True},
        }
    )
    dataset = load_dataset(config.data, 1)
    whole = train(config, dataset)
    assert whole.stopped_epoch is not None and whole.stopped_epoch > 4
    k = whole.stopped_epoch - 2  # the wait is running here: a reset would stop later
    gate = PauseGate()
    out: dict = {}

    def pause_at_k(metrics):
        if metrics.epoch == k:
            gate.request_pause()

    thread = threading.Thread(
        target=lambda: out.setdefault("parent", train(config, dataset, pause_at_k, gate=gate))
    )
    thread.start()
    assert gate.wait_paused(WAIT)
    gate.resume(config.replace({"training.epochs": 61}))  # changes no number: it stops first
    thread.join(WAIT)
    branch = out["parent"].branch
    assert out["parent"].status == "branched" and branch.state.epoch == k
    rest = train(branch.config, dataset, resume=branch.state)
    assert (rest.stopped_epoch, rest.best_epoch) == (whole.stopped_epoch, whole.best_epoch)
    np.testing.assert_allclose(rest.history["val_loss"], whole.history["val_loss"], atol=1e-4)
    np.testing.assert_allclose(
        rest.history["learning_rate"], whole.history["learning_rate"], rtol=1e-6
    )
    for got, want in zip(rest.model.get_weights(), whole.model.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5)  # the same best weights restored
