"""Experiments: the plans (remedies, sweeps, learning curve), result rows, run_sequence."""

from __future__ import annotations

import csv
import dataclasses
import json

import pytest

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import load_datasets
from fitgap_gui.core.errors import ConfigError
from fitgap_gui.core.experiments.plans import (
    default_values,
    is_log_scale,
    learning_curve_configs,
    parse_values,
    remedies,
    remedy_configs,
    run_repeats,
    run_sequence,
    sweep_configs,
    with_repeats,
)
from fitgap_gui.core.experiments.tables import (
    ROW_FIELDS,
    ResultRow,
    best_row,
    format_row,
    format_summary,
    summarize,
    summary_header,
    summary_payload,
    write_rows,
)
from fitgap_gui.core.results.records import RunResult, delivered_epoch_of
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
    assert planned["+ dropout 0.7 (baseline has 0.5)"].model.dropout == 0.7
    assert planned["+ early stopping (patience 8)"].early_stopping.patience == 8


def test_a_remedy_the_baseline_has_takes_the_next_step_of_its_ladder():
    """After "Add dropout 0.3", the dropout arm is 0.5, named so; never the baseline."""
    base = RunConfig().replace(
        {
            "model.dropout": 0.3,
            "model.l2": 0.001,
            "early_stopping.enabled": True,
            "early_stopping.patience": 5,
        }
    )
    planned = remedy_configs(base)
    assert [label for label, _ in planned] == [
        "baseline",
        "+ dropout 0.5 (baseline has 0.3)",
        "+ L2 0.01 (baseline has 0.001)",
        "+ early stopping (patience 2; baseline has 5)",
        "all three",
    ]
    diffs = [_differences(base, config) for _, config in planned]
    assert diffs[1:4] == [
        {"model.dropout": 0.5},
        {"model.l2": 0.01},
        {"early_stopping.patience": 2},
    ]
    assert diffs[4] == {**diffs[1], **diffs[2], **diffs[3]}
    # Between rungs: the first rung above; patience 3 halves to 1, 2 to 1.
    between = RunConfig().replace(
        {"model.dropout": 0.35, "model.l2": 0.05, "early_stopping.enabled": True,
         "early_stopping.patience": 3}
    )  # fmt: skip
    assert [label for label, _ in remedy_configs(between)][1:4] == [
        "+ dropout 0.5 (baseline has 0.35)",
        "+ L2 0.1 (baseline has 0.05)",
        "+ early stopping (patience 1; baseline has 3)",
    ]


def test_a_remedy_past_its_ladder_has_no_arm_and_says_why():
    top = RunConfig().replace(
        {"model.dropout": 0.7, "model.l2": 0.1, "early_stopping.enabled": True,
         "early_stopping.patience": 1}
    )  # fmt: skip
    assert remedy_configs(top) == [("baseline", top)]
    arms, missing = remedies(top)
    assert arms == {}
    assert missing == [
        "no dropout arm: the baseline's dropout 0.7 is at or past 0.7",
        "no L2 arm: the baseline's L2 0.1 is at or past 0.1",
        "no early stopping arm: the baseline stops with patience 1 already",
    ]
    two = remedy_configs(top.replace({"model.dropout": 0.0, "early_stopping.enabled": False}))
    assert [label for label, _ in two] == [
        "baseline",
        "+ dropout 0.3",
        "+ early stopping (patience 5)",
        "both",
    ]
    one = remedy_configs(top.replace({"model.dropout": 0.1}))
    assert [label for label, _ in one] == ["baseline", "+ dropout 0.3 (baseline has 0.1)"]


