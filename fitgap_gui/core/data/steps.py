"""The data steps every source shares: test part, split, subsample, label noise, scaling.

``core.data.datasets`` runs them in this order on the arrays a reader made: the test
part first, from all rows (``split_test``: its own seeded stream, stratified where it
can be), then the validation split of the rest, then ``prepare`` (training fraction,
validation fraction, label noise on the training labels only, scaling).  Each is
deterministic (its own numpy generator, never the global stream, so Keras's seeded run
stays plain Keras).  They use numpy and ``core.data.splits.split_rows`` only, so the
exported Keras script carries this very code (docs/ARCHITECTURE.md, "Export as Keras
script") and rebuilds FitGap's arrays bit for bit.
"""

import numpy as np

from fitgap_gui.core.data.splits import split_rows

#: The data config's keys the steps after the split take (``prepare``'s ``steps``).
STEP_KEYS = ("train_fraction", "validation_fraction", "label_noise", "scale")
#: The validation subsample's stream is ``seed + VALIDATION_SEED_OFFSET``, so it is
#: drawn independently of the training subsample's (``seed``) and label noise's.
VALIDATION_SEED_OFFSET = 104_729
#: The test part's stream is ``seed + TEST_SEED_OFFSET``: changing the test rows never
#: moves another draw, and no other step draws from it.
TEST_SEED_OFFSET = 15_485_863


def can_stratify(y, n_val):
    """Stratify when every class has two samples and both parts can hold every class."""
    counts = np.bincount(y)
    n_classes = np.count_nonzero(counts)
    return bool(
        counts[counts > 0].min() >= 2 and n_val >= n_classes and len(y) - n_val >= n_classes
    )


def split_data(x, y, validation_split, seed):
    """Train/validation rows: scikit-learn's split (``split_rows``), stratified where it can be.

    A class with a single sample cannot be in both parts.  Where the split put such a
    sample in validation, it trades places with the last training row whose class
    keeps another training row, so every class is trained on and the part sizes stay;
    any other split is scikit-learn's, untouched.  Returns the four arrays and the
    single-sample classes.
    """
    n_val = int(np.ceil(len(y) * validation_split))
    train, val = split_rows(y, validation_split, seed, stratify=can_stratify(y, n_val))
    x_tr, x_va, y_tr, y_va = x[train], x[val], y[train], y[val]
    singles = np.flatnonzero(np.bincount(y) == 1)
    lost = np.flatnonzero(np.isin(y_va, singles))
    if len(lost):
        x_tr, x_va, y_tr, y_va = x_tr.copy(), x_va.copy(), y_tr.copy(), y_va.copy()
    for row in lost:
        spare = np.flatnonzero(np.bincount(y_tr)[y_tr] >= 2)
        if not len(spare):
            break  # no training row can give its place
        k = spare[-1]
        x_tr[k], x_va[row] = x_va[row].copy(), x_tr[k].copy()
        y_tr[k], y_va[row] = y_va[row], y_tr[k]
    return (x_tr, x_va, y_tr, y_va), singles.tolist()


def split_test(x, y, test_split, seed):
    """``(x_rest, y_rest, x_test, y_test)``: the test part, drawn first from all rows.

    ``test_split`` of the rows (rounded up), stratified when every class has two rows
    and both parts can hold every class, from its own stream (``seed +
    TEST_SEED_OFFSET``); a class with a single row stays out of it.  With
    ``test_split`` 0 there is no test part: ``x_test`` and ``y_test`` are None.
    """
    if test_split <= 0.0:
        return x, y, None, None
    (x_rest, x_test, y_rest, y_test), _ = split_data(x, y, test_split, seed + TEST_SEED_OFFSET)
    return x_rest, y_rest, x_test, y_test


def subsample(x, y, fraction, seed):
    """Keep ``fraction`` of the rows of each class (at least one), in their order."""
    if fraction >= 1.0:
        return x, y
    rng = np.random.default_rng(seed)
    parts = []
    for cls in np.unique(y):
        rows = np.flatnonzero(y == cls)
        n = max(1, int(round(len(rows) * fraction)))
        parts.append(rng.permutation(rows)[:n])
    keep = np.sort(np.concatenate(parts))
    return x[keep], y[keep]


def label_noise_rows(n_train, fraction, seed):
    """The generator of the label noise and the training rows it gives a wrong label."""
    rng = np.random.default_rng(seed + 7919)
    return rng, rng.choice(n_train, size=int(round(n_train * fraction)), replace=False)


def noisy_rows(n_train, fraction, seed):
    """The training rows ``flip_labels`` gives a wrong label, or None without label noise."""
    return label_noise_rows(n_train, fraction, seed)[1] if fraction > 0.0 else None


def flip_labels(y, fraction, n_classes, seed):
    """Give ``fraction`` of the labels a different, random class (training rows only)."""
    if fraction <= 0.0 or n_classes < 2:
        return y
    rng, rows = label_noise_rows(len(y), fraction, seed)
    y = y.copy()
    shift = rng.integers(1, n_classes, size=len(rows))
    y[rows] = (y[rows] + shift) % n_classes
    return y


def scale(x_train, x_val, how, x_test=None):
    """ "standard" (mean 0, std 1) or "minmax" ([0, 1]) per feature, fitted on training rows
    and applied to the validation (and test) rows.  Returns the three (``x_test`` None
    stays None)."""
    if how == "standard":
        shift = x_train.mean(axis=0)
        span = x_train.std(axis=0)
    elif how == "minmax":
        shift = x_train.min(axis=0)
        span = x_train.max(axis=0) - shift
    else:
        return x_train, x_val, x_test
    span[span == 0] = 1.0
    scaled = [(x - shift) / span if x is not None else None for x in (x_train, x_val, x_test)]
    return scaled[0], scaled[1], scaled[2]


def _floats(x):
    return np.ascontiguousarray(x, dtype=np.float32)


def _labels(y):
    return np.ascontiguousarray(y, dtype=np.int64)


def prepare(x_train, y_train, x_val, y_val, n_classes, steps, seed, x_test=None, y_test=None):
    """The steps after the splits, in order: keep ``train_fraction`` of the training rows
    (and ``validation_fraction`` of the validation rows, from a stream of their own),
    flip ``label_noise`` of the training labels, ``scale``.  The test rows (if any) are
    only scaled: never subsampled, their labels never flipped.  Returns the six arrays
    as float32/int64 (the test pair None without a test part) and the training rows
    whose label was flipped (or None)."""
    x_train, y_train = subsample(x_train, y_train, steps["train_fraction"], seed)
    val_seed = seed + VALIDATION_SEED_OFFSET
    x_val, y_val = subsample(x_val, y_val, steps["validation_fraction"], val_seed)
    clean = y_train
    y_train = flip_labels(y_train, steps["label_noise"], n_classes, seed)
    x_train, x_val, x_test = scale(x_train, x_val, steps["scale"], x_test)
    flipped = np.flatnonzero(y_train != clean) if steps["label_noise"] > 0 else None
    has_test = x_test is not None and y_test is not None
    return (
        _floats(x_train),
        _labels(y_train),
        _floats(x_val),
        _labels(y_val),
        _floats(x_test) if has_test else None,
        _labels(y_test) if has_test else None,
        flipped,
    )
