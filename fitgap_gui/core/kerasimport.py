"""Import Keras without the scikit-learn and SciPy it imports for parts FitGap never uses.

``import keras`` also imports ``keras.wrappers`` (``SKLearnClassifier`` and friends),
which import ``sklearn.base`` when scikit-learn is installed, and TensorFlow's
legacy ``tf.compat.v1`` Keras imports ``scipy.sparse`` to recognise sparse inputs:
together about a second of CPU in every training process, for code FitGap does not
run.  Both are written for the package being absent (Keras's wrappers then define
stand-in base classes and ask for scikit-learn only when used; TensorFlow's legacy
engine sets ``issparse = None``), so ``import_keras`` hides the two packages for the
length of that one import and puts them back at once: a later ``import sklearn``
or ``from scipy import stats`` imports them as usual.  Nothing Keras 3 computes
changes (it looks for SciPy lazily, when it meets a sparse matrix); only Keras's
scikit-learn wrappers and TensorFlow's legacy sparse support are left without them
in this process.  Measured in benchmarks/RESULTS.md (section 7b).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from types import ModuleType

from fitgap_gui.core.logfiles import native_stderr_to_log

#: Imported by ``import keras`` only for code FitGap never runs.
UNUSED_BY_KERAS = ("sklearn", "scipy")


@contextlib.contextmanager
def _without_unused_packages() -> Iterator[None]:
    """Within: ``import sklearn`` and ``import scipy`` raise ImportError, unless imported."""
    hidden = [name for name in UNUSED_BY_KERAS if name not in sys.modules]  # imported: no gain
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # "import name" raises ImportError
    try:
        yield
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


#: Whether ``import_keras`` has started TensorFlow's devices in this process.
_devices_started = False


def import_keras() -> ModuleType:
    """``import keras``; the first time, without importing scikit-learn or SciPy.

    The first call also starts TensorFlow's devices (one tiny operation), with the
    process's C-level stderr sent to the log file: TensorFlow's C++ start-up lines
    ("oneDNN custom operations are on", "Could not find cuda drivers", "failed call
    to cuInit") are written then, and a user reads them in a terminal as errors.  The
    CLI, worker processes and Ray tasks all train through here.
    """
    global _devices_started
    if not _devices_started:
        with native_stderr_to_log():
            if "keras" not in sys.modules:
                with _without_unused_packages():
                    import keras  # noqa: F401
            keras = sys.modules["keras"]
            keras.ops.convert_to_numpy(keras.ops.ones((1,)))
        _devices_started = True
    return sys.modules["keras"]


def import_tensorflow() -> ModuleType:
    """``import tensorflow``; the first time, without importing SciPy (nor scikit-learn),
    and with its C++ start-up lines sent to the log file (see ``import_keras``).

    It runs no operation: thread settings can still be changed after it."""
    if "tensorflow" not in sys.modules:
        with native_stderr_to_log(), _without_unused_packages():
            import tensorflow  # noqa: F401
    return sys.modules["tensorflow"]
