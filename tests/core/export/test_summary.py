"""A run in words (core/export/summary.py): the window's one-line summary of a run
(``summary_line``), the levers that tell runs apart (``lever_summary``), and the model
a run delivers with the epoch every gap is read at (``delivered``, ``runs_table``)."""

from __future__ import annotations

import pytest
from support.runs import store_test

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.export.summary import (
    NO_TEST_PART,
    delivered,
    delivered_line,
    lever_summary,
    run_row,
    runs_table,
    summary_line,
)
from fitgap_gui.core.formatting import MISSING
from fitgap_gui.core.results.records import EpochMetrics, RunResult
from fitgap_gui.core.store.runstore import RunStore


def test_the_summary_line_names_the_handicaps_that_are_on():
    demo = RunConfig().replace({"data.train_fraction": 0.25, "data.label_noise": 0.2})
    line = summary_line(demo)
    assert "handicaps: trains on 25% of the rows, 20% of labels flipped" in line
    only_noise = RunConfig().replace({"data.source": "csv", "data.path": "/d/my.csv",
                                      "data.label_noise": 0.1})  # fmt: skip
    assert "handicaps: 10% of labels flipped" in summary_line(only_noise)
    assert "my.csv" in summary_line(only_noise)
    assert "no handicaps" in summary_line(RunConfig())


def test_summaries_never_show_python_reprs():
    config = RunConfig().replace({"model.hidden_units": [512, 512], "model.dropout": 0.5})
    for text in (summary_line(config), lever_summary(config)):
        assert "[" not in text and "]" not in text, text
        assert "512-512" in text
    assert lever_summary(config) == "layers 512-512, dropout 0.5"
    # A lever that does not apply to the source is not named.
    csv = RunConfig().replace({"data.source": "csv", "data.path": "a.csv", "data.noise": 0.4})
    assert "noise" not in lever_summary(csv)


def test_learning_rate_schedule_cnn_and_weight_decay_read_in_summaries():
    config = RunConfig.from_dict(
        {
            "model": {"kind": "cnn", "conv_filters": [8, 16], "batch_norm": True},
            "training": {
                "lr_schedule": {"kind": "step", "every": 5, "factor": 0.1},
                "weight_decay": 0.01,
            },
        }
    )
    summary = lever_summary(config)
    for words in ("CNN", "conv 8-16", "batch norm", "lr ×0.1 every 5", "wd 0.01"):
        assert words in summary
    line = summary_line(config)
    assert "CNN conv 8-16" in line and "lr ×0.1 every 5" in line and "wd 0.01" in line
    # An MLP does not name its (unused) conv filters.
    mlp = config.replace({"model.kind": "mlp"})
    assert "conv" not in lever_summary(mlp)


def test_schedules_and_weight_decay_read_plainly():
    assert lever_summary(RunConfig.from_dict({})) == "defaults"  # none of them set
    cosine = RunConfig().replace({"training.lr_schedule": {"kind": "cosine", "warmup_epochs": 2}})
    assert lever_summary(cosine) == "lr cosine (warm-up 2)"
    step = RunConfig().replace({"training.lr_schedule": {"kind": "step", "every": 5}})
    assert "adam lr 1e-3, lr ×0.5 every 5 epochs, batch 32" in summary_line(step)
    assert lever_summary(RunConfig().replace({"training.weight_decay": 0.0})) == "wd 0"


# -- the delivered model: every gap says where it was read -----------------------------------------
def _stored(store, *, epochs, test=None, restored_best=False, status="completed", name=None):
    """A run whose training accuracy reaches 100 % while validation stays near 80 %:
    best (lowest val_cross_entropy) at epoch 2, last at ``epochs``."""
    config = RunConfig().replace({"early_stopping.enabled": restored_best})
    run_id = store.create_run(config, name=name)
    history: dict[str, list[float]] = {}
    for epoch in range(1, epochs + 1):
        metrics = {
            "loss": 1.0 / epoch,
            "accuracy": min(1.0, 0.6 + 0.1 * epoch),
            "train_eval_accuracy": min(1.0, 0.7 + 0.1 * epoch),
            "val_loss": 1.0 + abs(epoch - 2) * 0.1,
            "val_cross_entropy": 0.5 + abs(epoch - 2) * 0.1,
            "val_accuracy": 0.8 + (0.05 if epoch == 2 else 0.0),
        }
        store.append_epoch(run_id, EpochMetrics(epoch, metrics, seconds=0.01))
        for key, value in metrics.items():
            history.setdefault(key, []).append(value)
    result = RunResult(
        config, history, status, epochs, best_epoch=2, restored_best=restored_best, run_id=run_id
    )
    store.finish_run(run_id, result)
    if test is not None:
        store_test(store, run_id, test)
    return run_id


