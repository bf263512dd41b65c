"""The data steps every source shares: split, subsample, label noise, scaling.

``core.data.datasets`` runs them in this order on the arrays a reader made; each is
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


def scale(x_train, x_val, how):
    """ "standard" (mean 0, std 1) or "minmax" ([0, 1]) per feature, fitted on training rows."""
    if how == "standard":
        mean = x_train.mean(axis=0)
        std = x_train.std(axis=0)
        std[std == 0] = 1.0
        return (x_train - mean) / std, (x_val - mean) / std
    if how == "minmax":
        lo = x_train.min(axis=0)
        span = x_train.max(axis=0) - lo
        span[span == 0] = 1.0
        return (x_train - lo) / span, (x_val - lo) / span
    return x_train, x_val


def prepare(x_train, y_train, x_val, y_val, n_classes, steps, seed):
    """The steps after the split, in order: keep ``train_fraction`` of the training rows
    (and ``validation_fraction`` of a validation set of the data's own, from a stream of
    its own), flip ``label_noise`` of the training labels, ``scale``.  Returns the four
    arrays as float32/int64 and the training rows whose label was flipped (or None)."""
    x_train, y_train = subsample(x_train, y_train, steps["train_fraction"], seed)
    val_seed = seed + VALIDATION_SEED_OFFSET
    x_val, y_val = subsample(x_val, y_val, steps["validation_fraction"], val_seed)
    clean = y_train
    y_train = flip_labels(y_train, steps["label_noise"], n_classes, seed)
    x_train, x_val = scale(x_train, x_val, steps["scale"])
    flipped = np.flatnonzero(y_train != clean) if steps["label_noise"] > 0 else None
    return (
        np.ascontiguousarray(x_train, dtype=np.float32),
        np.ascontiguousarray(y_train, dtype=np.int64),
        np.ascontiguousarray(x_val, dtype=np.float32),
        np.ascontiguousarray(y_val, dtype=np.int64),
        flipped,
    )
