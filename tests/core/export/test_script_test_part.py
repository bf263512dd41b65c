"""The exported Keras script judges the model it delivers on the test part, as FitGap did.

Its line before the last is ``{"test": {...}}``, equal to the run's test numbers to
1e-4; its last line stays the history's JSON.  Without a test part there is no such
line.  Where this branch's data has no test split, the test part is given by hand: the
same rows to FitGap's run and, by wrapping ``load_data``, to the script.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import threading

import numpy as np
import pytest

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import Dataset, load_dataset
from fitgap_gui.core.export.files import export_runs
from fitgap_gui.core.run.branching import PauseGate
from fitgap_gui.core.run.session import run_recorded, run_with_branches
from fitgap_gui.core.store.runstore import RunStore

#: Appended to an exported program: half of the validation rows become its test part.
HALF_OF_VALIDATION = '''

_load_data = load_data


def load_data():
    """The program's arrays, with half of the validation rows as a test part."""
    *parts, n_classes = _load_data()
    x_train, y_train, x_val, y_val = parts[:4]
    rows = np.arange(len(y_val)) % 2 == 0
    return x_train, y_train, x_val, y_val, x_val[rows], y_val[rows], n_classes
'''


def half_of_validation(dataset: Dataset) -> Dataset:
    rows = np.arange(len(dataset.y_val)) % 2 == 0
    return dataclasses.replace(dataset, x_test=dataset.x_val[rows], y_test=dataset.y_val[rows])


def run_script(store: RunStore, run_id: int, tmp_path, extra: str = "") -> list[str]:
    """The exported program of ``run_id`` (with ``extra`` before its main), its output lines."""
    (path,) = export_runs(store, "script", [run_id], tmp_path / f"run{run_id}.py")
    main = '\n\nif __name__ == "__main__":'
    text = path.read_text()
    assert main in text
    path.write_text(text.replace(main, extra + main))
    out = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=300, check=True
    )
    return out.stdout.strip().splitlines()


def assert_same(got: dict, want: dict, tolerance: float = 1e-4) -> None:
    assert set(want) <= set(got)
    for key, values in want.items():
        np.testing.assert_allclose(
            np.array(got[key], dtype=float), np.array(values, dtype=float), atol=tolerance
        )


@pytest.fixture
def early_config(presplit_npz) -> RunConfig:
    """Dropout and early stopping that restores: the delivered epoch is not the last."""
    return RunConfig.from_dict(
        {
            "data": {"source": "npz", "path": str(presplit_npz)},
            "model": {"hidden_units": [32], "dropout": 0.2},
            "training": {"learning_rate": 0.03, "batch_size": 16, "epochs": 40, "seed": 4},
            "early_stopping": {"enabled": True, "patience": 1, "restore_best_weights": True},
        }
    )


def test_the_script_prints_the_runs_test_numbers_before_its_history(early_config, tmp_path):
    store = RunStore()
    dataset = half_of_validation(load_dataset(early_config.data, 4))
    result = run_recorded(early_config, store, dataset=dataset)
    assert result.test is not None and result.test["epoch"] < result.epochs_run
    *_, test_line, history_line = run_script(store, result.run_id, tmp_path, HALF_OF_VALIDATION)
    test = json.loads(test_line)["test"]
    assert test["epoch"] == result.test["epoch"] and test["n"] == result.test["n"]
    assert test["cross_entropy"] == pytest.approx(result.test["cross_entropy"], abs=1e-4)
    assert test["accuracy"] == pytest.approx(result.test["accuracy"], abs=1e-4)
    assert_same(json.loads(history_line), result.history)


def test_without_a_test_part_the_last_line_is_the_history_alone(early_config, tmp_path):
    store = RunStore()
    config = early_config.replace({"training.epochs": 2})
    result = run_recorded(config, store)
    assert result.test is None
    lines = run_script(store, result.run_id, tmp_path)
    assert not any(line.startswith('{"test"') for line in lines)
    assert_same(json.loads(lines[-1]), result.history)


def test_a_branched_runs_script_judges_the_childs_model(early_config, tmp_path):
    """Paused at epoch 2, continued with another dropout: the child's delivered model."""
    store = RunStore()
    config = early_config.replace({"early_stopping.patience": 3, "training.epochs": 8})
    dataset = half_of_validation(load_dataset(config.data, 4))
    gate = PauseGate()
    results: list = []

    def work():
        run_with_branches(
            config,
            store,
            dataset=dataset,
            gate=gate,
            on_epoch=lambda _run_id, m: gate.request_pause() if m.epoch == 2 else None,
            on_finished=results.append,
        )

    thread = threading.Thread(target=work)
    thread.start()
    assert gate.wait_paused(120.0), "the run never paused"
    gate.resume(config.replace({"model.dropout": 0.4}))
    thread.join(300.0)
    assert not thread.is_alive()
    parent, child = results
    assert parent.status == "branched" and parent.test is not None
    assert child.test is not None and store.get_run(child.run_id).test is not None
    *_, test_line, history_line = run_script(store, child.run_id, tmp_path, HALF_OF_VALIDATION)
    test = json.loads(test_line)["test"]
    assert test["epoch"] == child.test["epoch"]
    assert test["cross_entropy"] == pytest.approx(child.test["cross_entropy"], abs=1e-4)
    assert test["accuracy"] == pytest.approx(child.test["accuracy"], abs=1e-4)
    assert_same(json.loads(history_line), child.history)


def test_the_data_steps_test_split_is_judged_alike(tiny_config, tmp_path):
    """The split the data steps draw (where this tree's data has a test part)."""
    config = tiny_config.replace({"data.train_fraction": 0.2})
    if not load_dataset(config.data, config.training.seed).has_test:
        pytest.skip("this tree's data steps draw no test part")
    store = RunStore()
    result = run_recorded(config, store)
    assert result.test is not None
    *_, test_line, history_line = run_script(store, result.run_id, tmp_path)
    test = json.loads(test_line)["test"]
    assert test == pytest.approx(result.test, abs=1e-4)
    assert_same(json.loads(history_line), result.history)
