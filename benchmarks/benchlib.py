"""Shared pieces of the benchmarks: environment, machine line, data, the plain program.

Every benchmark script imports this first (``setup_env`` must run before Qt or
TensorFlow is imported).  The plain program here is docs/ARCHITECTURE.md's faithfulness
program written out as a user would write it, nothing from FitGap, so "plain" means
what a user's own ``model.fit`` script costs.
"""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def setup_env() -> Path:
    """Offscreen Qt, quiet TensorFlow and a private run store; returns the temp folder."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("MPLBACKEND", "Agg")
    tmp = Path(tempfile.mkdtemp(prefix="fitgap-bench-"))
    os.environ["FITGAP_HOME"] = str(tmp / "home")
    return tmp


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _pyside_version() -> str:
    import PySide6  # the wheel's distribution name varies (PySide6, PySide6-Essentials)

    return PySide6.__version__


def machine_line() -> str:
    """Date, machine, load and versions: printed at the top of every benchmark."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"# {now} | {cpu_model()}, {os.cpu_count()} cores | load average {load}\n"
        f"# Python {platform.python_version()}, TensorFlow {_version('tensorflow')}, "
        f"Keras {_version('keras')}, PySide6 {_pyside_version()}, "
        f"pyqtgraph {_version('pyqtgraph')}, NumPy {_version('numpy')}"
    )


def load_line() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


# -- statistics -------------------------------------------------------------------------------
def summary(values: Sequence[float], unit: str = "", scale: float = 1.0) -> str:
    """``median (min-max, n=N)`` of ``values`` times ``scale``."""
    vals = [v * scale for v in values]
    if not vals:
        return "n/a"
    return f"{statistics.median(vals):.3g}{unit} ({min(vals):.3g}-{max(vals):.3g}, n={len(vals)})"


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else float("nan")


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


# -- data and configs -------------------------------------------------------------------------
def large_npz(folder: Path, n_train: int = 60_000, n_val: int = 10_000, n_features: int = 784):
    """A pre-split synthetic set the size of MNIST: 10 overlapping Gaussian clusters.

    The clusters overlap enough that a Dense 128 network ends near 90% validation
    accuracy, so training runs as it would on real data (no instant zero loss).
    """
    path = folder / f"synthetic-{n_train}x{n_features}.npz"
    if path.exists():
        return path
    rng = np.random.default_rng(0)
    centres = rng.normal(0.0, 0.06, (10, n_features)).astype(np.float32)

    def draw(n: int):
        y = rng.integers(0, 10, n)
        x = centres[y] + rng.normal(0.0, 1.0, (n, n_features)).astype(np.float32)
        return x.astype(np.float32), y.astype(np.int64)

    x_train, y_train = draw(n_train)
    x_val, y_val = draw(n_val)
    np.savez(path, x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val)
    return path


def make_config(size: str, epochs: int, folder: Path, batch_size: int = 32, dropout: float = 0.0):
    """The benchmark RunConfig: digits (``small``) or the synthetic set (``large``)."""
    from fitgap_gui.core.config.schema import RunConfig

    data = (
        {"source": "digits"}
        if size == "small"
        else {"source": "npz", "path": str(large_npz(folder))}
    )
    return RunConfig.from_dict(
        {
            "data": data,
            "model": {"hidden_units": [128], "dropout": dropout},
            "training": {"epochs": epochs, "batch_size": batch_size, "seed": 0},
        }
    )


def load(config):
    from fitgap_gui.core.data.datasets import load_dataset

    return load_dataset(config.data, config.training.seed)


