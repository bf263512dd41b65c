"""What the inference-mode measurements cost: per epoch, and for a whole ``fitgap train``.

Part 1 (in process): FitGap's engine with its measurements on (Keras's cross-entropy
metric compiled beside accuracy, and ``model.evaluate`` on the training set at each
epoch's end) against the same engine with both taken out, on digits and on the
60,000 x 784 synthetic set (10,000 training samples measured).  "eval" is the time
inside the measuring callback; "share" is eval / the epoch's time with it on.

Part 2 (processes): the whole ``fitgap train`` process against the whole plain Keras
program, 1,000 digits training samples, 40 epochs, rotated order.  Goal: FitGap
takes at most 0.90 of the plain program's wall time.

    .venv/bin/python benchmarks/bench_eval_cost.py                   # ~5 min on 2 cores
    .venv/bin/python benchmarks/bench_eval_cost.py --parts process --rounds 5
    .venv/bin/python benchmarks/bench_eval_cost.py --parts process --before /tmp/main-checkout
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import resource
import subprocess
import time
from pathlib import Path

import benchlib
import numpy as np

WALL_GOAL = 0.90
#: 1,000 of digits' 1,437 training rows (validation_split 0.2).
DIGITS_1000 = {"source": "digits", "train_fraction": 1000 / 1437}

PLAIN_PROGRAM = """
import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras
import numpy as np

