"""The model builder (core/model/build.py): what a CNN asks of its data."""

from __future__ import annotations

import pytest

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.errors import ConfigError
from fitgap_gui.core.model.build import check_model_for_data


def test_a_cnn_needs_image_data_and_room_to_pool():
    cnn = RunConfig.from_dict({"model": {"kind": "cnn"}}).model
    with pytest.raises(ConfigError, match="image data only"):
        check_model_for_data(cnn, (2,), None)  # moons
    check_model_for_data(cnn, (64,), (8, 8))  # flat digits with their image shape
    check_model_for_data(cnn, (28, 28), None)
    deep = RunConfig.from_dict({"model": {"kind": "cnn", "conv_filters": [4, 4, 4, 4]}}).model
    with pytest.raises(ConfigError, match="8x8 images allow 3 at most"):
        check_model_for_data(deep, (8, 8), None)
