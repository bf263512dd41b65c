"""The exported Keras script of a branched run reproduces the branch (real Keras fits).

A run is paused at epoch 2 through ``session.run_with_branches`` and continued with
changed levers; the child's exported script runs in a subprocess and its history (the
parent's epochs 1..2, then the branch's) must equal the stored child run's to 1e-4.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import threading

import numpy as np
import pytest

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.export.files import export_runs, script_for_run
from fitgap_gui.core.run.branching import PauseGate, state_from_stored
from fitgap_gui.core.run.session import run_recorded, run_with_branches
from fitgap_gui.core.store.runstore import RunStore

WAIT = 120.0  # seconds: generous for two shared cores; the tests never sleep
K = 2


@pytest.fixture
def parent_config(tiny_config) -> RunConfig:
    """Dropout, ReduceLROnPlateau and EarlyStopping: everything a branch carries."""
    return tiny_config.replace(
        {
            "training.epochs": 5,
            "training.learning_rate": 0.01,
            "data.train_fraction": 0.1,
            "model.dropout": 0.2,
            "training.lr_schedule": {"kind": "plateau", "factor": 0.5, "patience": 1},
            "early_stopping.enabled": True,
            "early_stopping.patience": 4,
            "early_stopping.restore_best_weights": True,
        }
    )


def branched_at_k(config: RunConfig, child: RunConfig, store: RunStore):
    """Train ``config``, pause it at the end of epoch K, continue it as ``child``."""
    gate = PauseGate()
    out: dict = {}

    def on_epoch(_run_id, metrics):
        if metrics.epoch == K:
            gate.request_pause()  # held at this epoch's end, inside fit

    def work():
        out["result"] = run_with_branches(
            config,
            store,
            on_epoch=on_epoch,
            gate=gate,
            on_finished=out.setdefault("all", []).append,
        )

    thread = threading.Thread(target=work)
    thread.start()
    assert gate.wait_paused(WAIT), "the run never paused"
    gate.resume(child)
    thread.join(WAIT)
    assert not thread.is_alive()
    parent, last = out["all"]
    assert parent.status == "branched" and parent.epochs_run == K
    return store.get_run(parent.run_id), store.get_run(last.run_id)


def run_exported(store: RunStore, run_id: int, tmp_path) -> dict[str, list[float]]:
    (path,) = export_runs(store, "script", [run_id], tmp_path / f"run{run_id}.py")
    text = path.read_text()
    assert "fitgap" not in "".join(
        ast.unparse(node)
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.Import | ast.ImportFrom)
    )
    out = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=300, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def layers(text: str, name: str = "LAYERS") -> str:
    """The layer plan a program prints, as its text."""
    return text.split(f"\n{name} = ")[1].split("\n]")[0]


def parent_layers(text: str) -> str:
    return layers(text, "PARENT_LAYERS")


def assert_same_history(got: dict, stored: dict) -> float:
    """Every stored key, epoch by epoch, to 1e-4; returns the largest difference."""
    assert set(stored) <= set(got), set(stored) - set(got)
    worst = 0.0
    for key, values in stored.items():
        assert len(got[key]) == len(values), key
        a, b = np.array(got[key], dtype=float), np.array(values, dtype=float)
        np.testing.assert_allclose(a, b, atol=1e-4, err_msg=key)
        worst = max(worst, float(np.nanmax(np.abs(a - b))))
    return worst


def test_a_branch_with_changed_dropout_and_rate_is_reproduced(parent_config, tmp_path):
    store = RunStore(tmp_path / "store")
    child_config = parent_config.replace({"model.dropout": 0.4, "training.learning_rate": 0.003})
    parent, child = branched_at_k(parent_config, child_config, store)
    assert (child.parent_run_id, child.branch_epoch) == (parent.run_id, K)
    text = script_for_run(child, store)
    assert parent_layers(text) != layers(text) and '{"layer": "Dropout", "rate": 0.2}' in text
    assert "does NOT" not in text
    got = run_exported(store, child.run_id, tmp_path)
    worst = assert_same_history(got, child.history)
    print(f"max |difference| (changed dropout and rate), all keys and epochs: {worst:.2e}")
    # The branch differs from training the child's config from scratch: the test
    # would catch a script that ignored the branch.
    scratch = run_recorded(child_config, store)
    assert np.max(np.abs(np.array(scratch.history["val_loss"]) - child.history["val_loss"])) > 1e-3


def test_a_branch_with_nothing_changed_is_reproduced(parent_config, tmp_path):
    store = RunStore(tmp_path / "store")
    child_config = parent_config.replace({"training.epochs": 6})  # changes no number
    parent, child = branched_at_k(parent_config, child_config, store)
    text = script_for_run(child, store)
    assert parent_layers(text) == layers(text)  # one plan for both
    assert "the rate the parent reached" in text
    got = run_exported(store, child.run_id, tmp_path)
    worst = assert_same_history(got, child.history)
    print(f"max |difference| (nothing changed), all keys and epochs: {worst:.2e}")
    assert got["val_loss"][:K] == pytest.approx(parent.history["val_loss"], abs=1e-4)


def test_a_chain_says_only_one_level_is_written_out(tiny_config, tmp_path):
    store = RunStore(tmp_path / "store")
    config = tiny_config.replace({"training.epochs": 4, "data.train_fraction": 0.1})
    first, second = branched_at_k(config, config.replace({"model.dropout": 0.3}), store)
    # A stored run continued from its saved model: the second level of the chain.
    _run, state = state_from_stored(store, second.run_id)
    third_config = second.config.replace({"model.dropout": 0.1, "training.epochs": 5})
    third = store.get_run(run_recorded(third_config, store, resume=state).run_id)
    assert (third.parent_run_id, third.branch_epoch) == (second.run_id, 4)
    text = script_for_run(third, store)
    assert f"Run {second.run_id} was itself a branch (of run {first.run_id})" in text
    assert "only one" in text
    # Without the store the parent is not at hand: from scratch, said plainly.
    assert "does NOT reproduce" in script_for_run(third)


def test_a_branch_that_changes_schedule_batch_size_and_l2_is_reproduced(tiny_config, tmp_path):
    """A step schedule becomes a cosine one, with a smaller batch and an L2 penalty."""
    store = RunStore(tmp_path / "store")
    config = tiny_config.replace(
        {
            "training.epochs": 4,
            "training.learning_rate": 0.01,
            "data.train_fraction": 0.1,
            "training.lr_schedule": {"kind": "step", "every": 1, "factor": 0.5},
        }
    )
    child_config = config.replace(
        {
            "training.batch_size": 8,
            "model.l2": 0.001,
            "training.lr_schedule": {"kind": "cosine", "warmup_epochs": 0},
        }
    )
    _parent, child = branched_at_k(config, child_config, store)
    text = script_for_run(child, store)
    parent_training = text.split("\nPARENT_TRAINING = ")[1].split("\n}")[0]
    assert '"schedule": {"kind": "step", "every": 1, "factor": 0.5}' in parent_training
    assert "PARENT_BATCH_SIZE = 16" in text
    got = run_exported(store, child.run_id, tmp_path)
    worst = assert_same_history(got, child.history)
    print(f"max |difference| (schedule, batch size, L2), all keys and epochs: {worst:.2e}")


def test_a_stored_run_continued_from_its_model_is_reproduced(parent_config, tmp_path):
    """``fitgap train --continue``'s path: the parent completed, its saved model went on."""
    store = RunStore(tmp_path / "store")
    first = run_recorded(parent_config.replace({"training.epochs": K}), store)
    _run, state = state_from_stored(store, first.run_id)
    more = parent_config.replace({"model.dropout": 0.3, "training.epochs": 4})
    child = store.get_run(run_recorded(more, store, resume=state).run_id)
    assert (child.parent_run_id, child.branch_epoch) == (first.run_id, K)
    assert "does NOT" not in script_for_run(child, store)
    got = run_exported(store, child.run_id, tmp_path)
    worst = assert_same_history(got, child.history)
    print(f"max |difference| (continued from a stored model), all keys and epochs: {worst:.2e}")
