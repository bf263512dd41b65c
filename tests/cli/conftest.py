"""Fixtures of the CLI tests: configs written as JSON files for ``--config``."""

from __future__ import annotations

import pytest


@pytest.fixture
def write_config(tmp_path):
    """``write_config(config, name="tiny.json")``: ``config`` saved under tmp_path; its path."""

    def write(config, name: str = "tiny.json"):
        path = tmp_path / name
        config.save(path)
        return path

    return write


@pytest.fixture
def config_file(write_config, tiny_config):
    """tests/conftest.py's tiny run (60 digits, 3 epochs) as a JSON file."""
    return write_config(tiny_config)
