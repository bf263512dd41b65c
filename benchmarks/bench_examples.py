"""Per-example dynamics: what they cost per epoch, and how well they find flipped labels.

    python benchmarks/bench_examples.py cost [--repeats 3]
        CPU time per epoch (process time, all threads) of a FitGap run, with the
        measuring pass of /work/main (BEFORE: Keras's test step, plus a second call on
        the flipped rows) and of this tree (AFTER: one forward pass for the logits, the
        per-example record, the precision), on two cases: the window's default setup
        (digits, a quarter of the rows, 20 % labels flipped, 512-512) and a 60,000 x 784
        array (Dense 128, 20 % labels flipped, the 10,000-row measured subsample).
        Each (tree, case) trains in a fresh process, alternating, ``--repeats`` times;
        the first epoch (tracing) is left out.  Also: one ``ExampleDynamics.update``
        alone, 10,000 rows x 10 classes, at epoch 60.
    python benchmarks/bench_examples.py precision [--seeds 5]
        On the default setup, seeds 0..4: precision of the k lowest mean margins (AUM)
        against the flipped labels (k = the number flipped) at the best epoch and at the
        end, against random choice; then the run again without those k (``fitgap
        clean --drop k``): the delivered models' test accuracy, parent and child.
        ``--controls`` also trains them relabelled as predicted at the best epoch, and
        without k random rows.

``--before PATH`` names the tree measured as BEFORE (default /work/main).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def default_setup(seed: int = 0, epochs: int | None = None):
    from fitgap_gui.core.config.defaults import default_config

    config = default_config().replace({"training.seed": seed})
    return config.replace({"training.epochs": epochs}) if epochs else config


def large_setup(folder: Path, epochs: int):
    config = benchlib.make_config("large", epochs, folder)
    return config.replace({"data.label_noise": 0.2})


def one_run(case: str, epochs: int, folder: Path) -> dict:
    """Train one case in this process; CPU seconds of each epoch (process time)."""
    from fitgap_gui.core.data.datasets import load_dataset
    from fitgap_gui.core.run.training import train

    config = default_setup(0, epochs) if case == "digits" else large_setup(folder, epochs)
    dataset = load_dataset(config.data, config.training.seed)
    marks = [time.process_time()]

    def on_epoch(_metrics) -> None:
        marks.append(time.process_time())

    train(config, dataset, on_epoch)
    per_epoch = [b - a for a, b in zip(marks[:-1], marks[1:], strict=True)]
    return {"case": case, "n_train": len(dataset.y_train), "cpu_per_epoch": per_epoch[1:]}


def cost(args) -> None:
    cases = {"digits": 20, "large": 3}
    trees = {"before": args.before, "after": str(ROOT)}
    seen: dict[tuple[str, str], list[float]] = {}
    rows: dict[str, int] = {}
    for _ in range(args.repeats):
        for case, epochs in cases.items():
            for name, tree in trees.items():
                env = dict(os.environ, PYTHONPATH=tree)
                out = subprocess.run(
                    [sys.executable, __file__, "one", case, str(epochs)],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=tree,
                )
                found = json.loads(out.stdout.strip().splitlines()[-1])
                rows[case] = found["n_train"]
                seen.setdefault((case, name), []).extend(found["cpu_per_epoch"])
    print(benchlib.machine_line())
    print("case | rows | CPU s/epoch before | after | after/before")
    for case in cases:
        before = statistics.median(seen[(case, "before")])
        after = statistics.median(seen[(case, "after")])
        print(
            f"{case} | {rows[case]} | {benchlib.summary(seen[(case, 'before')])} | "
            f"{benchlib.summary(seen[(case, 'after')])} | {after / before:.3f}"
        )
    print(update_cost())
    print(benchlib.load_line())


def update_cost() -> str:
    """One ``ExampleDynamics.update`` alone: 10,000 rows, 10 classes, at epoch 60."""
    import numpy as np

    from fitgap_gui.core.results.examples import ExampleDynamics

    rng = np.random.default_rng(0)
    given = rng.integers(0, 10, 10_000)
    original = given.copy()
    original[:2000] = (given[:2000] + 1) % 10
    dyn = ExampleDynamics(rows=np.arange(10_000), given=given, original=original)
    logits = rng.normal(size=(10_000, 10)).astype(np.float32)
    for epoch in range(1, 60):
        dyn.update(epoch, logits)
    times = []
    for _ in range(20):
        copy = dyn.snapshot()
        copy._margin_sum = dyn._margin_sum  # noqa: SLF001 - as the live record holds it
        start = time.process_time()
        copy.update(60, logits)
        times.append(time.process_time() - start)
    return "ExampleDynamics.update, 10,000 x 10 at epoch 60: " + benchlib.summary(
        times, " ms", 1000
    )


def precision(args) -> None:
    import numpy as np

    from fitgap_gui.core.run.cleaning import clean_dataset_for
    from fitgap_gui.core.run.session import run_recorded
    from fitgap_gui.core.store.runstore import RunStore

    store = RunStore()
    print(benchlib.machine_line())
    print(
        "seed | k | share flipped | precision at best epoch (epoch) | at the end | "
        "test acc parent | test acc without the k | delta"
        + (" | relabelled as predicted | without k random rows" if args.controls else "")
    )
    at_best, at_end, deltas = [], [], []
    controls: list[tuple[float, float]] = []
    parents: list[float] = []
    children: list[float] = []
    for seed in range(args.seeds):
        config = default_setup(seed)
        parent = run_recorded(config, store, save_model=False)
        dyn = parent.examples
        k = int(np.sum(dyn.flipped))
        best = parent.best_epoch
        p_best, p_end = dyn.precision_at(best), dyn.precision[-1]
        child = run_recorded(
            config,
            store,
            dataset=clean_dataset_for(config, dyn, "drop", k),
            parent_run_id=parent.run_id,
            save_model=False,
        )
        acc_parent, acc_child = parent.test["accuracy"], child.test["accuracy"]
        at_best.append(p_best)
        at_end.append(p_end)
        deltas.append(acc_child - acc_parent)
        parents.append(acc_parent)
        children.append(acc_child)
        extra = ""
        if args.controls:  # relabel them instead; drop k random rows instead
            relabelled = run_recorded(
                config,
                store,
                dataset=clean_dataset_for(config, dyn, "relabel", k, best),
                parent_run_id=parent.run_id,
                save_model=False,
            )
            rng = np.random.default_rng(1000 + seed)
            random_dyn = dyn.snapshot()
            random_dyn.margins = [rng.permutation(dyn.n).astype(np.float32)]  # a random rank
            random_drop = run_recorded(
                config,
                store,
                dataset=clean_dataset_for(config, random_dyn, "drop", k),
                parent_run_id=parent.run_id,
                save_model=False,
            )
            pair = (relabelled.test["accuracy"], random_drop.test["accuracy"])
            controls.append(pair)
            extra = f" | {pair[0]:.4f} | {pair[1]:.4f}"
        print(
            f"{seed} | {k} | {k / dyn.n:.3f} | {p_best:.3f} ({best}) | {p_end:.3f} | "
            f"{acc_parent:.4f} | {acc_child:.4f} | {acc_child - acc_parent:+.4f}{extra}",
            flush=True,
        )
    means = f"mean | | | {np.mean(at_best):.3f} | {np.mean(at_end):.3f} | "
    means += f"{np.mean(parents):.4f} | {np.mean(children):.4f} | {np.mean(deltas):+.4f}"
    if controls:
        means += f" | {np.mean([c[0] for c in controls]):.4f}"
        means += f" | {np.mean([c[1] for c in controls]):.4f}"
    print(means)
    print(benchlib.load_line())


def main() -> None:
    benchlib.setup_env()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    c = sub.add_parser("cost")
    c.add_argument("--repeats", type=int, default=3)
    c.add_argument("--before", default="/work/main")
    p = sub.add_parser("precision")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument(
        "--controls", action="store_true", help="also relabel them, and drop k random rows"
    )
    one = sub.add_parser("one")
    one.add_argument("case")
    one.add_argument("epochs", type=int)
    args = parser.parse_args()
    if args.what == "cost":
        cost(args)
    elif args.what == "precision":
        precision(args)
    else:
        folder = Path(os.environ.get("FITGAP_BENCH_DATA", "/tmp/fitgap-bench-data"))
        folder.mkdir(parents=True, exist_ok=True)
        print(json.dumps(one_run(args.case, args.epochs, folder)))


if __name__ == "__main__":
    main()
