"""A run in words (core/export/summary.py): the window's one-line summary of a run
(``summary_line``) and the levers that tell runs apart (``lever_summary``)."""

from __future__ import annotations

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.export.summary import lever_summary, summary_line


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
