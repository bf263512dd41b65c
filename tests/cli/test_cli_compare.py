"""`fitgap compare`: the five remedy arms over several seeds, headless, as JSON."""

from __future__ import annotations

import json

import pytest

from fitgap_gui.cli import main
from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.store.runstore import RunStore

ARMS = ["baseline", "+ dropout 0.3", "+ L2 0.001", "+ early stopping (patience 5)", "all three"]


@pytest.fixture
def moons_file(write_config):
    config = {
        "data": {"source": "moons", "n_samples": 80},
        "model": {"hidden_units": [8], "l2": 0.001},  # the L2 arm equals the baseline
        "training": {"epochs": 3, "batch_size": 16, "seed": 4},
    }
    return write_config(RunConfig.from_dict(config), "moons.json")


def test_compare_writes_the_summary_json(moons_file, tmp_path, capsys):
    out = tmp_path / "compare.json"
    args = ["compare", "--config", str(moons_file), "--repeats", "2", "--epochs", "2"]
    args += ["--workers", "1"]  # in this process: no worker start-up in a unit test
    assert main([*args, "--out", str(out)]) == 0
    payload = json.loads(out.read_text())
    assert payload["metric"] == "val_cross_entropy"
    assert [arm["name"] for arm in payload["arms"]] == ARMS
    store = RunStore()
    for arm in payload["arms"]:
        runs = [store.get_run(run_id) for run_id in arm["run_ids"]]
        assert [run.config.training.seed for run in runs] == [4, 5]  # seed order
        assert all(run.config.training.epochs == 2 for run in runs)
        values = [run.best_metrics["val_cross_entropy"] for run in runs]
        assert arm["best"]["val_cross_entropy"]["mean"] == pytest.approx(sum(values) / 2)
        assert set(arm["best"]["val_accuracy"]) == {"mean", "low", "high"}
    baseline, _, l2, *_ = payload["arms"]
    assert baseline["versus_baseline"] is None
    # The base config already has L2 0.001: that arm is the baseline again, seed by seed.
    assert l2["versus_baseline"] == {
        "mean": 0.0,
        "low": 0.0,
        "high": 0.0,
        "seeds_agree": 2,
        "verdict": "indistinguishable",
    }
    assert store.get_run(l2["run_ids"][0]).name == "compare: + L2 0.001 (seed 4)"
    stdout = capsys.readouterr().out
    assert "versus baseline" in stdout
    assert "L2 0.001 gives the same best validation cross-entropy" in stdout


def test_compare_refuses_bad_repeats_before_training(moons_file, capsys):
    assert main(["compare", "--config", str(moons_file), "--repeats", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "repeats" in err[0]
    assert RunStore().list_runs() == []
