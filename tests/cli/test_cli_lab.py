"""``fitgap lab``: each experiment's JSON, its table and reading, on tiny runs."""

from __future__ import annotations

import json

import pytest

from fitgap_gui.cli.main import main
from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.experiments.lab_results import STUDY_KEY
from fitgap_gui.core.experiments.labstore import read_records, rebuild
from fitgap_gui.core.store.runstore import RunStore


@pytest.fixture
def lab_config(write_config):
    return write_config(
        RunConfig.from_dict(
            {
                "data": {"source": "digits", "train_fraction": 0.05, "scale": "minmax"},
                "model": {"hidden_units": [8]},
                "training": {"epochs": 2, "batch_size": 16, "seed": 1},
            }
        )
    )


def test_randomization_writes_levels_and_a_permutation_p_value(lab_config, tmp_path, capsys):
    out = tmp_path / "rand.json"
    code = main(
        ["lab", "randomization", "--config", str(lab_config), "--levels", "0,1"]
        + ["--repeats", "1", "--permutations", "1", "--epochs", "1", "--out", str(out)]
    )
    assert code == 0
    payload = json.loads(out.read_text())
    assert set(payload) == {"levels", "p_value"}
    assert [lv["level"] for lv in payload["levels"]] == [0.0, 1.0]
    for level in payload["levels"]:
        assert set(level) == {
            "level",
            "run_ids",
            "train_accuracy",
            "test_accuracy",
            "epochs_to_fit",
        }
        assert set(level["train_accuracy"]) == {"mean", "low", "high"}
        assert len(level["run_ids"]) == len(level["epochs_to_fit"]) == 1
    # One null run: p is 1/2 when it scored below the real labels, else 1.
    assert payload["p_value"] in (0.5, 1.0)
    printed = capsys.readouterr().out
    assert "train acc" in printed and "random labels" in printed
    store = RunStore()
    (record,) = read_records(store)
    assert rebuild(record, store) == payload  # reproducible from the stored runs
    assert store.get_run(payload["levels"][1]["run_ids"][0]).config.data.label_noise == 0.9


def test_double_descent_json_and_the_study_curve_kept_apart(lab_config, tmp_path, capsys):
    out = tmp_path / "dd.json"
    code = main(
        ["lab", "double-descent", "--config", str(lab_config), "--widths", "4"]
        + ["--label-noise", "0.2", "--out", str(out)]
    )
    assert code == 0
    payload = json.loads(out.read_text())
    assert set(payload) == {"widths", "threshold_width"}
    assert [w["width"] for w in payload["widths"]] == [4]
    for row in payload["widths"]:
        assert set(row) == {"width", "params", "run_id", "train_error", "test_error"}
    assert "test err" in capsys.readouterr().out
    store = RunStore()
    (record,) = read_records(store)
    assert rebuild(record, store) == payload
    for row in payload["widths"]:
        run = store.get_run(row["run_id"])
        assert run.config.data.label_noise == 0.2 and run.config.model.hidden_units == [
            row["width"]
        ]
        assert not any("test" in key for key in run.history)  # no test number in a history
        curve = record["study"]["curves"][str(row["run_id"])][STUDY_KEY]
        assert len(curve) == 2
        # The last epoch's probe saw the delivered model: the run's own test error.
        assert curve[-1] == pytest.approx(row["test_error"], abs=1e-6)


def test_lr_range_json_and_its_suggestion(lab_config, tmp_path, capsys):
    out = tmp_path / "lr.json"
    code = main(
        ["lab", "lr-range", "--config", str(lab_config), "--min", "1e-5", "--max", "10"]
        + ["--steps", "30", "--out", str(out)]
    )
    assert code == 0
    payload = json.loads(out.read_text())
    assert set(payload) == {"rates", "losses", "smoothed", "suggested"}
    assert len(payload["rates"]) == len(payload["losses"]) == len(payload["smoothed"]) <= 30
    assert payload["rates"][0] == pytest.approx(1e-5)
    assert "learning rate" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args",
    [
        ["randomization", "--levels", "0,1.5"],
        ["randomization", "--levels", "0.5", "--permutations", "2"],
        ["double-descent", "--widths", "0,2"],
        ["double-descent", "--widths", "a"],
        ["double-descent", "--label-noise", "1"],
        ["lr-range", "--min", "1", "--max", "0.1"],
    ],
)
def test_bad_settings_are_one_error_line_before_any_training(args, lab_config, capsys):
    assert main(["lab", *args, "--config", str(lab_config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err
    assert RunStore().list_runs() == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["lr-range", "--steps", "1000000000"], "--steps is the number of batches"),
        (["lr-range", "--min", "0"], "need 0 < min < max"),
        (["randomization", "--repeats", "400", "--levels", "0,0.5,1"], "at most 1000 runs"),
        (["randomization", "--permutations", "5000"], "more than a plan can hold"),
    ],
)
def test_sizes_no_machine_could_run_are_one_error_line(args, words, fitgap_home, capsys):
    assert main(["lab", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and words in err