@pytest.mark.parametrize("dropout", [0.0, 0.2, 0.3, 0.5, 0.6, 0.7, 0.9])
@pytest.mark.parametrize("l2", [0.0, 1e-4, 1e-3, 1e-2, 0.1, 1.0])
@pytest.mark.parametrize(
    "patience", [(False, 3), (False, 8), (True, 0), (True, 1), (True, 2), (True, 9)]
)
def test_no_arm_is_ever_the_baseline_nor_weaker(dropout, l2, patience):
    enabled, wait = patience
    base = RunConfig().replace(
        {"model.dropout": dropout, "model.l2": l2, "early_stopping.enabled": enabled,
         "early_stopping.patience": wait}
    )  # fmt: skip
    planned = remedy_configs(base)
    configs = [config.to_dict() for _, config in planned]
    assert planned[0] == ("baseline", base)
    assert all(config != configs[0] for config in configs[1:])
    for _, config in planned[1:]:
        assert config.model.dropout >= dropout and config.model.l2 >= l2
        if enabled:
            assert config.early_stopping.patience <= wait


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
    assert format_row(row).split()[5:7] == ["3", "yes"]  # best, restored
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
    # Judged by the delivered model's test cross-entropy when the data has a test
    # part, else (and saying so) by the best validation cross-entropy.
    test = rows[0].test_n is not None
    metric = "test_cross_entropy" if test else "val_cross_entropy"
    judged = [row.test_cross_entropy if test else row.val_cross_entropy for row in rows]
    diffs = [judged[2] - judged[0], judged[3] - judged[1]]
    assert arms[1].versus_baseline.difference.mean == pytest.approx(sum(diffs) / 2)
    assert arms[1].versus_baseline.verdict == "too_few_seeds"  # two seeds: no verdict
    payload = summary_payload(arms)
    assert payload["metric"] == metric
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


HISTORY = {
    "val_accuracy": [0.45, 0.75, 0.7],
    "val_cross_entropy": [1.0, 0.6, 0.8],
    "train_eval_cross_entropy": [0.9, 0.4, 0.1],
    "train_eval_accuracy": [0.55, 0.85, 1.0],
}


def test_best_row_holds_the_delivered_models_test_numbers_and_its_gap():
    """No restore: the run delivers its last epoch's model; the gap is read there
    (+0.7), not at the best epoch (+0.2), and the best epoch stays beside it."""
    test = {"epoch": 3, "cross_entropy": 0.85, "accuracy": 0.68, "n": 40}
    result = RunResult(RunConfig(), HISTORY, "completed", 3, best_epoch=2, run_id=7, test=test)
    row = best_row(result)
    assert (row.delivered_epoch, row.test_cross_entropy, row.test_accuracy, row.test_n) == (
        3, 0.85, 0.68, 40,
    )  # fmt: skip
    assert row.delivered_gap == pytest.approx(0.7)
    assert row.delivered_accuracy_gap == pytest.approx(0.3)
    assert (row.best_epoch, row.val_cross_entropy, row.gap) == (2, 0.6, pytest.approx(0.2))
    line = format_row(row)
    assert "0.8500" in line and "0.6800" in line and "+0.7000" in line and "0.6000" in line
    # Early stopping restored epoch 2: that is the delivered model.
    restored = RunResult(
        RunConfig(), HISTORY, "early_stopped", 3, best_epoch=2, restored_best=True,
        test={**test, "epoch": 2},
    )  # fmt: skip
    assert delivered_epoch_of(restored) == 2 and best_row(restored).delivered_gap == pytest.approx(
        0.2
    )
    # A run without a test part (a stored run from before): no test numbers, and the
    # delivered epoch from the run itself.
    old = best_row(RunResult(RunConfig(), HISTORY, "completed", 3, best_epoch=2))
    assert (old.test_n, old.test_cross_entropy, old.delivered_epoch) == (None, None, 3)
    assert old.delivered_gap == pytest.approx(0.7)


def _judged_row(label, seed, val_ce, test_ce, test_acc=0.8, epoch=60):
    return dataclasses.replace(
        _seed_row(label, seed, val_ce),
        test_cross_entropy=test_ce, test_accuracy=test_acc, test_n=100,
        delivered_epoch=epoch, delivered_gap=0.8,
    )  # fmt: skip


