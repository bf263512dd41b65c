"""The CSV reader: valid variants load, every malformed file is one clear DataError."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fitgap_gui.core.config.schema import DataConfig
from fitgap_gui.core.data.datasets import load_dataset, preview
from fitgap_gui.core.errors import DataError


def _csv(tmp_path, text: str, name: str = "data.csv", **cfg):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return DataConfig(source="csv", path=str(path), **cfg)


def _rows(n: int, sep: str = ",", labels=("a", "b")) -> str:
    return "".join(f"{i}{sep}{i * 0.5}{sep}{labels[i % len(labels)]}\n" for i in range(n))


# -- valid files ------------------------------------------------------------------------------
@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_delimiter_is_sniffed(tmp_path, sep):
    cfg = _csv(tmp_path, f"f1{sep}f2{sep}label\n" + _rows(10, sep))
    p = preview(cfg)
    assert p.input_shape == (2,)
    assert p.class_names == ["a", "b"]
    assert p.class_counts == [5, 5]
    assert p.meta["header"] is True


def test_no_header_uses_last_column_and_keeps_first_row(tmp_path):
    p = preview(_csv(tmp_path, _rows(10)))
    assert p.meta["header"] is False
    assert p.n_samples == 10  # the first row is data, not a header


def test_string_labels_become_classes_with_names(tmp_path):
    text = "x,y2,species\n" + "".join(
        f"{i},{i % 3},{['setosa', 'virginica', 'versicolor'][i % 3]}\n" for i in range(30)
    )
    ds = load_dataset(_csv(tmp_path, text, label_column="species"), seed=0)
    assert ds.class_names == ["setosa", "versicolor", "virginica"]
    assert ds.n_classes == 3
    assert (len(ds.x_train), len(ds.x_val), len(ds.x_test)) == (19, 5, 6)  # test part first


def test_label_found_by_name_anywhere(tmp_path):
    text = "Target,a,b\n" + "".join(f"{i % 2},{i},{-i}\n" for i in range(10))
    p = preview(_csv(tmp_path, text))
    assert p.meta["label_column"] == "Target"
    assert p.meta["feature_names"] == ["a", "b"]


def test_label_column_by_number_without_header(tmp_path):
    text = "".join(f"{i % 2},{i},{i * 2}\n" for i in range(10))
    p = preview(_csv(tmp_path, text, label_column=0))
    assert p.meta["label_column"] == 0
    assert p.class_names == ["0", "1"]


def test_numeric_labels_are_ordered_by_value(tmp_path):
    text = "a,label\n" + "".join(f"{i},{[10, 2, 2.0][i % 3]}\n" for i in range(12))
    p = preview(_csv(tmp_path, text))
    assert p.class_names == ["2", "10"]  # 2 and 2.0 are one class, ordered before 10
    assert p.class_counts == [8, 4]


def test_quotes_bom_crlf_and_blank_lines(tmp_path):
    path = tmp_path / "excel.csv"
    body = '\ufeff"a";"b";"label"\r\n' + "".join(f'{i};"{i}";c{i % 2}\r\n' for i in range(8))
    path.write_text(body + "\r\n\r\n", encoding="utf-8", newline="")
    p = preview(DataConfig(source="csv", path=str(path)))
    assert p.n_samples == 8
    assert p.meta["delimiter"] == "semicolon"


def test_large_file_loads_quickly(tmp_path):
    import time

    rng = np.random.default_rng(0)
    x = rng.normal(size=(50_000, 20))
    path = tmp_path / "big.csv"
    np.savetxt(path, np.column_stack([x, rng.integers(0, 3, 50_000)]), delimiter=",", fmt="%.6g")
    start = time.perf_counter()
    ds = load_dataset(DataConfig(source="csv", path=str(path)), seed=0)
    elapsed = time.perf_counter() - start
    assert ds.input_shape == (20,)
    assert elapsed < 10.0, f"50k x 21 CSV took {elapsed:.1f} s"


# -- malformed files --------------------------------------------------------------------------
MALFORMED = [
    ("empty", "", "is empty"),
    ("blank lines", "\n\n  \n", "no rows"),
    ("header only", "a,b,label\n", "no data rows"),
    ("one column", "a\n1\n2\n3\n4\n", "no comma, semicolon or tab"),
    ("ragged row", "a,b,label\n1,2,x\n3,4\n5,6,y\n", "line 3 has 2 fields"),
    ("extra field", "a,b,label\n1,2,x\n3,4,y,9\n", "line 3 has 4 fields"),
    ("text in features", "a,b,label\n1,2,x\n3,oops,y\n1,1,x\n2,2,y\n", "line 3, column 'b'"),
    ("decimal comma", "a;b;label\n1;2,5;x\n3;4,25;y\n1;1,5;x\n2;2,5;y\n", "line 2, column 'b': '2,5' is not a number (a decimal comma"),
    ("thousands", "a,b,label\n1,\"1,200\",x\n3,\"4,000\",y\n1,\"1,500\",x\n2,\"2,000\",y\n", "'1,200' is not a number"),
    ("unit", "a,b,label\n1,12 kg,x\n3,4 kg,y\n1,1,x\n2,2,y\n", "line 2, column 'b': '12 kg' is not a number (a decimal comma, a thousands separator or a unit?)"),
    ("inf", "a,b,label\n1,2,x\n3,-inf,y\n1,1,x\n2,2,y\n", "line 3, column 'b': '-inf' is infinite"),
    ("overflow 1e400", "a,b,label\n1,2,x\n3,1e400,y\n1,1,x\n2,2,y\n", "overflow"),
    ("float32 overflow", "a,b,label\n1,2,x\n3,1e39,y\n1,1,x\n2,2,y\n", "32-bit"),
    ("one class", "a,b,label\n" + "1,2,x\n" * 10, "at least two classes"),
    ("too few rows", "a,b,label\n1,2,x\n3,4,y\n", "too few"),
    ("binary file", "PK\x03\x04\x00\x00garbage", "binary"),
    ("regression target", "a,b,price\n" + "".join(f"{i},{i},{i * 1.5}\n" for i in range(40)), "number to predict"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "text", "expected"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_csv_is_one_clear_error(tmp_path, case, text, expected):
    cfg = _csv(tmp_path, text)
    with pytest.raises(DataError) as info:
        load_dataset(cfg, seed=0)
    message = str(info.value)
    assert expected in message
    assert "data.csv" in message
    assert "\n" not in message


REFUSED_MISSING = [
    ("blank", "a,b,label\n1,2,x\n3,,y\n1,1,x\n2,2,y\n", "line 3, column 'b': missing value"),
    ("nan", "a,b,label\n1,2,x\nnan,4,y\n1,1,x\n2,2,y\n", "line 3, column 'a': missing value ('nan')"),
    ("null", "a,b,label\n1,2,x\n3, null ,y\n1,1,x\n2,2,y\n", "missing value ('null')"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "text", "expected"), REFUSED_MISSING, ids=[m[0] for m in REFUSED_MISSING]
)
def test_missing_cells_are_refused_with_missing_refuse(tmp_path, case, text, expected):
    with pytest.raises(DataError) as info:
        load_dataset(_csv(tmp_path, text * 1, missing="refuse"), seed=0)
    assert expected in str(info.value)


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("a,b,label\n1,2,caf\xe9\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8"):
        preview(DataConfig(source="csv", path=str(path)))


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        preview(DataConfig(source="csv", path=str(tmp_path / "nope.csv")))
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(DataError, match="is a folder"):
        preview(DataConfig(source="csv", path=str(tmp_path / "dir.csv")))


def test_fifo_is_refused_not_read(tmp_path):
    import os

    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match="not a regular file"):
        preview(DataConfig(source="csv", path=str(fifo)))


@pytest.mark.parametrize(
    ("label_column", "expected"),
    [("species", "no column 'species'"), (7, "out of range"), (-4, "out of range")],
)
def test_bad_label_column(tmp_path, label_column, expected):
    cfg = _csv(tmp_path, "a,b,label\n" + _rows(8), label_column=label_column)
    with pytest.raises(DataError, match=expected):
        preview(cfg)


def test_label_name_without_header(tmp_path):
    with pytest.raises(DataError, match="no header row"):
        preview(_csv(tmp_path, _rows(8), label_column="label"))


def test_fast_and_careful_parsers_agree(tmp_path):
    """Quotes send a file to the csv-module path; the numbers must not change."""
    rng = np.random.default_rng(1)
    rows = [(rng.normal(), rng.integers(-5, 5), ["lo", "hi", " mid"][i % 3]) for i in range(60)]
    plain = "a;b;label\n" + "".join(f"{a!r};{b};{c}\n" for a, b, c in rows)
    quoted = "a;b;label\n" + "".join(f'{a!r};{b};"{c}"\n' for a, b, c in rows)
    fast = load_dataset(_csv(tmp_path, plain, "plain.csv"), seed=0)
    careful = load_dataset(_csv(tmp_path, quoted, "quoted.csv"), seed=0)
    np.testing.assert_array_equal(fast.x_train, careful.x_train)
    np.testing.assert_array_equal(fast.y_train, careful.y_train)
    assert fast.class_names == careful.class_names == ["hi", "lo", "mid"]


# -- the whole stream through the csv module ------------------------------------------------------
@pytest.mark.parametrize("inside", ["\n", "\r\n", "\u2028", "\x0c", "\u2029", "\x85"])
def test_quoted_field_may_hold_a_line_break(tmp_path, inside):
    rows = "".join(f'{i},{i * 0.5},"{"a" if i % 2 else "b"}{inside}x"\n' for i in range(10))
    path = tmp_path / "quoted.csv"
    path.write_text("f1,f2,label\n" + rows, encoding="utf-8", newline="")
    p = preview(DataConfig(source="csv", path=str(path)))
    assert p.n_samples == 10 and p.input_shape == (2,)
    assert p.class_names == [f"a{inside}x", f"b{inside}x"]


def test_line_numbers_count_physical_lines_after_a_multiline_field(tmp_path):
    text = 'a,b,label\n1,2,"two\nlines"\n3,4,x\n5,oops,y\n'
    with pytest.raises(DataError, match="line 5, column 'b': 'oops' is not a number"):
        load_dataset(_csv(tmp_path, text), seed=0)


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        ("0,,a", "line 1, column 2: missing value"),
        ("0,NA,a", "line 1, column 2: missing value ('NA')"),
        (",0.5,a", "line 1, column 1: missing value"),
        ("0,n/a,a", "line 1, column 2: missing value ('n/a')"),
    ],
)
def test_headerless_first_row_with_a_missing_value_is_refused_not_dropped(
    tmp_path, first, expected
):
    text = first + "\n" + "".join(_rows(12).splitlines(keepends=True)[1:])
    with pytest.raises(DataError) as info:
        load_dataset(_csv(tmp_path, text, missing="refuse"), seed=0)
    assert expected in str(info.value)


def test_header_with_a_blank_index_name_is_still_a_header(tmp_path):
    """pandas writes its index column with a blank name: that row is a header."""
    text = ",f1,label\n" + "".join(f"{i},{i * 2},{'ab'[i % 2]}\n" for i in range(10))
    p = preview(_csv(tmp_path, text))
    assert p.meta["header"] is True and p.n_samples == 10


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-16", "is UTF-16 text, not UTF-8; save it as UTF-8"),
        ("utf-16-le", "looks like UTF-16 text, not UTF-8; save it as UTF-8"),
        ("utf-32", "is UTF-32 text, not UTF-8"),
        ("latin-1", "is not UTF-8 text (byte 17 is not UTF-8); save it as UTF-8"),
    ],
)
def test_other_encodings_are_told_to_be_utf8(tmp_path, encoding, expected):
    path = tmp_path / "enc.csv"
    path.write_bytes(("a,b,label\n1,2,caf\xe9\n" + _rows(8)).encode(encoding))
    with pytest.raises(DataError) as info:
        preview(DataConfig(source="csv", path=str(path)))
    assert expected in str(info.value)
    assert "binary" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a,b,label\n1;2;x\n3;4;y\n", "delimiters are mixed (line 1 uses commas, line 2 semicolons)"),
        ("1\t2\tx\n3\t4\ty\n5,6,x\n", "delimiters are mixed (line 1 uses tabs, line 3 commas)"),
        ("a,b,label\n" + _rows(60) + "1;2;x\n", "line 62 has 1 fields but the header has 3 (comma-separated); the delimiters are mixed"),
    ],
)  # fmt: skip
def test_mixed_delimiters_are_called_mixed(tmp_path, text, expected):
    with pytest.raises(DataError) as info:
        load_dataset(_csv(tmp_path, text), seed=0)
    assert expected in str(info.value)


@pytest.mark.parametrize("header", [True, False])
@pytest.mark.parametrize("sep", [",", ";", "\t"])
@pytest.mark.parametrize("quoted", [False, True])
def test_every_line_ending_in_a_delimiter_ignores_the_empty_last_column(
    tmp_path, header, sep, quoted
):
    body = _rows(12, sep)
    if quoted:
        body = body.replace(f"{sep}a\n", f'{sep}"a"\n')
    top = f"f1{sep}f2{sep}label\n" if header else ""
    plain = load_dataset(_csv(tmp_path, top + body, "plain.csv"), seed=0)
    trailing_text = "".join(line + sep + "\n" for line in (top + body).splitlines())
    cfg = _csv(tmp_path, trailing_text, "trailing.csv")
    ds = load_dataset(cfg, seed=0)
    np.testing.assert_array_equal(ds.x_train, plain.x_train)
    np.testing.assert_array_equal(ds.y_train, plain.y_train)
    assert ds.class_names == plain.class_names == ["a", "b"]
    assert preview(cfg).meta["empty_last_column_ignored"] is True


def test_the_layout_found_is_what_pandas_is_told(tmp_path):
    """The exported script reads the file with these options (``read_table_file``)."""
    from fitgap_gui.core.data.readers.tableread import load_table_file

    cfg = _csv(tmp_path, "".join(line + ";\n" for line in ("f1;f2;label", *_rows(6, ";").split())))
    table = load_table_file(Path(cfg.path))
    assert table.options == {"kind": "csv", "sep": ";", "header": True,
                             "names": ["f1", "f2", "label"]}  # fmt: skip
    assert table.meta["empty_last_column_ignored"] is True
    assert table.frame.shape == (6, 3)
