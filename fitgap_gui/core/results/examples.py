"""Per-example training dynamics: which training examples a network learns late, forgets
often and keeps at a low margin.

``ExampleDynamics`` is fed, at each epoch's end, the logits that the training set's
inference-mode measuring pass already computed (``core.model.measurements``: the
training set, or its fixed subsample above 10,000 rows); no second pass over the data.
Per example and epoch it keeps the predicted class, the margin (the given label's logit
minus the largest other logit) and the probability of the given label; from them, across
the epochs seen so far:

* ``forgetting_events``: right at one measured epoch, wrong at the next;
* ``first_learned_epoch``: the first epoch from which it stays right (-1: never);
* ``aum``: the area under the margin, the mean margin so far;
* ``confidence`` / ``variability``: mean and standard deviation (ddof 0) of the given
  label's probability (the data map's two axes).

With label noise, ``flipped`` marks the examples whose label FitGap flipped, and
``suspect_scores`` says how well the k lowest-AUM examples pick them out (k = the number
flipped, so precision equals recall).  Pure numpy: stored once per run as npz bytes
(``to_bytes``/``from_bytes``, never pickled).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np

#: The arrays a stored blob holds (``to_bytes``).
BLOB_KEYS = (
    "rows",
    "source_rows",
    "given",
    "original",
    "flipped",
    "epochs",
    "predicted",
    "margins",
    "probs",
    "precision",
    "delivered",
)


def margins_and_probs(logits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the given label's logit minus the largest other, and its softmax probability."""
    logits = np.asarray(logits, dtype=np.float64)
    at = np.arange(len(labels))
    given = logits[at, labels]
    others = logits.copy()
    others[at, labels] = -np.inf
    margin = given - others.max(axis=1)
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted)
    prob = probs[at, labels] / probs.sum(axis=1)
    return margin, prob


def forgetting_events(correct: np.ndarray) -> np.ndarray:
    """``correct`` is (epochs, examples) booleans: per example, right-then-wrong transitions."""
    correct = np.asarray(correct, dtype=bool)
    if len(correct) < 2:
        return np.zeros(correct.shape[1:], dtype=np.int64)
    return np.sum(correct[:-1] & ~correct[1:], axis=0)


def first_learned(correct: np.ndarray, epochs: np.ndarray) -> np.ndarray:
    """Per example, the first epoch from which it is right at every later measured epoch
    (-1 when it is wrong at the last one)."""
    correct = np.asarray(correct, dtype=bool)
    if len(correct) == 0:
        return np.full(correct.shape[1:], -1, dtype=np.int64)
    # How many measured epochs, counted from the end, are right in a row.
    wrong_later = np.cumsum(~correct[::-1], axis=0)[::-1]  # wrong at this epoch or after
    stays = wrong_later == 0
    first = np.argmax(stays, axis=0)
    out = np.asarray(epochs, dtype=np.int64)[first]
    out[~stays[-1]] = -1
    return out


