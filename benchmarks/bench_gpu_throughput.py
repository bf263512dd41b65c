"""Large-data training throughput on a GPU: plain ``model.fit`` vs the FitGap engine.

Usage (any Keras 3 backend; on the lent GPU machine TensorFlow is not installed, so
it runs with ``KERAS_BACKEND=jax``)::

    python benchmarks/bench_gpu_throughput.py [--rows 60000] [--epochs 4] [--repeats 3]

The two programs alternate (plain, engine, plain, engine, ...) so drift cancels.
Each figure is the median time of the epochs after the first (the first one
compiles), in samples per second; the script prints the device and versions.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def synthetic(rows: int, features: int = 784, classes: int = 10, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, features)).astype(np.float32)
    w = rng.normal(size=(features, classes)).astype(np.float32)
    y = (x @ w + rng.normal(scale=4.0, size=(rows, classes))).argmax(axis=1).astype(np.int64)
    n_val = rows // 6
    return x[n_val:], y[n_val:], x[:n_val], y[:n_val]


def plain_epoch_times(data, epochs: int, seed: int) -> list[float]:
    import keras

    x_train, y_train, x_val, y_val = data
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((x_train.shape[1],)),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    times: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t0)

    model.fit(
        x_train,
        y_train,
        batch_size=32,
        epochs=epochs,
        validation_data=(x_val, y_val),
        callbacks=[Timer()],
        shuffle=True,
        verbose=0,
    )
    return times


def engine_epoch_times(data, epochs: int, seed: int) -> tuple[list[float], int]:
    from fitgap_gui.core.config.schema import RunConfig
    from fitgap_gui.core.data.datasets import Dataset
    from fitgap_gui.core.run.training import choose_steps_per_execution, train

    x_train, y_train, x_val, y_val = data
    config = RunConfig.from_dict(
        {"model": {"hidden_units": [128]}, "training": {"epochs": epochs, "seed": seed}}
    )
    dataset = Dataset(x_train, y_train, x_val, y_val, [str(i) for i in range(10)], "synthetic")
    times: list[float] = []
    train(config, dataset, on_epoch=lambda m: times.append(m.seconds))
    spe = choose_steps_per_execution(len(x_train), 32, 784 * 128 + 128 + 128 * 10 + 10)
    return times, spe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()

    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        device = ", ".join(str(d) for d in jax.devices())
    elif backend == "tensorflow":
        import tensorflow as tf

        device = ", ".join(d.name for d in tf.config.list_logical_devices()) or "cpu"
    else:
        device = backend
    print(f"python {platform.python_version()}, keras {keras.__version__}, backend {backend}")
    print(f"device: {device}")

    data = synthetic(args.rows)
    n_train = len(data[0])
    plain, engine, spe = [], [], None
    for repeat in range(args.repeats):
        p = plain_epoch_times(data, args.epochs, seed=repeat)
        e, spe = engine_epoch_times(data, args.epochs, seed=repeat)
        plain.append(statistics.median(p[1:]))
        engine.append(statistics.median(e[1:]))
        print(f"repeat {repeat + 1}: plain {p[1:]} s/epoch, engine {e[1:]} s/epoch", flush=True)

    def rate(seconds: list[float]) -> tuple[float, float, float]:
        rates = [n_train / s for s in seconds]
        return statistics.median(rates), min(rates), max(rates)

    p_med, p_lo, p_hi = rate(plain)
    e_med, e_lo, e_hi = rate(engine)
    print(f"train rows {n_train}, batch 32, Dense 128, engine steps_per_execution {spe}")
    print(f"plain model.fit : {p_med:,.0f} samples/s (range {p_lo:,.0f}-{p_hi:,.0f})")
    print(f"FitGap engine   : {e_med:,.0f} samples/s (range {e_lo:,.0f}-{e_hi:,.0f})")
    print(f"engine / plain  : {e_med / p_med:.2f}x")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "backend": backend,
                    "device": device,
                    "keras": keras.__version__,
                    "train_rows": n_train,
                    "steps_per_execution": spe,
                    "plain_samples_per_s": plain and [n_train / s for s in plain],
                    "engine_samples_per_s": [n_train / s for s in engine],
                    "ratio_median": e_med / p_med,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
