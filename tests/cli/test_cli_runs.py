"""`fitgap runs list|show|delete` and `fitgap export ...` on a real store, plus the
presets in resources/presets (each a valid RunConfig)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from fitgap_gui.cli import main
from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.export.summary import lever_summary
from fitgap_gui.core.results.records import EpochMetrics, RunResult, best_epoch
from fitgap_gui.core.run.session import run_recorded
from fitgap_gui.core.store.runstore import RunStore

PRESETS = Path(__file__).resolve().parents[2] / "resources" / "presets"


def _record(store: RunStore, config: RunConfig, name: str, history: dict) -> RunResult:
    """A finished run written through the store's own API (no training: fast)."""
    run_id = store.create_run(config, name=name)
    n = len(history["loss"])
    for epoch in range(1, n + 1):
        metrics = {k: v[epoch - 1] for k, v in history.items()}
        store.append_epoch(run_id, EpochMetrics(epoch, metrics, seconds=0.01))
    result = RunResult(config, history, "completed", n, best_epoch(history), run_id=run_id)
    store.finish_run(run_id, result)
    return result


@pytest.fixture
def runs(tiny_config):
    store = RunStore()
    history = {
        "loss": [1.9, 1.2, 0.8],
        "accuracy": [0.3, 0.6, 0.8],
        "val_loss": [1.8, 1.3, 1.4],
        "val_accuracy": [0.3, 0.55, 0.5],
    }
    plain = _record(store, tiny_config, "plain", history)
    dropout = _record(store, tiny_config.replace({"model.dropout": 0.5}), "with dropout", history)
    return plain, dropout


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_runs_list_without_runs(capsys):
    assert main(["runs", "list"]) == 0
    assert "no runs yet" in capsys.readouterr().out
    assert main(["runs", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_runs_list_table_and_json(runs, capsys):
    plain, dropout = runs
    assert main(["runs", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "id",
        "name",
        "created",
        "status",
        "epochs",
        "delivered",
        "test_acc",
        "test_ce",
        "gap",
        "levers",
    ]
    assert len(lines) == 3 + 1 + 4  # header, two runs, a blank line, the note
    assert "with dropout" in lines[1] and "dropout 0.5" in lines[1]  # newest first
    assert "plain" in lines[2] and "completed" in lines[2]
    # Stored without a test part; the gap is read at the last epoch, 3: 80 - 50 %.
    assert "no test part" in lines[2] and "+30.0 pp" in lines[2]
    assert lines[4].startswith("delivered: the epoch of the model each run delivers")

    assert main(["runs", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["run_id"] for row in rows] == [dropout.run_id, plain.run_id]
    row = rows[1]
    best = plain.best_epoch
    assert row["best_epoch"] == best and row["epochs_run"] == 3
    assert row["best_val_loss"] == plain.metric_at("val_loss", best)
    assert row["gap_at_best"] == pytest.approx(
        plain.metric_at("accuracy", best) - plain.metric_at("val_accuracy", best)
    )
    assert row["levers"] == lever_summary(plain.config)


def test_runs_show_json_is_the_run_result_with_history(runs, capsys):
    plain, _ = runs
    assert main(["runs", "show", str(plain.run_id), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    expected = plain.to_dict()
    for key in ("config", "history", "epochs_run", "best_epoch", "stopped_epoch", "status"):
        assert shown[key] == expected[key], key
    assert shown["name"] == "plain" and shown["created"]

    assert main(["runs", "show", str(plain.run_id)]) == 0
    text = capsys.readouterr().out
    assert f"run {plain.run_id} 'plain': completed after 3 epochs" in text
    assert text.count("epoch ") >= 3 and "<- best" in text


def test_runs_delete(runs, capsys):
    plain, dropout = runs
    assert main(["runs", "delete", str(plain.run_id)]) == 0
    assert f"deleted run {plain.run_id}" in capsys.readouterr().out
    assert [r.run_id for r in RunStore().list_runs()] == [dropout.run_id]
    assert main(["runs", "delete", str(plain.run_id)]) == 2
    assert f"no run with id {plain.run_id}" in _one_error_line(capsys)


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["runs", "show", "999"], "no run with id 999"),
        (["runs", "show", "abc"], "invalid int value"),
        (["runs"], "required"),
        (["export", "csv", "999", "-o", "{tmp}/x.csv"], "no run with id 999"),
        (["export", "csv", "{id}", "-o", "{tmp}/no/such/x.csv"], "does not exist"),
        (["export", "json", "{id}", "-o", "{tmp}"], "is a folder"),
        (["export", "tensorboard", "{id}", "-o", "{tmp}/file"], "is a file"),
        (["export", "model", "{id}", "-o", "{tmp}/m.keras"], "has no saved model"),
        (["export", "pdf", "{id}", "-o", "{tmp}/x.pdf"], "invalid choice"),
        (["export", "csv", "{id}"], "required: -o/--output"),
    ],
)
def test_bad_input_is_exit_2_with_one_error_line(runs, tmp_path, capsys, argv, fragment):
    (tmp_path / "file").write_text("")
    argv = [a.format(tmp=tmp_path, id=runs[0].run_id) for a in argv]
    assert main(argv) == 2
    assert fragment in _one_error_line(capsys)


def test_export_every_format(runs, tmp_path, capsys):
    ids = [str(r.run_id) for r in runs]
    assert main(["export", "csv", *ids, "-o", str(tmp_path / "runs.csv")]) == 0
    with (tmp_path / "runs.csv").open(newline="") as f:
        assert len(list(csv.DictReader(f))) == 6
    assert main(["export", "json", *ids, "-o", str(tmp_path / "runs.json")]) == 0
    assert len(json.loads((tmp_path / "runs.json").read_text())["runs"]) == 2
    assert main(["export", "script", ids[0], "-o", str(tmp_path / "run.py")]) == 0
    compile((tmp_path / "run.py").read_text(), "run.py", "exec")
    assert main(["export", "script", *ids, "-o", str(tmp_path / "scripts")]) == 0
    assert sorted(p.name for p in (tmp_path / "scripts").iterdir()) == [
        f"run-{i}.py" for i in sorted(ids)
    ]
    trained = run_recorded(runs[0].config, RunStore(), name="trained")
    assert main(["export", "model", str(trained.run_id), "-o", str(tmp_path / "m.keras")]) == 0
    assert (tmp_path / "m.keras").read_bytes() == RunStore().model_path(trained.run_id).read_bytes()
    assert main(["export", "tensorboard", *ids, "-o", str(tmp_path / "tb")]) == 0
    assert sorted(p.name for p in (tmp_path / "tb").iterdir()) == ["plain", "with-dropout"]
    printed = capsys.readouterr().out.splitlines()
    assert str(tmp_path / "runs.csv") in printed and str(tmp_path / "m.keras") in printed


def test_real_process_shares_the_store_and_reports_errors(runs, tmp_path, fitgap_home):
    """The installed entry point, in its own process, sees the runs made here."""
    command = [sys.executable, "-m", "fitgap_gui.cli"]
    listed = subprocess.run(
        [*command, "runs", "list", "--json"], capture_output=True, text=True, check=True
    )
    assert [row["name"] for row in json.loads(listed.stdout)] == ["with dropout", "plain"]
    failed = subprocess.run(
        [*command, "export", "csv", "12345", "-o", str(tmp_path / "x.csv")],
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 2
    assert failed.stderr.strip().splitlines() == [
        f"error: no run with id 12345 in {fitgap_home / 'runs.sqlite3'}"
    ]
    assert "Traceback" not in failed.stderr


def test_every_preset_is_a_valid_config():
    presets = sorted(PRESETS.glob("*.json"))
    assert {p.name for p in presets} >= {
        "dropout-0.5.json",
        "early-stopping.json",
        "l2-0.01.json",
        "memorize-noisy-labels.json",
    }
    for path in presets:
        RunConfig.load(path)  # raises ConfigError naming the file and key
    summary = {p.stem: lever_summary(RunConfig.load(p)) for p in presets}
    assert summary["dropout-0.5"].startswith("dropout 0.5")
    assert summary["early-stopping"].startswith("ES p=3")
    assert summary["l2-0.01"].startswith("L2 0.01")
    assert "label noise 40%" in summary["memorize-noisy-labels"]
    es = RunConfig.load(PRESETS / "early-stopping.json").early_stopping
    assert (es.enabled, es.monitor, es.patience, es.restore_best_weights) == (
        True,
        "val_loss",
        3,
        True,
    )
    l2 = RunConfig.load(PRESETS / "l2-0.01.json").model
    assert (l2.l2, l2.hidden_units) == (0.01, [128])
    for name in ("dropout-0.5", "early-stopping", "l2-0.01", "memorize-noisy-labels"):
        assert RunConfig.load(PRESETS / f"{name}.json").data.source == "digits"