def lowest(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` lowest scores (ties: the lower position first)."""
    return np.argsort(scores, kind="stable")[: max(0, int(k))]


def suspect_scores(aum: np.ndarray, flipped: np.ndarray) -> dict[str, float]:
    """Precision and recall of the k lowest-AUM examples against the flipped ones."""
    flipped = np.asarray(flipped, dtype=bool)
    k = int(flipped.sum())
    if k == 0:
        return {"precision": float("nan"), "recall": float("nan"), "k": 0}
    hits = int(flipped[lowest(aum, k)].sum())
    return {"precision": hits / k, "recall": hits / k, "k": k}


@dataclass
class ExampleDynamics:
    """The per-example record of one run (see the module docstring).

    ``rows`` are the measured rows' positions in the training arrays; ``source_rows`` the
    same rows' indices in the source as read, before any split; ``given`` the labels
    trained on; ``original`` the labels before label noise; ``flipped`` 0/1 per row.
    """

    rows: np.ndarray
    given: np.ndarray
    source_rows: np.ndarray | None = None
    original: np.ndarray | None = None
    flipped: np.ndarray | None = None
    epochs: list[int] = field(default_factory=list)
    predicted: list[np.ndarray] = field(default_factory=list)
    margins: list[np.ndarray] = field(default_factory=list)
    probs: list[np.ndarray] = field(default_factory=list)
    #: Per measured epoch: precision of the k lowest-AUM rows (NaN without label noise).
    precision: list[float] = field(default_factory=list)
    #: The delivered model's predicted class per row (set once the run ended), or None.
    delivered: np.ndarray | None = None
    #: The margins' running sum, so each epoch's precision costs O(rows), not O(epochs x rows).
    _margin_sum: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.rows = np.asarray(self.rows, dtype=np.int64)
        self.given = np.asarray(self.given, dtype=np.int64)
        if self.source_rows is None:
            self.source_rows = self.rows.copy()
        if self.original is None:
            self.original = self.given.copy()
        if self.flipped is None:
            self.flipped = (self.original != self.given).astype(np.int8)

    @property
    def noise_known(self) -> bool:
        """Label noise was on: the flipped rows are known (and there are some)."""
        return bool(np.any(self.flipped))

    @property
    def n(self) -> int:
        return len(self.rows)

    def update(self, epoch: int, logits: np.ndarray) -> None:
        """Record one epoch's logits (rows in ``rows`` order)."""
        logits = np.asarray(logits)
        margin, prob = margins_and_probs(logits, self.given)
        self.epochs.append(int(epoch))
        self.predicted.append(np.argmax(logits, axis=1).astype(np.int16))
        self.margins.append(margin.astype(np.float32))
        self.probs.append(prob.astype(np.float32))
        if self._margin_sum is None:  # the first epoch, or a record read back
            self._margin_sum = self.margin_matrix().astype(np.float64).sum(axis=0)
        else:
            self._margin_sum = self._margin_sum + self.margins[-1].astype(np.float64)
        aum = self._margin_sum / len(self.epochs)
        score = suspect_scores(aum, np.asarray(self.flipped)) if self.noise_known else None
        self.precision.append(score["precision"] if score else float("nan"))

    def snapshot(self) -> ExampleDynamics:
        """A copy another thread may read while this one goes on (the per-epoch arrays
        are never changed once recorded, so only the lists are copied)."""
        return ExampleDynamics(
            rows=self.rows,
            given=self.given,
            source_rows=self.source_rows,
            original=self.original,
            flipped=self.flipped,
            epochs=list(self.epochs),
            predicted=list(self.predicted),
            margins=list(self.margins),
            probs=list(self.probs),
            precision=list(self.precision),
            delivered=self.delivered,
        )

    # --- across the epochs so far -------------------------------------------------
    def _stack(self, arrays: list[np.ndarray], dtype) -> np.ndarray:
        if not arrays:
            return np.zeros((0, self.n), dtype=dtype)
        return np.stack(arrays)

    def correct(self) -> np.ndarray:
        """(epochs, examples): the prediction equals the given label."""
        return self._stack(self.predicted, np.int16) == self.given

    def margin_matrix(self) -> np.ndarray:
        return self._stack(self.margins, np.float32)

    def forgetting_events(self) -> np.ndarray:
        return forgetting_events(self.correct())

    def first_learned_epoch(self) -> np.ndarray:
        return first_learned(self.correct(), np.asarray(self.epochs))

    def aum(self) -> np.ndarray:
        if not self.margins:
            return np.zeros(self.n)
        return self.margin_matrix().astype(np.float64).mean(axis=0)

    def confidence(self) -> np.ndarray:
        if not self.probs:
            return np.zeros(self.n)
        return self._stack(self.probs, np.float32).astype(np.float64).mean(axis=0)

    def variability(self) -> np.ndarray:
        if not self.probs:
            return np.zeros(self.n)
        return self._stack(self.probs, np.float32).astype(np.float64).std(axis=0)

    def last_predicted(self) -> np.ndarray:
        return self.predicted[-1].astype(np.int64) if self.predicted else np.full(self.n, -1)

    def predicted_at(self, epoch: int | None) -> np.ndarray | None:
        """The classes predicted at ``epoch`` (None where it was not measured)."""
        if epoch is None or epoch not in self.epochs:
            return None
        return self.predicted[self.epochs.index(epoch)].astype(np.int64)

    def final_correct(self) -> np.ndarray | None:
        """Whether the delivered model predicts the given label, per row (None: unknown)."""
        return None if self.delivered is None else self.delivered == self.given

    def precision_at(self, epoch: int) -> float:
        """The k lowest-AUM precision after ``epoch`` (NaN where not measured)."""
        if epoch in self.epochs:
            return self.precision[self.epochs.index(epoch)]
        return float("nan")

    # --- storage ------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """npz bytes (compressed), read back with ``from_bytes``."""
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            rows=self.rows,
            source_rows=np.asarray(self.source_rows, dtype=np.int64),
            given=self.given,
            original=np.asarray(self.original, dtype=np.int64),
            flipped=np.asarray(self.flipped, dtype=np.int8),
            epochs=np.asarray(self.epochs, dtype=np.int64),
            predicted=self._stack(self.predicted, np.int16),
            margins=self.margin_matrix(),
            probs=self._stack(self.probs, np.float32),
            precision=np.asarray(self.precision, dtype=np.float64),
            delivered=np.asarray([] if self.delivered is None else self.delivered, np.int64),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> ExampleDynamics:
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            arrays = {key: data[key] for key in BLOB_KEYS}
        return cls(
            rows=arrays["rows"],
            given=arrays["given"],
            source_rows=arrays["source_rows"],
            original=arrays["original"],
            flipped=arrays["flipped"],
            epochs=[int(e) for e in arrays["epochs"]],
            predicted=list(arrays["predicted"]),
            margins=list(arrays["margins"]),
            probs=list(arrays["probs"]),
            precision=[float(p) for p in arrays["precision"]],
            delivered=arrays["delivered"] if len(arrays["delivered"]) else None,
        )