def test_the_delivered_model_is_the_last_epoch_and_its_gap_is_read_there():
    store = RunStore()
    test = {"epoch": 6, "cross_entropy": 0.7812, "accuracy": 0.8014, "n": 360}
    run_id = _stored(store, epochs=6, test=test)
    listed = next(r for r in store.list_runs() if r.run_id == run_id)
    for run in (listed, store.get_run(run_id)):  # without and with its history
        d = delivered(run)
        assert (d.epoch, d.restored, d.which) == (6, False, "epoch 6, the last")
        assert d.test_accuracy == 0.8014 and d.test_cross_entropy == 0.7812
        assert d.test_rows == 360
        # 100 % training, 80 % validation at the end: +20 pp, not the best epoch's +5 pp.
        assert d.gap == pytest.approx(0.20)
        assert run.gap_at_best == pytest.approx(0.05)
        assert delivered_line(run) == (
            "Delivered model (epoch 6, the last): test accuracy 80.1%, test cross-entropy "
            "0.7812 on 360 rows; training − validation accuracy +20.0 pp at epoch 6."
        )


def test_a_restored_model_is_read_at_the_epoch_early_stopping_restored():
    store = RunStore()
    # No test part: the epoch comes from the restore itself.
    run_id = _stored(store, epochs=6, restored_best=True, status="early_stopped")
    d = delivered(store.list_runs()[0])
    assert (d.epoch, d.restored) == (2, True)
    assert d.which == "epoch 2, restored by early stopping"
    assert d.gap == pytest.approx(0.90 - 0.85)
    assert d.val_cross_entropy == pytest.approx(0.5)
    assert store.get_run(run_id).best_epoch == 2


def test_runs_without_a_test_part_say_so_and_unfinished_runs_show_a_dash():
    store = RunStore()
    _stored(store, epochs=3)  # an old run: stored before there was a test part
    old = delivered(store.list_runs()[0])
    assert old.test is None and old.test_words() == NO_TEST_PART == "no test part"
    assert old.test_cell(old.test_accuracy) == "no test part"
    assert "no test part; training − validation accuracy" in delivered_line(store.list_runs()[0])
    running = store.create_run(RunConfig())
    live = next(r for r in store.list_runs() if r.run_id == running)
    d = delivered(live)
    assert d.test_cell(d.test_accuracy) == MISSING
    assert d.test_words() == "test numbers come when the run ends"


def test_runs_list_leads_with_the_delivered_model_and_says_where_each_number_was_read():
    store = RunStore()
    _stored(store, epochs=6, name="old")
    new = _stored(
        store,
        epochs=6,
        name="new",
        test={"epoch": 6, "cross_entropy": 0.78, "accuracy": 0.8, "n": 9},
    )
    runs = store.list_runs()
    lines = runs_table(runs).splitlines()
    assert lines[0].split() == [
        "id", "name", "created", "status", "epochs", "delivered", "test_acc", "test_ce", "gap",
        "levers",
    ]  # fmt: skip
    assert lines[1].split()[5:10] == ["6", "6", "80.0%", "0.7800", "+20.0"]  # date, time
    assert "no test part" in lines[2] and "+20.0 pp" in lines[2]
    note = " ".join(lines[4:])
    assert "training minus validation accuracy at that epoch" in note
    assert "chosen on validation" in note
    row = run_row(next(r for r in runs if r.run_id == new))
    assert row["delivered_epoch"] == 6 and row["test_accuracy"] == 0.8 and row["test_n"] == 9
    assert row["gap_at_delivered"] == pytest.approx(0.2)
    assert row["gap_at_best"] == pytest.approx(0.05) and row["best_epoch"] == 2
