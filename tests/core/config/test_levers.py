"""The lever and source tables, and the one number format."""

from __future__ import annotations

from fitgap_gui.core.config.levers import LEVERS, handicap_reset, lever
from fitgap_gui.core.config.sources import SOURCES, source
from fitgap_gui.core.formatting import (
    format_accuracy,
    format_duration,
    format_loss,
    format_value,
    run_label,
)


def test_every_source_in_the_contract_is_in_the_table_once():
    from fitgap_gui.core.config.schema import DataConfig

    check = DataConfig._checks["source"]
    for s in SOURCES:
        assert check("data.source", s.name) == s.name
    assert len({s.name for s in SOURCES}) == len(SOURCES)
    assert source("digits").demo_handicaps and not source("csv").demo_handicaps
    assert source("mnist").own_data and source("images").own_data


def test_handicaps_reset_only_from_the_demo_to_ones_own_data():
    assert handicap_reset("digits", "csv") == {
        "data.train_fraction": 1.0,
        "data.label_noise": 0.0,
    }
    assert handicap_reset("moons", "fashion_mnist")
    assert handicap_reset("csv", "npz") == {}
    assert handicap_reset("digits", "moons") == {}


def test_levers_word_their_values_from_the_table():
    assert lever("model.l2").words(0.001) == "L2 1e-3"
    assert lever("data.train_fraction").words(0.25) == "train 25%"
    assert lever("training.epochs").words(60) == "60 epochs"
    for lv in LEVERS:
        assert lv.tooltip and lv.label, lv.key
        if lv.kind in ("float", "int"):
            assert lv.lo < lv.hi, lv.key


def test_one_number_format():
    assert format_loss(0.43214) == "0.4321"
    assert format_accuracy(0.906) == "90.6%"
    assert format_accuracy(None) == "–"
    assert run_label(7) == "run 7" and run_label(7, capital=True) == "Run 7"
    assert format_value([128, 64]) == "128-64" and format_value(True) == "on"


def test_durations_never_read_zero_seconds():
    assert format_duration(0.0004) == "under 1 ms"
    assert format_duration(0.0042) == "4 ms"
    assert format_duration(2.345) == "2.3 s"
    assert format_duration(125) == "2 min 05 s"