# -- the plain program ------------------------------------------------------------------------
def epoch_clock():
    """A Keras callback that only notes when each epoch ends (no batch hooks)."""
    import keras

    class EpochClock(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.ends: list[float] = []

        def on_epoch_end(self, epoch, logs=None):
            self.ends.append(time.perf_counter())

    return EpochClock()


def plain_fit(
    dataset,
    config,
    extra_callbacks: Sequence = (),
    *,
    steps_per_execution: int = 1,
    jit_compile: bool | str = "auto",
) -> dict:
    """The plain program on ``dataset``; returns start, epoch ends and the history."""
    import keras

    t = config.training
    start = time.perf_counter()
    keras.backend.clear_session()
    keras.utils.set_random_seed(t.seed)
    layers = [keras.Input(dataset.input_shape)]
    for units in config.model.hidden_units:
        layers.append(keras.layers.Dense(units, activation=config.model.activation))
        if config.model.dropout > 0:
            layers.append(keras.layers.Dropout(config.model.dropout))
    layers.append(keras.layers.Dense(dataset.n_classes, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=t.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
        jit_compile=jit_compile,
    )
    clock = epoch_clock()
    history = model.fit(
        dataset.x_train,
        dataset.y_train,
        batch_size=t.batch_size,
        epochs=t.epochs,
        validation_data=(dataset.x_val, dataset.y_val),
        callbacks=[*extra_callbacks, clock],
        shuffle=True,
        verbose=0,
    )
    return {
        "start": start,
        "ends": clock.ends,
        "end": time.perf_counter(),
        "history": history.history,
    }


def engine_fit(dataset, config) -> dict:
    """FitGap's engine without a window: ``core.training.train``."""
    from fitgap_gui.core.run.training import train

    ends: list[float] = []
    start = time.perf_counter()
    result = train(config, dataset, on_epoch=lambda m: ends.append(time.perf_counter()))
    return {"start": start, "ends": ends, "end": time.perf_counter(), "history": result.history}


def epoch_times(run: dict) -> tuple[float, float, float]:
    """(first epoch incl. tracing, steady seconds per epoch after it, whole run) of a run."""
    ends = run["ends"]
    first = ends[0] - run["start"]
    steady = (ends[-1] - ends[0]) / (len(ends) - 1) if len(ends) > 1 else float("nan")
    return first, steady, run["end"] - run["start"]


def alternate(programs: Sequence[str], rounds: int) -> list[list[str]]:
    """Each round runs every program once, the order rotated so drift cancels."""
    order = list(programs)
    out = []
    for r in range(rounds):
        k = r % len(order)
        out.append(order[k:] + order[:k])
    return out


# -- the window ------------------------------------------------------------------------------
class WindowHarness:
    """The real FitGap window (offscreen), engine loaded, driven like a user would."""

    def __init__(self, window=None) -> None:
        from fitgap_gui.app import make_application, show_window

        self.app = make_application([sys.argv[0]])
        self.window = window if window is not None else show_window()
        self.wait_for(self.window.engine_ready, self.window.start_engine_loading, 120)

    def wait_for(self, signal, trigger: Callable[[], None] | None = None, timeout: float = 600):
        """Run the Qt event loop until ``signal`` fires (after calling ``trigger``)."""
        from PySide6.QtCore import QEventLoop, QTimer

        loop = QEventLoop()
        signal.connect(loop.quit)
        QTimer.singleShot(int(timeout * 1000), loop.quit)
        if trigger is not None:
            trigger()
        loop.exec()
        signal.disconnect(loop.quit)

    def run(self, config) -> dict:
        """Train ``config`` in the window; epoch ends are when the GUI thread got them."""
        ends: list[float] = []

        def on_epoch(_run_id, _metrics) -> None:
            ends.append(time.perf_counter())

        self.window.live_runs.epoch_appended.connect(on_epoch)
        start = time.perf_counter()
        self.wait_for(self.window.training_ended, lambda: self.window.train_configs([config]))
        end = time.perf_counter()
        self.window.live_runs.epoch_appended.disconnect(on_epoch)
        return {"start": start, "ends": ends, "end": end, "history": {}}

    def close(self) -> None:
        self.window.close()
        self.app.processEvents()
