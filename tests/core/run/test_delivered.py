"""The delivered model, judged once on the test part (real, tiny Keras runs).

Every run ends with ``evaluate_delivered`` on the model it delivers: early stopping's
restored weights when it restored them, else the last epoch's.  The test numbers are
computed as ``val_cross_entropy`` is, so a test part equal to the validation rows must
read exactly the validation numbers of the delivered epoch.  Nothing else changes: the
history stays the plain Keras program's, and no random number is drawn.
"""

from __future__ import annotations

import dataclasses
import json
import random

import numpy as np
import pytest
from support.plain_keras import plain_keras_history

from fitgap_gui.cli import main
from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import Dataset, load_dataset
from fitgap_gui.core.experiments.executors.base import PlanItem, PlanRecorder
from fitgap_gui.core.export.files import export_runs
from fitgap_gui.core.model.measurements import evaluate_delivered
from fitgap_gui.core.run.session import run_recorded
from fitgap_gui.core.run.training import train
from fitgap_gui.core.store.runstore import RunStore

SEED = 11


def npz_config(path, *, epochs=6, dropout=0.0, es=None) -> RunConfig:
    return RunConfig.from_dict(
        {
            "data": {"source": "npz", "path": str(path)},
            "model": {"hidden_units": [32], "dropout": dropout},
            "training": {
                "learning_rate": 0.003,
                "batch_size": 16,
                "epochs": epochs,
                "seed": SEED,
            },
            "early_stopping": {"enabled": bool(es), **(es or {})},
        }
    )


def with_test(dataset: Dataset, x_test, y_test) -> Dataset:
    """``dataset`` with a test part given by hand."""
    return dataclasses.replace(dataset, x_test=x_test, y_test=y_test)


def val_as_test(dataset: Dataset) -> Dataset:
    return with_test(dataset, dataset.x_val.copy(), dataset.y_val.copy())


def test_the_last_epochs_model_reads_its_own_validation_numbers(presplit_npz):
    config = npz_config(presplit_npz)
    dataset = val_as_test(load_dataset(config.data, SEED))
    result = train(config, dataset)
    assert result.status == "completed" and result.test is not None
    test = result.test
    assert test["epoch"] == result.epochs_run == 6
    assert test["n"] == len(dataset.y_val)
    assert test["cross_entropy"] == pytest.approx(result.history["val_cross_entropy"][-1], abs=1e-6)
    assert test["accuracy"] == pytest.approx(result.history["val_accuracy"][-1], abs=1e-6)


def test_early_stoppings_restored_epoch_is_the_delivered_one(presplit_npz):
    es = {"monitor": "val_loss", "patience": 1, "restore_best_weights": True}
    config = npz_config(presplit_npz, epochs=40, dropout=0.3, es=es)
    config = config.replace({"training.learning_rate": 0.03})  # overfits fast: it stops
    dataset = val_as_test(load_dataset(config.data, SEED))
    result = train(config, dataset)
    assert result.restored_best and result.test is not None
    delivered = result.test["epoch"]
    assert delivered == result.best_epoch < result.epochs_run  # not the last epoch
    ce = result.history["val_cross_entropy"][delivered - 1]
    assert result.test["cross_entropy"] == pytest.approx(ce, abs=1e-6)
    last = result.history["val_cross_entropy"][-1]
    assert abs(result.test["cross_entropy"] - last) > 1e-4  # the last epoch's would differ


def test_early_stopping_without_restoring_delivers_the_last_epoch(presplit_npz):
    es = {"monitor": "val_loss", "patience": 1, "restore_best_weights": False}
    config = npz_config(presplit_npz, epochs=40, es=es).replace({"training.learning_rate": 0.03})
    dataset = val_as_test(load_dataset(config.data, SEED))
    result = train(config, dataset)
    assert result.status == "early_stopped" and not result.restored_best
    assert result.test is not None and result.test["epoch"] == result.epochs_run
    last = result.history["val_cross_entropy"][-1]
    assert result.test["cross_entropy"] == pytest.approx(last, abs=1e-6)


def test_no_test_part_no_test_numbers(presplit_npz):
    """An NPZ with its own validation rows but no test rows has no test part."""
    config = npz_config(presplit_npz, epochs=2)
    dataset = load_dataset(config.data, SEED)
    assert not dataset.has_test
    result = train(config, dataset)
    assert result.test is None
    out = result.to_dict()
    assert "test" in out and out["test"] is None


def test_the_test_part_changes_no_number_of_the_history(presplit_npz):
    """Plain Keras's history to 1e-4 with the test part on; its labels change nothing."""
    es = {"monitor": "val_loss", "patience": 1, "min_delta": 0.0, "restore_best_weights": True}
    config = npz_config(presplit_npz, epochs=6, dropout=0.3, es=es)
    plain = load_dataset(config.data, SEED)
    rng = np.random.default_rng(0)
    x_test = rng.random((30, plain.x_train.shape[1])).astype(np.float32) * 16
    y_test = rng.integers(0, 10, 30)
    first = train(config, with_test(plain, x_test, y_test))
    relabelled = train(config, with_test(plain, x_test, (y_test + 1) % 10))
    without = train(config, plain)
    assert first.history == relabelled.history == without.history  # exactly
    assert first.test != relabelled.test  # the labels were read, by the test alone
    expected = plain_keras_history(presplit_npz, SEED, [32], 0.3, 0.0, 0.003, 16, 6, es)
    for key, values in expected.items():
        assert np.allclose(first.history[key], values, atol=1e-4, rtol=0), key


