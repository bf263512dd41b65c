"""Experiments: the plans (remedies, sweeps, learning curve), result rows, run_sequence."""

from __future__ import annotations

import csv
import json

import pytest

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import load_datasets
from fitgap_gui.core.errors import ConfigError
from fitgap_gui.core.experiments.plans import (
    ROW_FIELDS,
    ResultRow,
    best_row,
    default_values,
    format_row,
    is_log_scale,
    learning_curve_configs,
    parse_values,
    remedy_configs,
    run_repeats,
    run_sequence,
    summarize,
    summary_payload,
    sweep_configs,
    with_repeats,
    write_rows,
)
from fitgap_gui.core.results.records import RunResult
from fitgap_gui.core.store.runstore import RunStore


def _differences(a: RunConfig, b: RunConfig) -> dict[str, object]:
    da, db = a.to_dict(), b.to_dict()
    return {
        f"{section}.{key}": db[section][key]
        for section in da
        for key in da[section]
        if da[section][key] != db[section][key]
    }


def test_remedies_change_only_their_lever():
    base = RunConfig()
    planned = remedy_configs(base)
    labels = [label for label, _ in planned]
    assert labels == [
        "baseline",
        "+ dropout 0.3",
        "+ L2 0.001",
        "+ early stopping (patience 5)",
        "all three",
    ]
    diffs = [_differences(base, config) for _, config in planned]
    assert diffs[0] == {}
    assert diffs[1] == {"model.dropout": 0.3}
    assert diffs[2] == {"model.l2": 0.001}
    assert diffs[3] == {"early_stopping.enabled": True, "early_stopping.patience": 5}
    assert diffs[4] == {**diffs[1], **diffs[2], **diffs[3]}


def test_remedies_never_weaken_what_the_base_already_uses():
    base = RunConfig().replace({"model.dropout": 0.5, "early_stopping.patience": 8})
    planned = dict(remedy_configs(base))
    assert planned["+ dropout 0.5"].model.dropout == 0.5
    assert planned["+ early stopping (patience 8)"].early_stopping.patience == 8


def test_sweep_sets_each_value_and_keeps_everything_else():
    base = RunConfig().replace({"model.hidden_units": [32, 16]})
    planned = sweep_configs(base, "model.dropout", [0.0, 0.25])
    assert [value for value, _ in planned] == [0.0, 0.25]
    assert [_differences(base, c) for _, c in planned] == [{}, {"model.dropout": 0.25}]
    widths = sweep_configs(base, "model.hidden_units", [8, [4, 4, 4]])
    assert [c.model.hidden_units for _, c in widths] == [[8, 8], [4, 4, 4]]
    patience = sweep_configs(base, "early_stopping.patience", [2])
    assert _differences(base, patience[0][1]) == {
        "early_stopping.enabled": True,
        "early_stopping.patience": 2,
    }


@pytest.mark.parametrize(
    ("param", "values", "fragment"),
    [
        ("model.dropoutt", [0.1], "unknown setting 'model.dropoutt'"),
        ("dropout", [0.1], "unknown setting 'dropout'"),
        ("model._checks", [0.1], "unknown setting"),
        ("model.dropout", [0.2, 1.5], "value 1.5 for model.dropout: model.dropout must be in"),
        ("training.learning_rate", [0], "training.learning_rate must be in (0"),
        ("model.dropout", [], "no values given"),
    ],
)
def test_sweep_refuses_bad_settings_and_values(param, values, fragment):
    with pytest.raises(ConfigError) as info:
        sweep_configs(RunConfig(), param, values)
    assert fragment in str(info.value)


def test_learning_curve_runs_from_a_tenth_to_all_the_data():
    planned = learning_curve_configs(RunConfig())
    fractions = [c.data.train_fraction for _, c in planned]
    assert fractions[0] == pytest.approx(0.1) and fractions[-1] == 1.0
    assert fractions == sorted(fractions)
    assert [c.data.train_fraction for _, c in learning_curve_configs(RunConfig(), [0.5])] == [0.5]


