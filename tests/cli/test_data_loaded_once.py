"""`fitgap sweep` and `fitgap compare` load each data set once per seed, not once more.

Both check the data before training (bad data: exit 2 first); the runs then reuse
what that check loaded.  The loader is the real one, counted; training is real and tiny.
"""

from __future__ import annotations

import json

import pytest

from fitgap_gui.cli import main
from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data import datasets


@pytest.fixture
def loads(monkeypatch):
    """Every (source, train_fraction, seed) that ``load_dataset`` was asked for."""
    seen: list[tuple] = []
    load_dataset = datasets.load_dataset

    def counting(cfg, seed=0):
        seen.append((cfg.source, cfg.train_fraction, seed))
        return load_dataset(cfg, seed)

    monkeypatch.setattr(datasets, "load_dataset", counting)  # what load_datasets calls
    return seen


@pytest.fixture
def moons_file(write_config):
    """60 moons, one epoch: the data is what counts here, not the training."""
    config = {
        "data": {"source": "moons", "n_samples": 60},
        "model": {"hidden_units": [4]},
        "training": {"epochs": 1, "batch_size": 16, "seed": 2},
    }
    return write_config(RunConfig.from_dict(config), "moons.json")


def test_compare_loads_the_data_once_per_seed(moons_file, loads, tmp_path):
    out = tmp_path / "compare.json"
    args = ["compare", "--config", str(moons_file), "--repeats", "1", "--out", str(out)]
    assert main(args) == 0
    assert len(json.loads(out.read_text())["arms"]) == 5  # the five arms ran on it
    assert loads == [("moons", 1.0, 2)]


def test_sweep_loads_the_data_once_per_seed_and_value(moons_file, loads):
    args = ["sweep", "--config", str(moons_file), "--repeats", "2"]
    assert main([*args, "--param", "model.dropout", "--values", "0,0.5"]) == 0
    assert loads == [("moons", 1.0, 2), ("moons", 1.0, 3)]  # the data does not change

    loads.clear()
    args = ["sweep", "--config", str(moons_file), "--repeats", "1"]
    assert main([*args, "--param", "data.train_fraction", "--values", "0.5,1"]) == 0
    assert loads == [("moons", 0.5, 2), ("moons", 1.0, 2)]
