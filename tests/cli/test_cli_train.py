"""`fitgap train`: the CLI contract of docs/ARCHITECTURE.md (exit codes, --out, --jsonl)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from fitgap_gui.cli import main
from fitgap_gui.core.model.measurements import TRAIN_EVAL_KEYS
from fitgap_gui.core.store.runstore import RunStore


def test_train_writes_the_run_result_json(config_file, tmp_path, capsys):
    out = tmp_path / "result.json"
    assert main(["train", "--config", str(config_file), "--epochs", "2", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["status"] == "completed"
    assert result["epochs_run"] == 2
    assert len(result["history"]["val_loss"]) == 2
    assert all(len(result["history"][key]) == 2 for key in TRAIN_EVAL_KEYS)
    assert result["config"]["training"]["epochs"] == 2
    assert result["stopped_epoch"] is None
    assert 1 <= result["best_epoch"] <= 2
    stored = RunStore().get_run(result["run_id"])
    assert stored.history["loss"] == pytest.approx(result["history"]["loss"])
    out = capsys.readouterr().out
    assert "completed after 2 epochs" in out
    assert f"diagnosis: {result['diagnosis']['summary']}" in out


def test_jsonl_prints_one_line_per_epoch(config_file, capsys):
    assert main(["train", "--config", str(config_file), "--jsonl", "--seed", "4"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2, 3]
    assert len({line["run_id"] for line in lines}) == 1
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(lines[0])
    assert set(TRAIN_EVAL_KEYS) <= set(lines[0])  # measured like validation, every epoch
    capsys.readouterr()
    assert main(["runs", "show", str(lines[0]["run_id"]), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)["history"]
    assert [shown[key][-1] for key in TRAIN_EVAL_KEYS] == [
        lines[-1][key] for key in TRAIN_EVAL_KEYS
    ]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["train", "--config", "{missing}"], "no such config file"),
        (["train", "--epochs", "0"], "training.epochs"),
        (["train", "--data", "{missing}.npz"], "no such file"),
        (["train", "--frobnicate"], "unrecognized arguments"),
        (["train", "--out", "{tmp}/no/such/dir/out.json"], "does not exist"),
    ],
)
def test_bad_input_exits_2_with_one_error_line(args, fragment, tmp_path, capsys):
    args = [a.format(missing=tmp_path / "missing.json", tmp=tmp_path) for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("error:")
    assert fragment in err[0]


def test_cli_process_bad_config_has_no_traceback(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"model": {"dropout": 1.5}}')
    proc = subprocess.run(
        [sys.executable, "-m", "fitgap_gui.cli", "train", "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ},
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {bad}: model.dropout must be in [0, 1), not 1.5"


def test_csv_that_used_to_be_refused_or_fail_now_trains(tmp_path, capsys):
    """Quoted line breaks, a trailing comma on every line, and a single-sample class
    that seed 7's plain split put in validation ("fewer than two classes")."""
    rows = "".join(f'{i},{i % 4},"{"common"}\u2028row",\n' for i in range(16))
    path = tmp_path / "odd.csv"
    path.write_text("f1,f2,label,\n" + rows + '99,9,"rare\nclass",\n', encoding="utf-8")
    assert main(["train", "--data", str(path), "--epochs", "1", "--seed", "7"]) == 0
    out = capsys.readouterr().out
    assert "10 training, 3 validation and 4 test samples" in out  # the test part first
    assert "test part: 4 samples, 20 % of the rows, drawn first" in out
    assert "has a single sample, too few to appear in both training and validation" in out
    assert "completed after 1 epochs" in out


