"""Table files: every column typed and prepared, fitted on the training rows only."""

from __future__ import annotations

import numpy as np
import pytest

from fitgap_gui.core.config.schema import DataConfig
from fitgap_gui.core.data.datasets import load_dataset, preview
from fitgap_gui.core.data.readers.tablefile import ColumnReport, inspect_table
from fitgap_gui.core.data.tableprep import prepare_table
from fitgap_gui.core.errors import DataError

SPECIES = ("Adelie", "Chinstrap", "Gentoo")


def _penguins(n: int = 60) -> str:
    """A penguins-like table: an ID, text label, two categories (one with NA), numbers
    with NA, a boolean, free text, an empty column, one row without a label."""
    rng = np.random.default_rng(0)
    lines = ["id,species,island,bill_mm,mass_g,sex,tagged,comment,empty"]
    for i in range(n):
        species = SPECIES[i % 3]
        bill = "NA" if i % 17 == 4 else f"{38 + 5 * (i % 3) + rng.normal():.1f}"
        sex = ["male", "female", "N/A"][i % 3 if i % 11 == 0 else i % 2]
        tagged = ["true", "false", ""][i % 3 if i % 13 == 0 else i % 2]
        label = "" if i == 7 else species
        mass = 3500 + 400 * (i % 3) + int(rng.integers(0, 300))
        lines.append(
            f"{1000 + i},{label},{['Biscoe', 'Dream'][i % 2]},{bill},{mass},{sex},{tagged},"
            f"note {i},"
        )
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def penguins(tmp_path_factory):
    path = tmp_path_factory.mktemp("tables") / "penguins.csv"
    path.write_text(_penguins(), encoding="utf-8")
    return path


def test_every_column_is_typed_and_its_fate_told(penguins):
    report = inspect_table(penguins)  # no label given, no column named label: the last one
    assert report.label == "empty" and "is empty" in str(report.error)
    report = inspect_table(penguins, "species")
    assert report.error is None and report.rows == 60
    assert report.columns == [
        ColumnReport("id", "integer", 60, 0, "dropped: every value distinct (an ID?)"),
        ColumnReport("species", "text", 3, 1, "label"),
        ColumnReport("island", "text", 2, 0, "one-hot, 2 categories"),
        ColumnReport("bill_mm", "number", report.columns[3].distinct, 4, "number"),
        ColumnReport("mass_g", "integer", report.columns[4].distinct, 0, "number"),
        ColumnReport("sex", "text", 2, 2, "one-hot, 2 categories"),
        ColumnReport("tagged", "boolean", 2, 1, "0/1"),
        ColumnReport("comment", "text", 60, 0, "dropped: every value distinct (an ID?)"),
        ColumnReport("empty", "empty", 0, 60, "dropped: empty"),
    ]
    assert report.class_counts == {"Adelie": 20, "Chinstrap": 19, "Gentoo": 20}
    assert report.notices == [
        "column 'id' dropped: every value distinct (an ID?)",
        "column 'comment' dropped: every value distinct (an ID?)",
        "column 'empty' dropped: empty",
        "1 row without a label ('species') dropped",
        "column 'bill_mm': 4 missing cells filled with the training rows' median",
        "column 'tagged': 1 missing cell filled with the training rows' most frequent value",
        "column 'sex': 2 missing cells filled with the training rows' most frequent value",
    ]


def test_the_table_trains_as_prepared_arrays(penguins):
    cfg = DataConfig(source="csv", path=str(penguins), label_column="species")
    ds = load_dataset(cfg, seed=0)
    assert ds.class_names == list(SPECIES)
    assert ds.input_shape == (2 + 1 + 2 + 2,)  # 2 numbers, 0/1, island and sex one-hot
    assert len(ds.y_train) + len(ds.y_val) + len(ds.y_test) == 59
    assert np.isfinite(ds.x_train).all() and np.isfinite(ds.x_test).all()
    assert ds.x_train.dtype == np.float32
    assert "1 row without a label ('species') dropped" in ds.summary()
    p = preview(cfg)
    assert p.input_shape == ds.input_shape and p.table is not None
    assert p.class_counts == [20, 19, 20]


def test_missing_cells_drop_rows_or_refuse(penguins):
    ds = load_dataset(DataConfig(source="csv", path=str(penguins), label_column="species",
                                 missing="drop_rows"), seed=0)  # fmt: skip
    assert len(ds.y_train) + len(ds.y_val) + len(ds.y_test) == 59 - 7
    assert "7 rows with a missing cell dropped (data.missing: drop_rows)" in ds.meta["notices"]
    report = inspect_table(penguins, "species", missing="refuse")
    assert report.error is not None and "line 6, column 'bill_mm': missing value ('NA')" in (
        report.error
    )
    with pytest.raises(DataError, match="missing value"):
        load_dataset(DataConfig(source="csv", path=str(penguins), label_column="species",
                                missing="refuse"), seed=0)  # fmt: skip


def test_many_texts_are_dropped_and_max_categories_is_a_setting(tmp_path):
    path = tmp_path / "words.csv"
    rows = "".join(f"w{i % 30},{i % 7},{'ab'[i % 2]}\n" for i in range(90))
    path.write_text("word,n,label\n" + rows, encoding="utf-8")
    assert inspect_table(path).columns[0].action == "one-hot, 30 categories"
    small = inspect_table(path, max_categories=20)
    assert small.columns[0].action == "dropped: 30 distinct texts (more than 20)"
    assert "column 'word' dropped: 30 distinct texts (more than 20)" in small.notices