data = np.load({path!r})
x_train, y_train, x_val, y_val = (data[k] for k in ("x_train", "y_train", "x_val", "y_val"))
keras.utils.set_random_seed(0)
model = keras.Sequential(
    [
        keras.Input(x_train.shape[1:]),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ]
)
model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=0.001),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
model.fit(
    x_train, y_train, batch_size=32, epochs={epochs}, validation_data=(x_val, y_val),
    shuffle=True, verbose=0,
)
"""


MODES = ("off", "metric", "on")


@contextlib.contextmanager
def measurements(mode: str, eval_times: list[float]):
    """``on``: the engine as shipped (timing the measuring callback); ``metric``: only the
    compiled cross-entropy metric; ``off``: both parts removed."""
    import keras

    from fitgap_gui.core.model import measurements as m
    from fitgap_gui.core.run import training

    original_callback, original_metric = training.make_train_eval_callback, m.cross_entropy_metric

    def timed(*args, **kwargs):
        callback = original_callback(*args, **kwargs)
        inner = callback.on_epoch_end

        def on_epoch_end(epoch, logs=None):
            start = time.perf_counter()
            inner(epoch, logs)
            eval_times.append(time.perf_counter() - start)

        callback.on_epoch_end = on_epoch_end
        return callback

    if mode == "on":
        training.make_train_eval_callback = timed
    else:
        training.make_train_eval_callback = lambda *a, **k: keras.callbacks.Callback()
    if mode == "off":
        m.cross_entropy_metric = lambda: "accuracy"  # compiles accuracy twice: no extra work
    try:
        yield
    finally:
        training.make_train_eval_callback, m.cross_entropy_metric = (
            original_callback,
            original_metric,
        )


def part_epochs(tmp: Path, rounds: int, sizes: list[str]) -> None:
    from fitgap_gui.core.run.training import train

    print("\n## Part 1: per-epoch cost in the engine (steady epochs, after the first)")
    print(
        f"{'data':<26} {'s/epoch off':<24} {'s/epoch metric only':<24} {'s/epoch on':<24} "
        f"{'eval s (callback)':<26} share  on/off"
    )
    for size in sizes:
        epochs = 12 if size == "small" else 3
        config = benchlib.make_config(size, epochs, tmp)
        dataset = benchlib.load(config)
        steady: dict[str, list[float]] = {mode: [] for mode in MODES}
        cpu: dict[str, list[float]] = {mode: [] for mode in MODES}
        evals: list[float] = []
        for order in benchlib.alternate(list(MODES), rounds):
            for mode in order:
                seen: list[tuple[float, float]] = []
                run_evals: list[float] = []
                with measurements(mode, run_evals):
                    train(
                        config,
                        dataset,
                        on_epoch=lambda m, seen=seen: seen.append((m.seconds, time.process_time())),
                    )
                steady[mode] += [wall for wall, _ in seen[1:]]
                # CPU seconds of all threads between epoch ends: less hit by other load.
                cpu[mode] += [b - a for (_, a), (_, b) in itertools.pairwise(seen)]
                evals += run_evals[1:]
            print(f"  {size} round done ({benchlib.load_line()})", flush=True)
        off, on = benchlib.median(steady["off"]), benchlib.median(steady["on"])
        share = benchlib.median(evals) / on
        label = f"{size} ({len(dataset.x_train)} x {int(np.prod(dataset.input_shape))})"
        print(
            f"{label:<26} {benchlib.summary(steady['off']):<24} "
            f"{benchlib.summary(steady['metric']):<24} {benchlib.summary(steady['on']):<24} "
            f"{benchlib.summary(evals):<26} {share:.0%}   {on / off:.2f}"
        )
        cpu_off, cpu_on = benchlib.median(cpu["off"]), benchlib.median(cpu["on"])
        print(
            f"{'  CPU s/epoch (all threads)':<26} {benchlib.summary(cpu['off']):<24} "
            f"{benchlib.summary(cpu['metric']):<24} {benchlib.summary(cpu['on']):<24} "
            f"{'':<26} {'':<5}  {cpu_on / cpu_off:.2f}"
        )


def part_process(tmp: Path, rounds: int, epochs: int, before: Path | None = None) -> None:
    from fitgap_gui.core.config.schema import RunConfig
    from fitgap_gui.core.data.datasets import load_dataset

    config = RunConfig.from_dict(
        {"data": DIGITS_1000, "model": {"hidden_units": [128]}, "training": {"epochs": epochs}}
    )
    dataset = load_dataset(config.data, 0)
    npz = tmp / "digits1000.npz"
    np.savez(npz, x_train=dataset.x_train, y_train=dataset.y_train, x_val=dataset.x_val,
             y_val=dataset.y_val)  # fmt: skip
    (tmp / "plain.py").write_text(PLAIN_PROGRAM.format(path=str(npz), epochs=epochs))
    config.save(tmp / "config.json")
    commands = {
        "plain": [benchlib.PYTHON, str(tmp / "plain.py")],
        "fitgap": [
            benchlib.PYTHON,
            "-m",
            "fitgap_gui.cli",
            "train",
            "--config",
            str(tmp / "config.json"),
        ],  # fmt: skip
    }
    if before is not None:  # another checkout (say, main) of FitGap in the same rotation
        commands["before"] = commands["fitgap"]
    cwd = {name: before if name == "before" else benchlib.ROOT for name in commands}
    print(
        f"\n## Part 2: whole process, {len(dataset.x_train)} digits training samples, "
        f"{epochs} epochs, {rounds} rounds"
    )
    times: dict[str, list[float]] = {name: [] for name in commands}
    # CPU seconds (user + system, all threads) of each child: far less disturbed than
    # wall time when other users load the machine.
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for order in benchlib.alternate(list(commands), rounds):
        for name in order:
            before_cpu = _children_cpu()
            start = time.perf_counter()
            subprocess.run(commands[name], check=True, capture_output=True, cwd=cwd[name])
            times[name].append(time.perf_counter() - start)
            cpu[name].append(_children_cpu() - before_cpu)
        print(f"  round done ({benchlib.load_line()})", flush=True)
    for name in commands:
        print(f"CPU s, {name:<15} {benchlib.summary(cpu[name], ' s')}")
    cpu_ratio = benchlib.median(cpu["fitgap"]) / benchlib.median(cpu["plain"])
    print(f"CPU fitgap / plain    {cpu_ratio:.2f}")
    ratios = [f / p for f, p in zip(times["fitgap"], times["plain"], strict=True)]
    ratio = benchlib.median(times["fitgap"]) / benchlib.median(times["plain"])
    print(f"plain Keras program   {benchlib.summary(times['plain'], ' s')}")
    print(f"fitgap train          {benchlib.summary(times['fitgap'], ' s')}")
    print(
        f"fitgap / plain        {ratio:.2f} (per round {min(ratios):.2f}-{max(ratios):.2f}); "
        f"goal <= {WALL_GOAL}: {benchlib.verdict(ratio <= WALL_GOAL)}"
    )
    if before is not None:
        ratios = [f / p for f, p in zip(times["before"], times["plain"], strict=True)]
        ratio = benchlib.median(times["before"]) / benchlib.median(times["plain"])
        print(f"fitgap train (before) {benchlib.summary(times['before'], ' s')}")
        print(f"before / plain        {ratio:.2f} (per round {min(ratios):.2f}-{max(ratios):.2f})")
    if before is not None:
        print(
            f"CPU before / plain    {benchlib.median(cpu['before']) / benchlib.median(cpu['plain']):.2f}"
        )
    print(json.dumps({f"{name}_s": values for name, values in times.items()}))
    print(json.dumps({f"{name}_cpu_s": values for name, values in cpu.items()}))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="epochs,process")
    parser.add_argument("--sizes", default="small,large")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=40, help="part 2's epochs")
    parser.add_argument(
        "--before",
        type=Path,
        help="part 2 also runs `fitgap train` from this checkout (e.g. `git worktree` of main)",
    )
    args = parser.parse_args()
    tmp = benchlib.setup_env()
    print(benchlib.machine_line())
    if "epochs" in args.parts:
        part_epochs(tmp, args.rounds, args.sizes.split(","))
    if "process" in args.parts:
        part_process(tmp, args.rounds, args.epochs, args.before)


if __name__ == "__main__":
    main()
