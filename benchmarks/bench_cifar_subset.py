"""Compare remedies on a cached CIFAR-10 with a small CNN: wall time per training subset.

No network here, so the real CIFAR-10 cannot be downloaded.  This writes the nearest
real thing into a temporary ``KERAS_HOME``: a Keras-format cache
(``datasets/cifar-10-batches-py/data_batch_1..5`` and ``test_batch``, Python pickles
with the real keys, 50,000 + 10,000 images of 32x32x3 uint8, labels 0-9) whose images
are synthetic (a class-coloured blob at a class-dependent place, plus noise, seeded).
FitGap reads it through the same reader as the real files, so the shapes, the
pipeline and the arithmetic are CIFAR-10's: the timing holds, the accuracies do not.

Then it times ``fitgap compare`` (5 arms: baseline, + dropout, + L2, + early stopping,
all three) on the CNN with the default conv filters, for training subsets
(``data.train_fraction`` of the 50,000) and repeats, one after another, as a user on
this machine would run it.

    .venv/bin/python benchmarks/bench_cifar_subset.py                 # ~45 min on 2 busy cores
    .venv/bin/python benchmarks/bench_cifar_subset.py --plan 2500x1   # one compare, ~6 min
    .venv/bin/python benchmarks/bench_cifar_subset.py --probe         # fit vs validation, ~1 min
    .venv/bin/python benchmarks/bench_cifar_subset.py --plan 2500x1,2500x3 --validation 2000
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import sqlite3
import subprocess
import time
from datetime import datetime
from pathlib import Path

import benchlib
import numpy as np

N_TRAIN, N_TEST, PER_BATCH = 50_000, 10_000, 10_000


def _images(rng: np.random.Generator, labels: np.ndarray) -> np.ndarray:
    """Flat CIFAR rows (N, 3072: R plane, G plane, B plane) drawn for ``labels``."""
    colours = np.random.default_rng(10).uniform(40, 215, size=(10, 3))
    centres = np.random.default_rng(11).uniform(8, 24, size=(10, 2))
    n = len(labels)
    yy, xx = np.mgrid[0:32, 0:32].astype(np.float32)
    centre = centres[labels] + rng.normal(0, 3.0, size=(n, 2))
    d2 = (yy[None] - centre[:, 0, None, None]) ** 2 + (xx[None] - centre[:, 1, None, None]) ** 2
    blob = np.exp(-d2 / (2 * 6.0**2)).astype(np.float32)  # (n, 32, 32)
    colour = colours[labels] + rng.normal(0, 25, size=(n, 3))
    background = rng.uniform(60, 190, size=(n, 3, 1, 1)).astype(np.float32)
    img = background + blob[:, None] * (colour[:, :, None, None] - background)
    img += rng.normal(0, 30, size=img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8).reshape(n, 3 * 32 * 32)


def write_cifar_cache(keras_home: Path, seed: int = 0) -> Path:
    """Keras's CIFAR-10 cache layout, with synthetic images; returns the batches' folder."""
    folder = keras_home / "datasets" / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    # As in the real set: 5,000 training and 1,000 test images per class, shuffled.
    train = rng.permutation(np.repeat(np.arange(10), N_TRAIN // 10))
    test = rng.permutation(np.repeat(np.arange(10), N_TEST // 10))
    every = np.concatenate([train, test])
    for index, name in enumerate(names):
        labels = every[index * PER_BATCH : (index + 1) * PER_BATCH]
        batch = {
            b"batch_label": f"{name} (synthetic, FitGap benchmark)".encode(),
            b"labels": [int(v) for v in labels],
            b"data": _images(rng, labels),
            b"filenames": [f"synthetic_{index}_{i}.png".encode() for i in range(PER_BATCH)],
        }
        # Protocol 2, as the real (Python 2) files: numpy arrays pickle via _reconstruct.
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    return folder


def compare_once(
    tmp: Path,
    n_train: int,
    repeats: int,
    epochs: int | None,
    batch_size: int | None,
    n_val: int = N_TEST,
) -> dict:
    data: dict = {"source": "cifar10", "train_fraction": n_train / N_TRAIN}
    if n_val < N_TEST:  # a fixed, per-class part of the 10,000 test images validates
        data["validation_fraction"] = n_val / N_TEST
    config: dict = {
        "data": data,
        "model": {"kind": "cnn"},
        "training": {},
    }
    if epochs is not None:
        config["training"]["epochs"] = epochs
    if batch_size is not None:
        config["training"]["batch_size"] = batch_size
    path = tmp / f"cifar_{n_train}_{n_val}_{repeats}.json"  # one compare after another: reused
    path.write_text(json.dumps(config))
    out = tmp / f"summary_{n_train}_{n_val}_{repeats}.json"
    command = [
        benchlib.PYTHON,
        "-m",
        "fitgap_gui",
        "compare",
        "--config",
        str(path),
        "--repeats",
        str(repeats),
    ]
    load_before = benchlib.load_line()
    start = time.perf_counter()
    done = subprocess.run(
        [*command, "--out", str(out)], capture_output=True, text=True, cwd=benchlib.ROOT
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"fitgap compare failed ({done.returncode}):\n{done.stderr[-2000:]}")
    arms = json.loads(out.read_text())
    return {
        "n_train": n_train,
        "repeats": repeats,
        "runs": 5 * repeats,
        "wall_s": wall,
        "load_before": load_before,
        "load_after": benchlib.load_line(),
        "stdout": done.stdout,
        "arms": arms,
    }


def run_times(home: Path, after_id: int) -> list[tuple[int, int, float]]:
    """(run id, epochs run, seconds) of the stored runs newer than ``after_id``."""
    db = sqlite3.connect(f"file:{home / 'runs.sqlite3'}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT id, epochs_run, created, finished FROM runs WHERE id > ? ORDER BY id",
            (after_id,),
        ).fetchall()
    finally:
        db.close()
    out = []
    for run_id, epochs, created, finished in rows:
        seconds = (
            datetime.fromisoformat(finished) - datetime.fromisoformat(created)
        ).total_seconds()
        out.append((run_id, epochs, seconds))
    return out


def probe(subsets: list[int]) -> None:
    """Where an epoch's time goes: one epoch's fit on n images vs one validation pass.

    Plain Keras, the CNN FitGap builds by default (Conv2D 16, 32 + MaxPooling2D, Dense
    128), random 32x32x3 inputs; after one warm-up call each, so no tracing is timed.
    """
    import keras

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (N_TEST, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 10, N_TEST)
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:256], y[:256], batch_size=32, epochs=1, verbose=0)
    for n in subsets:
        start = time.perf_counter()
        model.fit(x[:n], y[:n], batch_size=32, epochs=1, verbose=0)
        print(
            f"probe: one epoch's fit on {n:,} images (batch 32): "
            f"{time.perf_counter() - start:.2f} s | {benchlib.load_line()}",
            flush=True,
        )
    for batch in (32, 128):
        model.evaluate(x[:256], y[:256], batch_size=batch, verbose=0)
        start = time.perf_counter()
        model.evaluate(x, y, batch_size=batch, verbose=0)
        print(
            f"probe: one validation pass on {N_TEST:,} images (batch {batch}): "
            f"{time.perf_counter() - start:.2f} s | {benchlib.load_line()}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--plan",
        default="1000x1,2500x1,5000x1,2500x3",
        help="training images x repeats, comma-separated (default: %(default)s)",
    )
    parser.add_argument(
        "--validation",
        type=int,
        default=N_TEST,
        help="validation images of the 10,000 (data.validation_fraction; default: all)",
    )
    parser.add_argument("--epochs", type=int, help="training.epochs (default: the config's)")
    parser.add_argument("--batch-size", type=int, help="training.batch_size (default: 32)")
    parser.add_argument(
        "--probe", action="store_true", help="only time one epoch's fit vs one validation pass"
    )
    args = parser.parse_args()
    if args.probe:
        print(benchlib.machine_line(), flush=True)
        probe(sorted({int(item.split("x")[0]) for item in args.plan.split(",")}))
        return
    tmp = benchlib.setup_env()
    home = Path(os.environ["FITGAP_HOME"])
    os.environ["KERAS_HOME"] = str(tmp / "keras")
    print(benchlib.machine_line(), flush=True)
    start = time.perf_counter()
    folder = write_cifar_cache(tmp / "keras")
    print(f"# synthetic CIFAR-10 cache written in {time.perf_counter() - start:.1f} s: {folder}")
    print("# images are synthetic with CIFAR-10's shapes: timings hold, accuracies do not")
    try:
        last_id = 0
        for item in args.plan.split(","):
            n_train, repeats = (int(v) for v in item.split("x"))
            result = compare_once(
                tmp, n_train, repeats, args.epochs, args.batch_size, args.validation
            )
            per_run = result["wall_s"] / result["runs"]
            print(
                f"train {n_train:>6,} | val {args.validation:,} | repeats {repeats} | "
                f"{result['runs']:>2} runs | wall {result['wall_s']:7.1f} s "
                f"({per_run:5.1f} s/run) | {result['load_before']} -> "
                f"{result['load_after']}",
                flush=True,
            )
            times = run_times(home, last_id)
            last_id = max([last_id, *(t[0] for t in times)])
            epochs = sum(t[1] for t in times)
            seconds = sum(t[2] for t in times)
            print(
                f"    {epochs} epochs in all, {seconds / max(epochs, 1):.2f} s per epoch",
                flush=True,
            )
            for line in result["stdout"].splitlines()[1:]:
                print(f"    {line}", flush=True)
    finally:
        shutil.rmtree(tmp / "keras", ignore_errors=True)  # 300 MB of synthetic images


if __name__ == "__main__":
    main()