def test_a_numeric_label_with_many_values_is_a_regression_target(tmp_path):
    path = tmp_path / "price.csv"
    path.write_text("a,price\n" + "".join(f"{i % 5},{i}\n" for i in range(80)), encoding="utf-8")
    report = inspect_table(path)
    assert report.label == "price" and report.columns[1].action == "label"
    assert "looks like a regression target (80 distinct numbers" in str(report.error)
    assert inspect_table(path, "a").error is None  # the preview can choose another label


def test_a_label_that_is_not_there_still_opens_the_preview(penguins):
    report = inspect_table(penguins, "Species ")  # a near miss matches, case and spaces aside
    assert report.label == "species"
    report = inspect_table(penguins, "kind")
    assert report.label is None and report.columns and "has no column 'kind'" in report.error


@pytest.mark.parametrize("kind", ["xlsx", "parquet"])
def test_excel_and_parquet_read_like_csv(tmp_path, penguins, kind):
    import pandas as pd

    frame = pd.read_csv(penguins, keep_default_na=False, dtype=str)
    frame["bill_mm"] = pd.to_numeric(frame["bill_mm"].replace("NA", None))
    frame["mass_g"] = frame["mass_g"].astype(int)
    path = tmp_path / f"penguins.{kind}"
    if kind == "xlsx":
        with pd.ExcelWriter(path) as writer:
            pd.DataFrame({"x": [1], "y": ["a"]}).to_excel(writer, sheet_name="notes", index=False)
            frame.to_excel(writer, sheet_name="birds", index=False)
        assert "no column 'species'" in inspect_table(path, "species").error  # sheet "notes"
        report = inspect_table(path, "species", sheet="birds")
        with pytest.raises(DataError, match="has no sheet 'fish'"):
            inspect_table(path, sheet="fish")
    else:
        frame.to_parquet(path)
        report = inspect_table(path, "species")
    csv = inspect_table(penguins, "species")
    assert [c.action for c in report.columns] == [c.action for c in csv.columns]
    assert report.class_counts == csv.class_counts


def test_excel_cells_are_named_by_sheet_row(tmp_path):
    import pandas as pd

    path = tmp_path / "typo.xlsx"
    values = [1.5, 2.5, "abc", 4.0] * 5
    pd.DataFrame({"a": values, "label": ["x", "y"] * 10}).to_excel(path, index=False)
    report = inspect_table(path)
    assert "typo.xlsx: row 4, column 'a': 'abc' is not a number" in report.error
    assert report.columns[0].action == "refused: row 4: 'abc' is not a number"


def test_scaling_and_imputing_are_fitted_on_the_training_rows_only():
    """Validation and test rows far from the training rows: were they seen by the
    imputer or the scaler, the training column would not be centred and the missing
    validation cell would not get the training median."""
    train = [1.0, 2.0, 3.0, 4.0, 100.0]
    features = np.array([[v] for v in train] + [[1e6], [np.nan], [-1e6]], dtype=np.float32)
    y = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    plan = {"numbers": ["a"], "booleans": [], "categories": [], "missing": "impute"}
    steps = {"train_fraction": 1.0, "validation_fraction": 1.0, "label_noise": 0.0,
             "scale": "standard"}  # fmt: skip
    parts = (np.arange(5), y[:5], np.array([5, 6]), y[5:7], np.array([7]), y[7:])
    x_tr, _, x_va, _, x_te, _, _ = prepare_table(features, parts, 2, steps, 0, plan)
    mean, std = np.mean(train), np.std(train)
    np.testing.assert_allclose(x_tr[:, 0], (np.array(train) - mean) / std, rtol=1e-5)
    np.testing.assert_allclose(x_va[1, 0], (np.median(train) - mean) / std, rtol=1e-5)
    np.testing.assert_allclose(x_te[0, 0], (-1e6 - mean) / std, rtol=1e-5)


def test_a_table_is_standardized_unless_the_config_says_otherwise(penguins):
    cfg = DataConfig(source="csv", path=str(penguins), label_column="species")
    ds = load_dataset(cfg, seed=0)
    np.testing.assert_allclose(ds.x_train[:, :2].mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(ds.x_train[:, :2].std(axis=0), 1.0, atol=1e-4)
    raw = load_dataset(DataConfig(source="csv", path=str(penguins), label_column="species",
                                  scale="none"), seed=0)  # fmt: skip
    assert raw.x_train[:, 1].min() > 3000  # mass in grams, as written


def test_a_tables_source_rows_are_its_own_split_of_row_numbers(penguins):
    """A table's x is its row numbers, so its split serves as the per-example index;
    it equals the split run again on row numbers, as other sources get it."""
    from fitgap_gui.core.data.datasets import read_source, split_parts
    from fitgap_gui.core.data.steps import subsample

    cfg = DataConfig(
        source="csv", path=str(penguins), label_column="species", train_fraction=0.5,
        label_noise=0.2,
    )  # fmt: skip
    ds = load_dataset(cfg, seed=3)
    raw = read_source(cfg, 3)
    numbers = split_parts(raw, cfg, 3, x=np.arange(len(raw.y)))
    rows, original = subsample(numbers.x_train, numbers.y_train, 0.5, 3)
    np.testing.assert_array_equal(ds.source_rows, rows)
    np.testing.assert_array_equal(ds.original_labels, original)
    assert len(rows) == len(ds.y_train) and (ds.original_labels != ds.y_train).any()
