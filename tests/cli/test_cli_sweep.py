"""`fitgap sweep`: one recorded run per value, rows on stdout and in --out."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys

import pytest

from fitgap_gui.cli import main
from fitgap_gui.core.store.runstore import RunStore


def test_sweep_writes_one_csv_row_per_value(config_file, tmp_path, capsys):
    out = tmp_path / "curve.csv"
    args = ["sweep", "--config", str(config_file), "--param", "model.dropout"]
    args += ["--repeats", "1", "--workers", "1"]  # in this process: rows in plan order
    assert main([*args, "--values", "0,0.4", "--epochs", "2", "--out", str(out)]) == 0
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["value"] for row in rows] == ["0", "0.4"]
    assert {row["param"] for row in rows} == {"model.dropout"}
    store = RunStore()
    for row in rows:
        run = store.get_run(int(row["run_id"]))
        assert run.config.model.dropout == float(row["value"])
        assert run.config.training.epochs == 2 == int(row["epochs_run"])
        assert float(row["val_loss"]) == pytest.approx(run.best_metrics["val_loss"])
        assert int(row["best_epoch"]) == run.best_epoch
    stdout = capsys.readouterr().out.splitlines()
    table = [line.split() for line in stdout if line.split()[-1] == "completed"]
    assert [(line[0], line[-2]) for line in table] == [(r["value"], r["run_id"]) for r in rows]


def test_sweep_writes_json_when_the_name_is_not_csv(config_file, tmp_path):
    out = tmp_path / "curve.json"
    args = ["sweep", "--config", str(config_file), "--param", "model.hidden_units"]
    args += ["--repeats", "1", "--workers", "1"]  # in this process: rows in plan order
    assert main([*args, "--values", "4,[8,8]", "--epochs", "1", "--out", str(out)]) == 0
    payload = json.loads(out.read_text())
    assert payload["param"] == "model.hidden_units"
    assert [row["value"] for row in payload["rows"]] == [4, [8, 8]]
    configs = [RunStore().get_run(row["run_id"]).config for row in payload["rows"]]
    assert [c.model.hidden_units for c in configs] == [[4], [8, 8]]


@pytest.mark.parametrize(
    ("param", "values", "fragment"),
    [
        ("model.dropoutt", "0,0.2", "unknown setting 'model.dropoutt'"),
        ("model.dropout", "0,1.5", "value 1.5 for model.dropout"),
        ("model.dropout", "0,,0.2", "empty value"),
        ("training.learning_rate", "fast", "training.learning_rate must be a number"),
    ],
)
def test_bad_param_or_value_exits_2_before_any_training(
    config_file, param, values, fragment, capsys
):
    args = ["sweep", "--config", str(config_file), "--param", param, "--values", values]
    assert main(args) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:")
    assert fragment in err[0]
    assert captured.out == ""
    assert RunStore().list_runs() == []


def test_sweep_requires_param_and_values(capsys):
    assert main(["sweep", "--values", "0,1"]) == 2
    assert "--param" in capsys.readouterr().err


def test_ctrl_c_stops_the_running_value_keeps_the_rows_and_exits_130(config_file, tmp_path):
    # The first value trains 2 epochs, the second practically forever: Ctrl+C after the
    # first row must stop the second run cleanly and still write both rows.
    out = tmp_path / "rows.json"
    args = ["sweep", "--config", str(config_file), "--param", "training.epochs"]
    args += ["--repeats", "1", "--workers", "1"]  # in this process: rows in plan order
    proc = subprocess.Popen(
        [sys.executable, "-m", "fitgap_gui.cli", *args, "--values", "2,100000", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.rstrip().endswith("completed"):
                break
        proc.send_signal(signal.SIGINT)
        rest, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    stdout = "".join(lines) + rest
    assert proc.returncode == 130, stderr
    rows = [(row["value"], row["status"]) for row in json.loads(out.read_text())["rows"]]
    # Ctrl+C lands inside the second run (usual) or just before it starts.
    assert rows in ([(2, "completed"), (100000, "stopped")], [(2, "completed")])
    # The last row of the table (its key line follows it) is the last run's.
    table = stdout.split("\nkey:")[0].splitlines()
    assert table[-1].split()[-1] == rows[-1][1]
    assert stdout.rstrip().endswith("measured)")  # the key line, printed even when stopped
    assert "Traceback" not in stderr


def test_sweep_repeats_each_value_and_summarizes_per_value(config_file, tmp_path, capsys):
    out = tmp_path / "curve.json"
    args = ["sweep", "--config", str(config_file), "--param", "model.dropout", "--epochs", "2"]
    args += ["--workers", "1"]  # in this process: no worker start-up in a unit test
    assert main([*args, "--values", "0,0.5", "--repeats", "2", "--out", str(out)]) == 0
    payload = json.loads(out.read_text())
    assert [(row["value"], row["seed"]) for row in payload["rows"]] == [
        (0, 1),
        (0, 1 + 1),
        (0.5, 1),
        (0.5, 1 + 1),
    ]
    arms = payload["summary"]["arms"]
    assert [arm["name"] for arm in arms] == ["0", "0.5"]
    assert arms[0]["run_ids"] == [row["run_id"] for row in payload["rows"][:2]]
    assert arms[0]["versus_baseline"] is None
    # Two seeds: the paired numbers, and no verdict drawn from them.
    assert arms[1]["versus_baseline"]["verdict"] == "too_few_seeds"
    assert arms[1]["versus_baseline"]["mean"] is not None
    assert list(arms[1]["delivered"]) == ["test_cross_entropy", "test_accuracy", "epoch"]
    assert payload["summary"]["metric"] in ("test_cross_entropy", "val_cross_entropy")
    rows = payload["rows"]
    assert all(row["delivered_epoch"] == 2 for row in rows)  # no early stopping: the last
    stdout = capsys.readouterr().out
    assert "over the seeds" in stdout and "0.5" in stdout.split("over the seeds")[1]
