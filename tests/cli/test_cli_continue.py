"""`fitgap train --continue RUN_ID`: a linked child run from a stored run's model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fitgap_gui.cli import main
from fitgap_gui.core.store.runstore import RunStore


@pytest.fixture
def two_epochs_file(write_config, tiny_config):
    """The tiny run with 2 epochs, as a JSON file."""
    return write_config(tiny_config.replace({"training.epochs": 2}))


def test_continue_trains_more_epochs_as_a_linked_run(two_epochs_file, tmp_path, capsys):
    assert main(["train", "--config", str(two_epochs_file)]) == 0
    (parent,) = RunStore().list_runs()
    changed = tmp_path / "changed.json"
    config = json.loads(two_epochs_file.read_text())
    config["model"]["dropout"] = 0.25
    changed.write_text(json.dumps(config))
    out = tmp_path / "child.json"
    args = ["train", "--continue", str(parent.run_id), "--config", str(changed)]
    assert main([*args, "--epochs", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"continuing run {parent.run_id} from epoch 2" in printed
    assert f"branched from run {parent.run_id} at epoch 2" in printed
    result = json.loads(out.read_text())
    assert result["epochs_run"] == 4 and result["config"]["model"]["dropout"] == 0.25
    child = RunStore().get_run(result["run_id"])
    assert (child.parent_run_id, child.branch_epoch) == (parent.run_id, 2)
    assert main(["runs", "show", str(child.run_id)]) == 0
    shown = capsys.readouterr().out
    assert f"branched from run {parent.run_id} at epoch 2" in shown
    assert "epoch 4/4" in shown


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ([], "no run with id 99"),
        (["--seed", "3"], "--seed cannot be used"),
    ],
)
def test_continue_bad_input_is_one_error_line(extra, fragment, capsys):
    assert main(["train", "--continue", "99", *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and fragment in err[0]


def test_continue_a_run_without_a_model_or_epochs_left(two_epochs_file, capsys):
    assert main(["train", "--config", str(two_epochs_file)]) == 0
    (run,) = RunStore().list_runs()
    capsys.readouterr()
    assert main(["train", "--continue", str(run.run_id)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "give --epochs N to train N more" in err[0]
    RunStore().model_path(run.run_id).unlink()
    assert main(["train", "--continue", str(run.run_id), "--epochs", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "has no saved model" in err[0]
    assert len(RunStore().list_runs()) == 1  # nothing was stored


def _csv(path, columns: int) -> str:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, columns))
    y = (x[:, 0] > 0).astype(int)
    header = ",".join([*(f"f{i}" for i in range(columns)), "label"])
    np.savetxt(path, np.c_[x, y], delimiter=",", header=header, comments="", fmt="%.4f")
    return str(path)


def test_a_refused_continue_leaves_the_store_as_it_was(tmp_path, capsys):
    """A damaged, foreign or misfitting model file, or data that changed shape: one
    error line each, and no child run (not even a failed one) is left behind."""
    data = _csv(tmp_path / "data.csv", 4)
    for units in ("16", "8"):
        config = {"model": {"hidden_units": [int(units)]}, "training": {"epochs": 2}}
        (tmp_path / f"u{units}.json").write_text(json.dumps(config))
        args = ["train", "--data", data, "--config", str(tmp_path / f"u{units}.json")]
        assert main(args) == 0
    store = RunStore()
    wide, narrow = sorted(run.run_id for run in store.list_runs())
    before = [(r.run_id, r.status, r.epochs_run) for r in store.list_runs()]
    model = store.model_path(wide)
    saved = model.read_bytes()
    capsys.readouterr()

    def refused(*fragments: str) -> None:
        assert main(["train", "--continue", str(wide), "--epochs", "1"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error:"), err
        assert all(fragment in err[0] for fragment in fragments), err[0]
        assert [(r.run_id, r.status, r.epochs_run) for r in RunStore().list_runs()] == before

    model.write_bytes(saved[: len(saved) // 2])  # truncated: it exists, but is damaged
    refused("is damaged", str(model))
    model.write_bytes(store.model_path(narrow).read_bytes())  # another run's model
    refused("layers differ")
    model.write_bytes(saved)
    _csv(tmp_path / "data.csv", 5)  # the data gained a column
    refused("data changed shape", "(4,)", "(5,)")
