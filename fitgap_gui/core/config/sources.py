"""Every data source FitGap reads, defined once: its name, label, kind and handicaps.

``data.source`` in a config is one of these names.  The config contract, the
controls' source picker, the summaries and the data dialog all read this table.
The demo's handicaps (training on a fraction of the rows, flipped labels) belong to
the built-in sets, where they make overfitting show up in seconds; a user's own
data (a file, a folder, a Keras dataset) starts without them.

This module imports nothing from FitGap, so ``config.py`` can build on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SourceKind = Literal["builtin", "file", "keras_cache"]


@dataclass(frozen=True)
class DataSource:
    """One value of ``data.source``."""

    name: str
    #: What the source picker shows.
    label: str
    kind: SourceKind
    #: The samples are images (augmentation applies; an NPZ may hold images).
    images: bool = False
    #: A 2-D toy set drawn with a noise level and a sample count.
    toy: bool = False
    #: Picking it in the window selects the CNN (model.kind "cnn"); a config file
    #: without model.kind still means the MLP.
    picks_cnn: bool = False
    #: Training and official test images of a Keras dataset (None: unknown).  Its test
    #: images are the test part; validation is split from its training images.
    n_train: int | None = None
    n_test: int | None = None
    #: The training fraction the window picks with it (None: all rows): a subset
    #: small enough for compare remedies to finish in minutes on two cores.
    window_fraction: float | None = None
    #: The validation fraction the window picks with it (None: all of its validation
    #: rows): 10,000 validation images cost as much per epoch as the subset's fit.
    window_val_fraction: float | None = None

    @property
    def demo_handicaps(self) -> bool:
        """Whether the demo's training fraction and label noise belong to this source."""
        return self.kind == "builtin"

    @property
    def own_validation(self) -> bool:
        """Whether ``data.validation_fraction`` may apply: Keras's cached sets (a fixed
        share of the validation rows split from their training images, for speed), an
        NPZ when it holds x_val/y_val."""
        return self.kind == "keras_cache" or self.name == "npz"

    @property
    def own_test(self) -> bool:
        """Whether it always brings its own test part (``data.test_split`` unused):
        Keras's cached sets, whose official test sets judge."""
        return self.kind == "keras_cache"

    @property
    def own_data(self) -> bool:
        """The user's data: a file, a folder or a Keras dataset from the cache."""
        return self.kind != "builtin"


SOURCES: tuple[DataSource, ...] = (
    DataSource("digits", "digits (8x8 images)", "builtin", images=True),
    DataSource("moons", "moons (2-D)", "builtin", toy=True),
    DataSource("circles", "circles (2-D)", "builtin", toy=True),
    DataSource("spirals", "spirals (2-D)", "builtin", toy=True),
    DataSource("xor", "xor (2-D)", "builtin", toy=True),
    DataSource("mnist", "MNIST", "keras_cache", images=True, picks_cnn=True,
               n_train=60_000, n_test=10_000),
    DataSource("fashion_mnist", "Fashion-MNIST", "keras_cache", images=True, picks_cnn=True,
               n_train=60_000, n_test=10_000),
    # ≈2,400 training and 2,000 validation images (of the 40,000 and 10,000 that the
    # default validation split leaves; the controls hold two decimals): near the 2,500
    # and 2,000 of benchmarks/RESULTS.md, section 10.
    DataSource("cifar10", "CIFAR-10", "keras_cache", images=True, picks_cnn=True,
               n_train=50_000, n_test=10_000, window_fraction=0.06, window_val_fraction=0.2),
    DataSource("npz", "NPZ file…", "file", images=True),
    DataSource("csv", "CSV file…", "file"),
    DataSource("images", "Image folder…", "file", images=True),
)  # fmt: skip
_BY_NAME = {s.name: s for s in SOURCES}


def source(name: str) -> DataSource:
    """The source called ``name`` (KeyError for an unknown name)."""
    return _BY_NAME[name]


def names(kind: SourceKind | None = None) -> tuple[str, ...]:
    """The source names, of one kind or all, in the table's order."""
    return tuple(s.name for s in SOURCES if kind is None or s.kind == kind)


def image_sources() -> tuple[str, ...]:
    return tuple(s.name for s in SOURCES if s.images)


def own_validation_sources() -> tuple[str, ...]:
    return tuple(s.name for s in SOURCES if s.own_validation)


def toy_sources() -> tuple[str, ...]:
    return tuple(s.name for s in SOURCES if s.toy)
