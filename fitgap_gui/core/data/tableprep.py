"""A table's preparation, fitted on the training rows only: scikit-learn's ColumnTransformer.

Plain functions over a pandas DataFrame and a *plan* (a dict naming the label column,
its classes and the feature columns of each kind, as ``core.data.readers.tablefile``
decides them), so the exported Keras script carries this very code and repeats the
preparation (docs/ARCHITECTURE.md, "Tables"):

- ``read_table_file``: the file read with pandas (CSV/TSV, Parquet, Excel);
- ``clean_table``: text cells stripped, missing tokens (NA, N/A, NaN, nan, null, blank)
  made missing;
- ``table_rows``: the columns typed per the plan, rows without a label dropped (and
  with ``missing: drop_rows`` rows with a missing feature), labels as class numbers;
- ``table_transformer``: SimpleImputer + scaler for numbers, SimpleImputer for 0/1
  columns, SimpleImputer + OneHotEncoder(handle_unknown="ignore") for categories;
- ``prepare_table``: the steps after the splits (``steps.prepare``'s order) with the
  transformer fitted on the training rows and applied to validation and test.
"""

import numpy as np

from fitgap_gui.core.data.steps import VALIDATION_SEED_OFFSET, flip_labels, subsample

#: Cells that mean "no value" (compared after stripping, case-insensitively).
MISSING_TOKENS = ("", "na", "n/a", "nan", "null")


def read_table_file(path, options):
    """The file as pandas reads it, every cell as found (typed by ``table_rows`` later).

    ``options["kind"]`` is "csv" (with ``sep``, ``header`` (bool) and ``names``),
    "parquet" or "excel" (with ``sheet``: a name, or None for the first sheet).
    """
    import pandas as pd  # deferred: pandas is heavy and only tables need it

    kind = options["kind"]
    if kind == "parquet":
        return pd.read_parquet(path)
    if kind == "excel":
        sheet = options.get("sheet")
        with pd.ExcelFile(path, engine="openpyxl") as book:  # (closed on a missing sheet too)
            return pd.read_excel(book, sheet_name=0 if sheet is None else sheet)
    tokens = sorted({t for t in MISSING_TOKENS for t in (t, t.upper(), t.title())} | {"N/a"})
    frame = pd.read_csv(
        path,
        sep=options["sep"],
        header=None,  # a line longer than the first is a ParserError, never cut short
        skiprows=1 if options["header"] else 0,
        index_col=False,
        encoding="utf-8-sig",
        na_values=tokens,
        keep_default_na=False,
        skipinitialspace=True,
        skip_blank_lines=True,
        # In one piece: pieces are faster but peak higher (benchmarks/RESULTS.md, section 12).
        low_memory=False,
    )
    names = options["names"]
    frame = frame.iloc[:, : len(names)]  # (every line ending in the delimiter: one more)
    frame.columns = names
    return frame


def clean_table(frame):
    """Every column of numbers or booleans as read; every other column as text, each
    cell stripped, blank cells and missing tokens made missing (NaN)."""
    out = frame.copy(deep=False)
    for name in frame.columns:
        column = frame[name]
        if column.dtype.kind in "biuf":
            continue
        text = column if column.dtype == "str" else column.astype("str")
        values = text.dropna().unique()
        if any(v != v.strip() or v.lower() in MISSING_TOKENS for v in values):
            text = text.str.strip()
            text = text.mask(text.str.lower().isin(MISSING_TOKENS))
        if text is not column:
            out[name] = text
    return out


def as_numbers(column):
    """A column of numbers as float64 (text cells parsed as Python reads a float)."""
    if column.dtype.kind in "biuf":
        return column.to_numpy(np.float64)
    return column.astype(object).map(float, na_action="ignore").to_numpy(np.float64)


def _truth(value):
    """1.0 for true, 0.0 for false (bools or the words), NaN for a missing cell."""
    if value != value:
        return np.nan
    if isinstance(value, str):
        return {"true": 1.0, "false": 0.0}[value.lower()]
    return float(bool(value))


def _codes(column):
    """Text as the numbers of its values in sorted order (NaN where missing): the one-hot
    encoder sees the same order and ties as with the text, faster."""
    import pandas as pd  # deferred: pandas is heavy and only tables need it

    codes = pd.Categorical(column).codes.astype(np.float32)
    codes[codes < 0] = np.nan
    return codes


