"""Shared test set-up: offscreen Qt, a private run store per test, quiet TensorFlow."""

from __future__ import annotations

import os

# Before anything imports Qt or TensorFlow.  Always offscreen, even when the shell
# names a platform (or an empty one): the tests never need, or open, a real screen.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def fitgap_home(tmp_path, monkeypatch):
    """Every test gets its own run store folder, never the user's real one."""
    home = tmp_path / "fitgap-home"
    monkeypatch.setenv("FITGAP_HOME", str(home))
    return home


@pytest.fixture
def tiny_config():
    """A run that trains real Keras in well under a second: 60 digits, 3 epochs."""
    from fitgap_gui.core.config import RunConfig

    return RunConfig.from_dict(
        {
            "data": {"source": "digits", "train_fraction": 0.05, "validation_split": 0.2},
            "model": {"hidden_units": [16]},
            "training": {"epochs": 3, "batch_size": 16, "seed": 1},
        }
    )


@pytest.fixture
def assert_same_data():
    """Check that a script's ``load_data()`` result equals FitGap's Dataset, dtypes too."""
    import numpy as np

    def check(loaded, expected) -> None:
        x_train, y_train, x_val, y_val, n_classes = loaded
        assert n_classes == expected.n_classes
        for got, want in (
            (x_train, expected.x_train),
            (y_train, expected.y_train),
            (x_val, expected.x_val),
            (y_val, expected.y_val),
        ):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)

    return check