def _random_states(model) -> list:
    import keras
    from keras.src.backend.common import global_state

    states = [np.random.get_state()[1].copy(), random.getstate()]
    generator = global_state.get_global_attribute("global_seed_generator")
    if generator is not None:
        states.append(keras.ops.convert_to_numpy(generator.state).copy())
    for layer in model.layers:
        seeds = getattr(layer, "seed_generator", None)
        if seeds is not None:
            states.append(keras.ops.convert_to_numpy(seeds.state).copy())
    return states


def test_the_evaluation_draws_no_random_number(presplit_npz):
    config = npz_config(presplit_npz, epochs=2, dropout=0.5)
    dataset = load_dataset(config.data, SEED)
    result = train(config, dataset)
    model = result.model
    assert any(layer.__class__.__name__ == "Dropout" for layer in model.layers)
    before = _random_states(model)
    weights = [w.copy() for w in model.get_weights()]
    first = evaluate_delivered(model, dataset.x_val, dataset.y_val, 2, rows_per_call=7)
    second = evaluate_delivered(model, dataset.x_val, dataset.y_val, 2)
    after = _random_states(model)
    # numpy's, Python's, the Dropout's (and Keras's global one, once made).
    assert len(before) == len(after) >= 3
    for a, b in zip(before, after, strict=True):
        assert np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights(), strict=True))
    # Inference mode: dropout off, so two evaluations (any chunking) agree.
    assert first["cross_entropy"] == pytest.approx(second["cross_entropy"], abs=1e-6)
    assert first["accuracy"] == pytest.approx(second["accuracy"], abs=1e-6)


def test_recorded_stored_shown_and_exported_model_is_the_delivered_one(
    presplit_npz, tmp_path, capsys
):
    es = {"monitor": "val_loss", "patience": 1, "restore_best_weights": True}
    config = npz_config(presplit_npz, epochs=40, es=es).replace({"training.learning_rate": 0.03})
    dataset = load_dataset(config.data, SEED)
    rows = np.arange(len(dataset.y_val)) % 2 == 0  # half of the rows, as a test part
    dataset = with_test(dataset, dataset.x_val[rows], dataset.y_val[rows])
    store = RunStore()
    result = run_recorded(config, store, dataset=dataset)
    assert result.test is not None and result.test["epoch"] < result.epochs_run
    stored = store.get_run(result.run_id)
    assert stored.test == pytest.approx(result.test)
    assert stored.to_dict()["test"] == pytest.approx(result.test)
    assert stored.provenance is not None and "test" in stored.provenance["fingerprints"]

    assert main(["runs", "show", str(result.run_id), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["test"] == pytest.approx(result.test)
    assert main(["export", "json", str(result.run_id), "-o", str(tmp_path / "runs.json")]) == 0
    exported = json.loads((tmp_path / "runs.json").read_text())
    assert exported["runs"][0]["test"] == pytest.approx(result.test)

    # fitgap export model writes the delivered model: the same test numbers.
    import keras

    (path,) = export_runs(store, "model", [result.run_id], tmp_path / "model.keras")
    loaded = keras.models.load_model(path)
    again = evaluate_delivered(loaded, dataset.x_test, dataset.y_test, result.test["epoch"])
    assert again == pytest.approx(result.test, abs=1e-6)


def test_a_run_without_a_test_part_stores_null(presplit_npz, capsys):
    config = npz_config(presplit_npz, epochs=1)
    store = RunStore()
    result = run_recorded(config, store, dataset=load_dataset(config.data, SEED))
    assert result.test is None and store.get_run(result.run_id).test is None
    assert main(["runs", "show", str(result.run_id), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert "test" in shown and shown["test"] is None


def test_a_workers_result_keeps_its_test_numbers_in_the_store(tiny_config):
    """A worker process's result reaches the store through the parent's recorder."""
    store = RunStore()
    dataset = load_dataset(tiny_config.data, 1)
    recorder = PlanRecorder([PlanItem(tiny_config, "arm")], [dataset], store, None, None, None)
    run_id = recorder.started(0, "here")
    test = {"epoch": 3, "cross_entropy": 0.5, "accuracy": float("nan"), "n": 12}
    result = train(tiny_config, dataset)
    result.test, result.model = test, None  # as unpickled from a worker
    recorder.done(0, result, None)
    assert store.get_run(run_id).test == {
        "epoch": 3,
        "cross_entropy": 0.5,
        "accuracy": None,
        "n": 12,
    }