def label_codes(values, numeric):
    """Labels as class numbers and the class names: numbers ordered by value, text by name."""
    import pandas as pd  # deferred: pandas is heavy and only tables need it

    if numeric:
        order, y = np.unique(as_numbers(values), return_inverse=True)
        return y.astype(np.int64), [f"{v:g}" for v in order]
    labels = pd.Categorical(values if values.dtype == "str" else values.astype("str"))
    return labels.codes.astype(np.int64), [str(c) for c in labels.categories]


def table_rows(frame, plan):
    """``(features, y, class_names, n_unlabelled, n_incomplete)`` of a cleaned table
    (``clean_table``): rows without a label dropped (with ``missing: drop_rows``, rows
    with a missing feature too), the plan's columns as one float32 array (numbers, 0/1
    columns, then each category column as the numbers of its sorted values; NaN where
    a cell is missing), labels as class numbers."""
    used = plan["numbers"] + plan["booleans"] + plan["categories"]
    labelled = frame[plan["label"]].notna().to_numpy()
    keep = labelled.copy()
    if plan["missing"] == "drop_rows":
        keep &= frame[used].notna().all(axis=1).to_numpy()
    rows = frame.loc[keep] if not keep.all() else frame
    columns = np.empty((len(used), len(rows)), dtype=np.float32)  # one column per row
    for i, name in enumerate(used):
        column = rows[name]
        if name in plan["numbers"]:
            columns[i] = as_numbers(column)
        elif name in plan["booleans"]:
            columns[i] = [_truth(v) for v in column.astype(object)]
        else:
            columns[i] = _codes(column)
    features = np.ascontiguousarray(columns.T)
    del columns
    y, names = label_codes(rows[plan["label"]], plan["label_numeric"])
    return features, y, names, int((~labelled).sum()), int(labelled.sum() - keep.sum())


def table_transformer(plan, how):
    """The ColumnTransformer for ``table_rows``'s array, scaling the numbers ``how``
    ("none", "standard", "minmax"); its output is float32."""
    from sklearn.compose import ColumnTransformer  # deferred: scikit-learn is heavy
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler

    scalers = {"standard": StandardScaler, "minmax": MinMaxScaler}
    # The median as a callable: the same statistic as strategy="median", computed on each
    # column's present values (10x faster than its masked-array median: benchmarks/RESULTS.md,
    # section 12).
    number_steps = [SimpleImputer(strategy=np.median)]
    if how in scalers:
        number_steps.append(scalers[how]())
    a = len(plan["numbers"])
    b = a + len(plan["booleans"])
    c = b + len(plan["categories"])
    parts = []
    if a:
        parts.append(("numbers", make_pipeline(*number_steps), list(range(a))))
    if b > a:
        parts.append(("booleans", SimpleImputer(strategy="most_frequent"), list(range(a, b))))
    if c > b:
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float32)
        category_steps = make_pipeline(SimpleImputer(strategy="most_frequent"), encoder)
        parts.append(("categories", category_steps, list(range(b, c))))
    return ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0)


def _transform(transformer, features, rows):
    return np.ascontiguousarray(transformer.transform(features[rows]), dtype=np.float32)


def prepare_table(features, parts, n_classes, steps, seed, plan):
    """``steps.prepare`` for a table: ``parts`` are the row numbers and labels of each part
    (``(rows_train, y_train, rows_val, y_val, rows_test, y_test)``, the test pair None
    without a test part).  Keep ``train_fraction`` of the training rows (and
    ``validation_fraction`` of the validation rows), flip ``label_noise`` of the
    training labels, then fit the transformer on the training rows kept and apply it
    to every part.  Returns the six arrays (float32/int64) and the flipped rows."""
    rows_tr, y_tr, rows_va, y_va, rows_te, y_te = parts
    rows_tr, y_tr = subsample(rows_tr, y_tr, steps["train_fraction"], seed)
    val_seed = seed + VALIDATION_SEED_OFFSET
    rows_va, y_va = subsample(rows_va, y_va, steps["validation_fraction"], val_seed)
    clean = y_tr
    y_tr = flip_labels(y_tr, steps["label_noise"], n_classes, seed)
    flipped = np.flatnonzero(y_tr != clean) if steps["label_noise"] > 0 else None
    transformer = table_transformer(plan, steps["scale"])
    x_tr = np.ascontiguousarray(transformer.fit_transform(features[rows_tr]), dtype=np.float32)
    x_va = _transform(transformer, features, rows_va)
    x_te = _transform(transformer, features, rows_te) if rows_te is not None else None
    y_te = None if y_te is None else np.asarray(y_te, dtype=np.int64)
    labels = [np.asarray(y, dtype=np.int64) for y in (y_tr, y_va)]
    return x_tr, labels[0], x_va, labels[1], x_te, y_te, flipped
