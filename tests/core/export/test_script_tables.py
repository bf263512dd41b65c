"""The Keras script of a table: pandas reads the file, scikit-learn prepares it.

Its ``load_data()`` builds FitGap's very arrays (a CSV with text labels, categories,
missing cells and 0/1 columns; Excel and Parquet), and run on its own in a subprocess
it repeats the run's history to 1e-4, the history's JSON its last line.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import load_dataset
from fitgap_gui.core.export.files import export_runs
from fitgap_gui.core.export.script import keras_script
from fitgap_gui.core.run.session import run_recorded
from fitgap_gui.core.store.runstore import RunStore


def _table(n: int = 48):
    import pandas as pd

    rng = np.random.default_rng(5)
    species = np.array(["Adelie", "Chinstrap", "Gentoo"])[np.arange(n) % 3]
    bill = np.round(38 + 5 * (np.arange(n) % 3) + rng.normal(size=n), 1)
    bill[[3, 20]] = np.nan
    island = np.array(["Biscoe", "Dream", None], dtype=object)[rng.integers(0, 3, n)]
    tagged = np.array(["true", "false"], dtype=object)[rng.integers(0, 2, n)]
    mass = 3500 + 500 * (np.arange(n) % 3) + rng.integers(0, 400, n)
    return pd.DataFrame(
        {
            "id": np.arange(n) + 100,
            "island": island,
            "bill": bill,
            "mass": mass,
            "tagged": tagged,
            "species": species,
        }  # fmt: skip
    )


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    root = tmp_path_factory.mktemp("script_tables")
    frame = _table()
    frame.to_csv(root / "birds.csv", index=False, na_rep="NA")
    frame.to_excel(root / "birds.xlsx", index=False)
    frame.to_parquet(root / "birds.parquet")
    return root


def _config(path, **data) -> RunConfig:
    return RunConfig.from_dict(
        {
            "data": {"source": "csv", "path": str(path), "label_column": "species", **data},
            "model": {"hidden_units": [8]},
            "training": {"epochs": 2, "batch_size": 16, "seed": 3},
        }
    )


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("birds.csv", {}),
        ("birds.csv", {"scale": "minmax", "label_noise": 0.2, "train_fraction": 0.7}),
        ("birds.csv", {"missing": "drop_rows", "test_split": 0.0}),
        ("birds.xlsx", {}),
        ("birds.parquet", {"scale": "none"}),
    ],
)
def test_the_script_builds_fitgaps_arrays(tables, name, data, assert_same_data):
    config = _config(tables / name, **data)
    expected = load_dataset(config.data, seed=3)
    source = keras_script(config, input_shape=expected.input_shape, image_shape=None)
    assert "read_table_file" in source and "ColumnTransformer" in source
    namespace: dict = {"__name__": "exported_script"}
    exec(compile(source, "exported_script.py", "exec"), namespace)
    assert_same_data(namespace["load_data"](), expected)


def test_the_script_repeats_the_run(tables, tmp_path):
    store = RunStore()
    config = _config(tables / "birds.csv")
    result = run_recorded(config, store)
    (path,) = export_runs(store, "script", [result.run_id], tmp_path / "birds_run.py")
    out = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=300, check=True
    )
    history = json.loads(out.stdout.strip().splitlines()[-1])
    for key, values in result.history.items():
        np.testing.assert_allclose(
            np.array(history[key], float), np.array(values, float), atol=1e-4
        )
    assert result.class_names == ["Adelie", "Chinstrap", "Gentoo"]
