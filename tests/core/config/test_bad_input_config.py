"""Bad config values and property tests: the config loader and the CSV reader only
ever raise FitGap's own error type, whatever they are given."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fitgap_gui.core.config.schema import RunConfig
from fitgap_gui.core.data.datasets import preview
from fitgap_gui.core.errors import ConfigError, DataError, FitGapError

BAD_VALUES = [
    ({"data": {"label_column": ""}}, "data.label_column"),
    ({"data": {"label_column": 1.5}}, "data.label_column"),
    ({"data": {"label_column": True}}, "data.label_column"),
    ({"data": {"image_size": 32}}, "data.image_size"),
    ({"data": {"image_size": [32]}}, "data.image_size"),
    ({"data": {"image_size": [2, 32]}}, "data.image_size[0]"),
    ({"data": {"image_size": [32, 5000]}}, "data.image_size[1]"),
    ({"data": {"grayscale": "yes"}}, "data.grayscale"),
    ({"data": {"source": "imagenet"}}, "data.source"),
    ({"data": {"source": "csv"}}, "data.path is required"),
    ({"model": {"augment_rotation": 0.9}}, "model.augment_rotation"),
    ({"model": {"augment_translation": -0.1}}, "model.augment_translation"),
    ({"model": {"augment_flip": 1}}, "model.augment_flip"),
    ({"training": {"epochs": 10**400}}, "training.epochs"),
    ({"data": {"labelcolumn": "y"}}, "unknown key data.labelcolumn"),
]


@pytest.mark.parametrize(("raw", "expected"), BAD_VALUES, ids=[e for _, e in BAD_VALUES])
def test_bad_config_value_names_the_key(raw, expected):
    with pytest.raises(ConfigError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        RunConfig.from_dict(raw)


def test_new_keys_round_trip_with_defaults():
    cfg = RunConfig()
    assert (cfg.data.label_column, cfg.data.image_size, cfg.data.grayscale) == (
        None,
        [32, 32],
        False,
    )
    assert not (
        cfg.model.augment_flip or cfg.model.augment_rotation or cfg.model.augment_translation
    )
    changed = cfg.replace({"data.label_column": "species", "model.augment_rotation": 0.1})
    again = RunConfig.from_json(changed.to_json())
    assert again == changed
    assert again.data.label_column == "species"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ("1" * 5000, "not usable JSON"),
        ("[" * 100_000 + "]" * 100_000, "not usable JSON"),
        ('{"data": {"n_samples": 1e400}}', "data.n_samples"),
    ],
    ids=["truncated", "list", "5000 digits", "deep nesting", "1e400"],
)
def test_unusable_json_is_a_config_error(text, expected):
    with pytest.raises(ConfigError, match=expected):
        RunConfig.from_json(text, source="c.json")


def test_config_file_kinds(tmp_path):
    import os

    with pytest.raises(ConfigError, match="no such config file"):
        RunConfig.load(tmp_path / "none.json")
    with pytest.raises(ConfigError, match="is a folder"):
        RunConfig.load(tmp_path)
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="not a UTF-8"):
        RunConfig.load(tmp_path / "bin.json")
    os.mkfifo(tmp_path / "pipe.json")
    with pytest.raises(ConfigError, match="not a regular file"):
        RunConfig.load(tmp_path / "pipe.json")


# -- property tests -----------------------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
keys = {
    "data": ["source", "path", "validation_split", "label_column", "image_size", "grayscale", "scale"],
    "model": ["hidden_units", "dropout", "augment_flip", "augment_rotation", "activation"],
    "training": ["epochs", "batch_size", "learning_rate", "seed", "optimizer"],
    "early_stopping": ["enabled", "patience", "monitor"],
}  # fmt: skip
config_like = st.fixed_dictionaries(
    {},
    optional={
        section: st.dictionaries(st.sampled_from(names), json_values, max_size=4)
        for section, names in keys.items()
    },
)


@settings(max_examples=150, deadline=None)
@given(st.one_of(config_like, json_values))
def test_config_loader_raises_only_config_errors(raw):
    try:
        cfg = RunConfig.from_json(json.dumps(raw))  # NaN and Infinity included
    except ConfigError as exc:
        assert "\n" not in str(exc)
    else:  # whatever is accepted survives its own JSON round trip
        assert RunConfig.from_json(cfg.to_json()) == cfg


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_config_loader_on_arbitrary_text(text):
    try:
        cfg = RunConfig.from_json(text)
    except ConfigError as exc:
        assert "\n" not in str(exc)
    else:
        assert RunConfig.from_json(cfg.to_json()) == cfg


cells = st.one_of(
    st.sampled_from(
        ["1", "-2.5", "1e400", "nan", "inf", "", " ", "x", "a,b", '"q"', "label", "1e39"]
    ),
    st.integers(-5, 5).map(str),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=5),
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.lists(cells, max_size=5), max_size=12),
    sep=st.sampled_from([",", ";", "\t", " "]),
    label_column=st.one_of(st.none(), st.integers(-6, 6), st.sampled_from(["label", "y", "zz"])),
    raw_bytes=st.one_of(st.none(), st.binary(max_size=40)),
)
def test_csv_reader_raises_only_data_errors(tmp_path, rows, sep, label_column, raw_bytes):
    from fitgap_gui.core.config.schema import DataConfig

    path = tmp_path / "prop.csv"
    if raw_bytes is not None:
        path.write_bytes(raw_bytes)
    else:
        path.write_text("\n".join(sep.join(row) for row in rows), encoding="utf-8")
    try:
        p = preview(DataConfig(source="csv", path=str(path), label_column=label_column))
    except DataError as exc:
        assert "\n" not in str(exc)
    else:  # whatever loads is usable: finite features, two classes or more
        assert len(p.class_names) >= 2
        assert sum(p.class_counts) == p.n_samples


def test_errors_are_fitgap_errors():
    assert issubclass(ConfigError, FitGapError) and issubclass(DataError, FitGapError)


# -- duplicate keys, encodings, sizes and paths -------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        '{"training": {"epochs": 100000, "epochs": 2}}',
        '{"training": {"epochs": 2}, "training": {"epochs": 3}}',
        '{"data": {"source": "moons"}, "model": {"hidden_units": [8], "hidden_units": [9]}}',
    ],
    ids=["nested", "section", "model"],
)
def test_duplicate_key_is_refused_naming_it(tmp_path, text):
    path = tmp_path / "dup.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        RunConfig.load(path)
    message = str(info.value)
    assert "dup.json" in message and "appears twice" in message
    assert any(f"'{key}'" in message for key in ("epochs", "training", "hidden_units"))


def test_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + b'{"training": {"epochs": 3}}')
    assert RunConfig.load(path).training.epochs == 3


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-16", "(it is UTF-16)"), ("utf-32", "(it is UTF-32)"), ("latin-1", "byte 22")],
)
def test_not_utf8_says_it_must_be_utf8(tmp_path, encoding, expected):
    path = tmp_path / "enc.json"
    path.write_bytes('{"data": {"path": "caf\xe9.csv"}}'.encode(encoding))
    with pytest.raises(ConfigError) as info:
        RunConfig.load(path)
    assert "not a UTF-8 text file" in str(info.value) and "save it as UTF-8" in str(info.value)
    assert expected in str(info.value)


def test_large_whitespace_config_still_loads(tmp_path):
    path = tmp_path / "spaces.json"
    with path.open("w", encoding="utf-8") as f:
        f.write('{"training": {"epochs": 4}')
        f.write(" \n\t" * (50 * 1024**2 // 3))
        f.write("}")
    assert path.stat().st_size > 50_000_000
    assert RunConfig.load(path).training.epochs == 4


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda t: t / ("a" * 300 + ".json"), "is 305 bytes long; the file system allows 255"),
        (lambda t: t.joinpath(*["d" * 200] * 25, "c.json"), "too long for the file system"),
    ],
    ids=["component of 300", "path of 5000"],
)
def test_too_long_path_is_a_clear_error(tmp_path, make, expected):
    path = make(tmp_path)
    with pytest.raises(ConfigError) as info:
        RunConfig.load(path)
    assert expected in str(info.value)
    assert len(str(info.value)) < 500


def test_symlink_loop_is_called_that(tmp_path):
    loop = tmp_path / "loop.json"
    loop.symlink_to(tmp_path / "loop.json")
    with pytest.raises(ConfigError, match="symbolic link loop"):
        RunConfig.load(loop)