def test_train_repeats_runs_one_seed_after_another_and_summarizes(config_file, tmp_path, capsys):
    """`--repeats 2`: seeds s and s+1 (each its own split), every run stored, and the
    mean with its 95 % t interval over them, checked against scipy here."""
    from scipy import stats

    out = tmp_path / "repeats.json"
    args = ["train", "--config", str(config_file), "--epochs", "2", "--seed", "5"]
    assert main([*args, "--repeats", "2", "--out", str(out)]) == 0
    payload = json.loads(out.read_text())
    runs = payload["runs"]
    assert [run["config"]["training"]["seed"] for run in runs] == [5, 6]
    assert {run.run_id for run in RunStore().list_runs()} == {run["run_id"] for run in runs}
    best = [run["history"]["val_cross_entropy"][run["best_epoch"] - 1] for run in runs]
    (arm,) = payload["summary"]["arms"]
    interval = arm["best"]["val_cross_entropy"]
    assert interval["mean"] == pytest.approx(sum(best) / 2)
    low, high = stats.t.interval(0.95, 1, loc=sum(best) / 2, scale=stats.sem(best))
    assert (interval["low"], interval["high"]) == pytest.approx((low, high))
    # The delivered models beside it (the last epoch's: no early stopping here).
    assert arm["delivered"]["epoch"] == {"mean": 2.0, "low": 2.0, "high": 2.0}
    tests = [run["test"] for run in runs if run.get("test")]
    metric = "test_cross_entropy" if len(tests) == 2 else "val_cross_entropy"
    assert payload["summary"]["metric"] == metric
    if tests:
        mean = sum(t["cross_entropy"] for t in tests) / 2
        assert arm["delivered"]["test_cross_entropy"]["mean"] == pytest.approx(mean)
    stdout = capsys.readouterr().out
    assert "over the 2 seeds" in stdout and "chosen on validation" in stdout


def test_train_repeats_below_one_is_one_error_line(config_file, capsys):
    assert main(["train", "--config", str(config_file), "--repeats", "0"]) == 2
    assert capsys.readouterr().err.strip() == "error: --repeats must be 1 or more, not 0"


def test_fitgap_train_prints_each_learning_rate_drop(write_config, tiny_config, capsys):
    config = tiny_config.replace({"training.lr_schedule": {"kind": "step", "every": 2}})
    path = write_config(config, "step.json")
    assert main(["train", "--config", str(path), "--epochs", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    drops = [line.strip() for line in lines if "learning rate" in line]
    assert drops == ["learning rate 0.001 -> 0.0005"]  # after epoch 2, once
    at = lines.index("  learning rate 0.001 -> 0.0005")
    assert lines[at - 1].startswith("epoch 3/3")  # under the epoch that used the new rate


def test_the_memory_check_runs_once_per_run(config_file, monkeypatch, capsys):
    """One ``fitgap train`` estimates its model's memory once per run: before the run's
    row and before TensorFlow builds (``session.check_run``), not again in the engine."""
    from fitgap_gui.core.model import memory

    seeds: list[int] = []
    estimate = memory.estimate_model_memory

    def counting(config, *args, **kwargs):
        seeds.append(config.training.seed)
        return estimate(config, *args, **kwargs)

    # Every check ends in this estimate (check_dataset_memory -> check_model_memory).
    monkeypatch.setattr(memory, "estimate_model_memory", counting)
    assert main(["train", "--config", str(config_file), "--epochs", "1"]) == 0
    assert seeds == [1]
    seeds.clear()
    assert main(["train", "--config", str(config_file), "--epochs", "1", "--repeats", "2"]) == 0
    assert seeds == [1, 2]
    assert len(RunStore().list_runs()) == 3


def test_fitgap_train_says_when_the_data_has_no_test_part(tmp_path, capsys):
    """An NPZ with its own validation rows but no test rows: no test part, and why."""
    import numpy as np

    rng = np.random.default_rng(0)
    path = tmp_path / "presplit.npz"
    y = np.arange(40) % 2
    np.savez(path, x_train=rng.normal(size=(30, 3)), y_train=y[:30],
             x_val=rng.normal(size=(10, 3)), y_val=y[30:])  # fmt: skip
    assert main(["train", "--data", str(path), "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "30 training and 10 validation samples (no test part)" in out
    assert "test part: none: the NPZ brings its own validation rows but no test rows" in out