def test_default_values_and_log_axes():
    assert default_values("model.l2") == [1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
    assert is_log_scale("model.l2") and is_log_scale("training.learning_rate")
    assert not is_log_scale("model.dropout")
    for param in ("model.dropout", "model.hidden_units", "early_stopping.patience"):
        sweep_configs(RunConfig(), param, default_values(param))  # all valid
    with pytest.raises(ConfigError, match="no default values for training.seed"):
        default_values("training.seed")


def test_parse_values_reads_numbers_lists_and_words():
    assert parse_values("0,0.2, 1e-3") == [0, 0.2, 0.001]
    assert parse_values("[16,16],[64]") == [[16, 16], [64]]
    assert parse_values("relu,tanh") == ["relu", "tanh"]
    with pytest.raises(ConfigError, match="empty value"):
        parse_values("0,,1")


def test_best_row_reads_the_best_epoch():
    history = {
        "loss": [1.0, 0.5, 0.2],
        "val_loss": [1.1, 0.7, 0.9],
        "accuracy": [0.5, 0.8, 0.95],
        "val_accuracy": [0.45, 0.75, 0.7],
        "val_cross_entropy": [1.0, 0.6, 0.8],
        "train_eval_cross_entropy": [0.9, 0.4, 0.1],
        "train_eval_accuracy": [0.55, 0.85, 0.97],
    }
    result = RunResult(RunConfig(), history, "completed", 3, best_epoch=2, run_id=7)
    row = best_row(result, label="baseline")
    assert (row.best_epoch, row.val_loss, row.val_accuracy, row.run_id) == (2, 0.7, 0.75, 7)
    # The gap is measured: validation minus training cross-entropy, both at the epoch's end.
    assert row.gap == pytest.approx(0.2) and row.accuracy_gap == pytest.approx(0.1)
    assert row.val_cross_entropy == 0.6
    # Without a stored best epoch the lowest validation cross-entropy decides.
    no_best = RunResult(RunConfig(), history, "completed", 3, run_id=8)
    assert best_row(no_best).best_epoch == 2 and not best_row(no_best).restored_best
    # Early stopping restored epoch 3's weights: the row reads epoch 3, labelled so.
    restored = RunResult(
        RunConfig(), history, "early_stopped", 3, best_epoch=3, restored_best=True, run_id=9
    )
    row = best_row(restored)
    assert (row.best_epoch, row.restored_best, row.val_cross_entropy) == (3, True, 0.8)
    assert " 3r " in format_row(row)
    assert list(row.to_dict()) == ROW_FIELDS


def test_run_sequence_records_each_run_and_shares_the_data(tiny_config):
    store = RunStore()
    planned = remedy_configs(tiny_config)[:2]
    datasets = load_datasets(planned)
    assert datasets[0] is datasets[1]  # same data config and seed: loaded once
    done = []
    rows = run_sequence(
        planned,
        store,
        datasets=datasets,
        name_prefix="remedies: ",
        on_run_done=lambda index, row, result: done.append((index, row.run_id, result.status)),
    )
    assert [row.label for row in rows] == ["baseline", "+ dropout 0.3"]
    assert done == [(0, rows[0].run_id, "completed"), (1, rows[1].run_id, "completed")]
    stored = {run.run_id: run for run in store.list_runs()}
    assert stored[rows[1].run_id].name == "remedies: + dropout 0.3"
    assert stored[rows[1].run_id].config.model.dropout == 0.3
    assert rows[0].val_loss == stored[rows[0].run_id].best_metrics["val_loss"]
    assert rows[0].verdict == stored[rows[0].run_id].diagnosis["verdict"]
    assert rows[0].n_train == len(datasets[0].x_train)


def test_learning_curve_rows_grow_in_training_samples(tiny_config):
    planned = learning_curve_configs(tiny_config.replace({"training.epochs": 1}), [0.5, 1.0])
    rows = run_sequence(planned, RunStore())
    assert [row.value for row in rows] == [0.5, 1.0]
    assert rows[0].n_train < rows[1].n_train


def test_run_sequence_stops_inside_a_run_and_starts_no_more(tiny_config):
    config = tiny_config.replace({"training.epochs": 40})
    stop = {"now": False}

    def on_epoch(index, run_id, metrics):
        if metrics.epoch == 2:
            stop["now"] = True

    rows = run_sequence(
        sweep_configs(config, "model.dropout", [0.0, 0.1, 0.2]),
        RunStore(),
        on_epoch=on_epoch,
        should_stop=lambda: stop["now"],
    )
    assert len(rows) == 1
    assert rows[0].status == "stopped" and rows[0].epochs_run == 2


def test_write_rows_as_csv_and_json(tmp_path):
    history = {"val_cross_entropy": [1.5], "train_eval_cross_entropy": [1.0]}
    result = RunResult(RunConfig(), history, "completed", 1, best_epoch=1, run_id=3)
    rows = [best_row(result, value=[8, 8]), best_row(result, value=0.5)]
    write_rows(tmp_path / "rows.csv", rows, param="model.hidden_units")
    with (tmp_path / "rows.csv").open(newline="") as handle:
        records = list(csv.DictReader(handle))
    assert [r["value"] for r in records] == ["[8, 8]", "0.5"]
    assert records[0]["param"] == "model.hidden_units" and records[0]["gap"] == "0.5"
    write_rows(tmp_path / "rows.json", rows, param="model.dropout")
    payload = json.loads((tmp_path / "rows.json").read_text())
    assert payload["param"] == "model.dropout" and payload["rows"][1]["value"] == 0.5


def test_repeats_share_seeds_across_arms_and_summaries_pair_them(tiny_config):
    planned = remedy_configs(tiny_config.replace({"training.epochs": 2}))[:2]
    repeated = with_repeats(planned, 2)
    assert [(key, c.training.seed) for key, c in repeated] == [
        ("baseline", 1),
        ("baseline", 2),
        ("+ dropout 0.3", 1),
        ("+ dropout 0.3", 2),
    ]
    with pytest.raises(ConfigError, match="repeats must be 1 or more"):
        with_repeats(planned, 0)
    store = RunStore()
    rows, arms = run_repeats(planned, store, 2, name_prefix="r: ")
    assert [arm.name for arm in arms] == ["baseline", "+ dropout 0.3"]
    assert arms[0].run_ids == [rows[0].run_id, rows[1].run_id]
    assert arms[0].versus_baseline is None
    assert store.get_run(rows[1].run_id).name == "r: baseline (seed 2)"
    diffs = [rows[2].val_cross_entropy - rows[0].val_cross_entropy]
    diffs.append(rows[3].val_cross_entropy - rows[1].val_cross_entropy)
    assert arms[1].versus_baseline.difference.mean == pytest.approx(sum(diffs) / 2)
    payload = summary_payload(arms)
    assert payload["metric"] == "val_cross_entropy"
    assert set(payload["arms"][1]["versus_baseline"]) == {
        "mean",
        "low",
        "high",
        "seeds_agree",
        "verdict",
    }
    json.dumps(payload, allow_nan=False)


def _seed_row(label: str, seed: int, val_ce: float) -> ResultRow:
    return ResultRow(
        label=label, value=None, run_id=None, status="completed", epochs_run=5, best_epoch=5,
        val_loss=val_ce, val_accuracy=0.9, loss=0.1, accuracy=0.95, gap=val_ce - 0.1,
        accuracy_gap=0.05, verdict=None, seconds=1.0, val_cross_entropy=val_ce, seed=seed,
    )  # fmt: skip


def test_arms_are_paired_with_the_baseline_by_seed_whatever_order_runs_finished():
    """Runs trained in parallel finish out of seed order; the pairing must not care."""
    baseline = [_seed_row("baseline", s, v) for s, v in [(0, 0.50), (1, 0.60), (2, 0.70)]]
    arm = [_seed_row("+ dropout", s, v) for s, v in [(0, 0.45), (1, 0.55), (2, 0.65)]]
    in_order = summarize([("baseline", baseline), ("+ dropout", arm)])[1].versus_baseline
    shuffled = summarize([("baseline", baseline[::-1]), ("+ dropout", [arm[1], arm[2], arm[0]])])
    versus = shuffled[1].versus_baseline
    assert in_order.verdict == versus.verdict == "better"  # 0.05 lower on every seed
    assert versus.difference.mean == pytest.approx(-0.05)
    assert versus.seeds_agree == 3
    # An arm with fewer seeds finished is paired on the seeds both have.
    partial = summarize([("baseline", baseline[:2]), ("+ dropout", [arm[2], arm[1]])])
    assert partial[1].versus_baseline.difference.n == 1
    assert partial[1].versus_baseline.difference.mean == pytest.approx(-0.05)