def test_early_stopping_can_win_on_the_test_part_where_best_epochs_tie():
    """The issue's default setup in miniature: scored at its own best epoch, early
    stopping equals the baseline on every seed; its delivered model (epoch ~21
    against the baseline's 60) has the lower test cross-entropy, and that decides."""
    base = [
        _judged_row("baseline", s, v, t)
        for s, v, t in [(0, 0.46, 0.78), (1, 0.41, 0.80), (2, 0.52, 0.75)]
    ]
    early = [
        _judged_row("+ early stopping", s, v, t, epoch=e)
        for s, v, t, e in [(0, .46, .52, 21), (1, .41, .55, 19), (2, .52, .50, 24)]
    ]  # fmt: skip
    arms = summarize([("baseline", base), ("+ early stopping (patience 5)", early[::-1])])
    versus = arms[1].versus_baseline
    assert arms[1].metric == "test_cross_entropy"
    assert versus.verdict == "better" and versus.seeds_agree == 3
    assert versus.difference.mean == pytest.approx(-0.2533333)
    assert arms[1].delivered_epoch.mean == pytest.approx(64 / 3)
    assert arms[1].val_cross_entropy.mean == pytest.approx(arms[0].val_cross_entropy.mean)  # tie
    assert "delivered model's test cross-entropy" in arms[1].sentence()
    payload = summary_payload(arms)
    assert payload["metric"] == "test_cross_entropy"
    assert [list(arm) for arm in payload["arms"]] == [
        ["name", "run_ids", "delivered", "best", "versus_baseline"]
    ] * 2
    delivered = payload["arms"][1]["delivered"]
    assert list(delivered) == ["test_cross_entropy", "test_accuracy", "epoch"]
    assert all(set(v) == {"mean", "low", "high"} for v in delivered.values())
    assert delivered["test_cross_entropy"]["mean"] == pytest.approx((0.52 + 0.55 + 0.50) / 3)
    assert list(payload["arms"][1]["best"]) == ["val_cross_entropy", "val_accuracy"]
    assert list(payload["arms"][1]["versus_baseline"]) == [
        "mean", "low", "high", "seeds_agree", "verdict",
    ]  # fmt: skip
    assert payload["arms"][0]["versus_baseline"] is None
    json.dumps(payload, allow_nan=False)
    header, line = summary_header(arms), format_summary(arms[1])
    assert "delivered model" in header and "test_ce" in header
    assert "chosen on validation" in header
    assert line.split()[-3:] == ["0.4633", "±", "0.1368"]  # best val_ce, last column
    assert "better (-0.2533, 3/3)" in line and "21.3" in line


def test_runs_without_a_test_part_fall_back_to_the_best_epoch_and_say_so():
    base = [_seed_row("baseline", s, v) for s, v in [(0, 0.50), (1, 0.60), (2, 0.70)]]
    arm = [_seed_row("+ L2", s, v) for s, v in [(0, 0.45), (1, 0.55), (2, 0.65)]]
    arms = summarize([("baseline", base), ("+ L2 0.001", arm)])
    assert arms[1].metric == "val_cross_entropy" and arms[1].versus_baseline.verdict == "better"
    payload = summary_payload(arms)
    assert payload["metric"] == "val_cross_entropy"
    assert payload["arms"][1]["delivered"]["test_cross_entropy"] == {
        "mean": None, "low": None, "high": None,
    }  # fmt: skip
    assert "best validation cross-entropy (no test part)" in arms[1].sentence()
    assert "no test part" in summary_header(arms) and "best val_ce" in summary_header(arms)
    # One run of the comparison without a test part: all are judged on validation.
    mixed = [_judged_row("baseline", s, v, v + 0.1) for s, v in [(0, 0.5), (1, 0.6), (2, 0.7)]]
    assert summarize([("baseline", mixed), ("+ L2", arm)])[0].metric == "val_cross_entropy"


def test_arm_accuracy_intervals_stay_within_100_percent():
    rows = [
        _judged_row("baseline", s, 0.3, 0.3, test_acc=a) for s, a in [(0, 1.0), (1, 0.96), (2, 1.0)]
    ]
    rows = [dataclasses.replace(r, val_accuracy=r.test_accuracy) for r in rows]
    (arm,) = summarize([("baseline", rows)])
    assert arm.test_accuracy.high == 1.0 and arm.val_accuracy.high == 1.0
    assert arm.test_accuracy.low < 0.96
    # Shown as the clipped interval itself, not a "± half" that would reach past 1.
    assert f"0.987 ({arm.test_accuracy.low:.3f}-1.000)" in format_summary(arm)


def test_two_seeds_summarize_without_a_verdict():
    base = [_judged_row("baseline", s, 0.5, t) for s, t in [(0, 0.50), (1, 0.60)]]
    arm = [_judged_row("+ dropout", s, 0.5, t) for s, t in [(0, 0.40), (1, 0.50)]]
    (_, versus) = summarize([("baseline", base), ("+ dropout 0.3", arm)])
    assert versus.versus_baseline.verdict == "too_few_seeds"
    assert versus.versus_baseline.difference.mean == pytest.approx(-0.1)
    assert "too few seeds for a verdict" in versus.sentence()
    assert "too_few_seeds" in format_summary(versus)
