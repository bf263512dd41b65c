"""`fitgap compare`: the five remedy arms over several seeds, headless, as JSON."""

from __future__ import annotations

import json

import pytest

from fitgap_gui.cli import main
from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.store.runstore import RunStore

#: The base has dropout 0.7 (the top of its ladder) and L2 0.001: no dropout arm, and
#: the L2 arm takes the next step.  No arm is ever the baseline's configuration.
ARMS = ["baseline", "+ L2 0.01 (baseline has 0.001)", "+ early stopping (patience 5)", "both"]


@pytest.fixture
def moons_file(write_config):
    config = {
        "data": {"source": "moons", "n_samples": 80},
        "model": {"hidden_units": [8], "l2": 0.001, "dropout": 0.7},
        "training": {"epochs": 3, "batch_size": 16, "seed": 4},
    }
    return write_config(RunConfig.from_dict(config), "moons.json")


def test_compare_writes_the_summary_json(moons_file, tmp_path, capsys):
    out = tmp_path / "compare.json"
    args = ["compare", "--config", str(moons_file), "--repeats", "2", "--epochs", "2"]
    args += ["--workers", "1"]  # in this process: no worker start-up in a unit test
    assert main([*args, "--out", str(out)]) == 0
    payload = json.loads(out.read_text())
    assert [arm["name"] for arm in payload["arms"]] == ARMS
    # Judged by the delivered models' test cross-entropy when the data has a test
    # part; otherwise by the best validation cross-entropy, and the metric says so.
    test = payload["arms"][0]["delivered"]["test_cross_entropy"]["mean"] is not None
    assert payload["metric"] == ("test_cross_entropy" if test else "val_cross_entropy")
    store = RunStore()
    configs = []
    for arm in payload["arms"]:
        assert list(arm) == ["name", "run_ids", "delivered", "best", "versus_baseline"]
        assert list(arm["delivered"]) == ["test_cross_entropy", "test_accuracy", "epoch"]
        runs = [store.get_run(run_id) for run_id in arm["run_ids"]]
        assert [run.config.training.seed for run in runs] == [4, 5]  # seed order
        assert all(run.config.training.epochs == 2 for run in runs)
        configs.append(runs[0].config.to_dict())
        values = [run.best_metrics["val_cross_entropy"] for run in runs]
        assert arm["best"]["val_cross_entropy"]["mean"] == pytest.approx(sum(values) / 2)
        assert set(arm["best"]["val_accuracy"]) == {"mean", "low", "high"}
        epochs = [run.epochs_run for run in runs]  # no restore: the last epoch's model
        if not runs[0].config.early_stopping.enabled:
            assert arm["delivered"]["epoch"]["mean"] == pytest.approx(sum(epochs) / 2)
    assert all(config != configs[0] for config in configs[1:])
    baseline, l2, *_ = payload["arms"]
    assert baseline["versus_baseline"] is None
    assert store.get_run(l2["run_ids"][0]).config.model.l2 == 0.01
    # Two seeds: the numbers, and no verdict.
    assert {arm["versus_baseline"]["verdict"] for arm in payload["arms"][1:]} == {"too_few_seeds"}
    assert set(l2["versus_baseline"]) == {"mean", "low", "high", "seeds_agree", "verdict"}
    assert (
        store.get_run(l2["run_ids"][0]).name == "compare: + L2 0.01 (baseline has 0.001) (seed 4)"
    )
    stdout = capsys.readouterr().out
    assert "versus baseline" in stdout and "chosen on validation" in stdout
    # The per-run table's first column is the arm; every mark has its key line.
    assert any(line.split()[:2] == ["arm", "epoch"] for line in stdout.splitlines())
    assert "key: epoch = the delivered model's epoch" in stdout and "key: m ± h" in stdout
    assert "patience 5: compare remedies' patience" in stdout
    # A baseline whose best epoch is its last (on some seed) did not overfit: said so.
    flat = [r for r in map(store.get_run, baseline["run_ids"]) if r.best_epoch == r.epochs_run]
    if flat:
        assert payload["note"].startswith("the baseline did not overfit")
        assert f"note: {payload['note']}" in stdout
    else:
        assert payload["note"] is None
    assert "no dropout arm: the baseline's dropout 0.7 is at or past 0.7" in stdout
    assert "too few seeds for a verdict (2 paired, 3 needed)" in stdout


def test_compare_refuses_bad_repeats_before_training(moons_file, capsys):
    assert main(["compare", "--config", str(moons_file), "--repeats", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "repeats" in err[0]
    assert RunStore().list_runs() == []
