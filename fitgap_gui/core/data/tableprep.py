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
        return pd.read_excel(path, sheet_name=0 if sheet is None else sheet)
    tokens = sorted({t for t in MISSING_TOKENS for t in (t, t.upper(), t.title())} | {"N/a"})
    return pd.read_csv(
        path,
        sep=options["sep"],
        header=0 if options["header"] else None,
        names=options["names"],
        usecols=range(len(options["names"])),
        index_col=False,
        encoding="utf-8-sig",
        na_values=tokens,
        keep_default_na=False,
        skipinitialspace=True,
        skip_blank_lines=True,
        low_memory=False,
    )


def clean_table(frame):
    """Every column of numbers or booleans as read; every other column as text, each
    cell stripped, blank cells and missing tokens made missing (NaN)."""
    import pandas as pd  # deferred: pandas is heavy and only tables need it

    out = {}
    for name in frame.columns:
        column = frame[name]
        if column.dtype.kind in "biuf":
            out[name] = column
            continue
        text = column.astype("str").str.strip()
        out[name] = text.mask(text.str.lower().isin(MISSING_TOKENS))
    return pd.DataFrame(out, index=frame.index)


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


def label_codes(values, numeric):
    """Labels as class numbers and the class names: numbers ordered by value, text by name."""
    if numeric:
        order = np.unique(values)
        return np.searchsorted(order, values).astype(np.int64), [f"{v:g}" for v in order]
    texts = values.astype(str)
    names = np.unique(texts)
    return np.searchsorted(names, texts).astype(np.int64), names.tolist()


def table_rows(frame, plan):
    """``(features, y, class_names, n_unlabelled, n_incomplete)``: the plan's columns typed
    (numbers as float64, 0/1 columns as float64, categories as text), rows without a
    label dropped, with ``missing: drop_rows`` rows with a missing feature too."""
    import pandas as pd  # deferred: pandas is heavy and only tables need it

    frame = clean_table(frame)
    used = plan["numbers"] + plan["booleans"] + plan["categories"]
    labelled = frame[plan["label"]].notna().to_numpy()
    keep = labelled.copy()
    if plan["missing"] == "drop_rows":
        keep &= frame[used].notna().all(axis=1).to_numpy()
    rows = frame.loc[keep]
    columns = {}
    for name in plan["numbers"]:
        columns[name] = as_numbers(rows[name])
    for name in plan["booleans"]:
        columns[name] = np.array([_truth(v) for v in rows[name].astype(object)], dtype=np.float64)
    for name in plan["categories"]:
        columns[name] = rows[name].astype(object).to_numpy()
    features = pd.DataFrame(columns, columns=used)
    labels = rows[plan["label"]]
    values = as_numbers(labels) if plan["label_numeric"] else labels.astype(object).to_numpy()
    y, names = label_codes(values, plan["label_numeric"])
    return features, y, names, int((~labelled).sum()), int(labelled.sum() - keep.sum())


def table_transformer(plan, how):
    """The ColumnTransformer for the plan's columns, scaling numbers ``how`` ("none",
    "standard", "minmax"); its output is float32."""
    from sklearn.compose import ColumnTransformer  # deferred: scikit-learn is heavy
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler

    scalers = {"standard": StandardScaler, "minmax": MinMaxScaler}
    number_steps = [SimpleImputer(strategy="median")]
    if how in scalers:
        number_steps.append(scalers[how]())
    parts = []
    if plan["numbers"]:
        parts.append(("numbers", make_pipeline(*number_steps), plan["numbers"]))
    if plan["booleans"]:
        parts.append(("booleans", SimpleImputer(strategy="most_frequent"), plan["booleans"]))
    if plan["categories"]:
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float32)
        category_steps = make_pipeline(SimpleImputer(strategy="most_frequent"), encoder)
        parts.append(("categories", category_steps, plan["categories"]))
    return ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0)


def _transform(transformer, features, rows):
    part = features.iloc[rows]
    return np.ascontiguousarray(transformer.transform(part), dtype=np.float32)


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
    transformer.fit(features.iloc[rows_tr])
    x_tr = _transform(transformer, features, rows_tr)
    x_va = _transform(transformer, features, rows_va)
    x_te = _transform(transformer, features, rows_te) if rows_te is not None else None
    y_te = None if y_te is None else np.asarray(y_te, dtype=np.int64)
    labels = [np.asarray(y, dtype=np.int64) for y in (y_tr, y_va)]
    return x_tr, labels[0], x_va, labels[1], x_te, y_te, flipped
