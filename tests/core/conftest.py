"""Fixtures shared by the engine's tests."""

from __future__ import annotations

import pytest
from support.plain_keras import write_presplit_npz


@pytest.fixture
def presplit_npz(tmp_path):
    """A pre-split digits NPZ, the data of the faithfulness contract."""
    return write_presplit_npz(tmp_path)
