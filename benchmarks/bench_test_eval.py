"""What judging the delivered model on the test part costs: its share of a digits run.

Each run is FitGap's engine (``core.run.training.train``) on the window's default setup
(resources/presets/default.json: digits, a quarter of the training rows, 512-512, 60
epochs) and on a small one (1,000 digits rows, Dense 128, 40 epochs: a cheaper run, so a
larger share).  ``evaluate_delivered`` is timed where the engine calls it, once per run,
after ``fit``; "share" is that time over the whole run's.  Goal: at most 1 %.

Where the data steps draw no test part (a tree before the split), the run is given 360
rows as one by hand (the validation rows: 20 % of digits, the size the default split
draws).

    .venv/bin/python benchmarks/bench_test_eval.py             # ~3 min on 2 cores
    .venv/bin/python benchmarks/bench_test_eval.py --rounds 5
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import benchlib

GOAL = 0.01
SETUPS = {
    "default preset": {},
    "1000 rows, Dense 128": {
        "data.train_fraction": 1000 / 1437,
        "data.label_noise": 0.0,
        "model.hidden_units": [128],
        "training.epochs": 40,
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    benchlib.setup_env()
    print(benchlib.machine_line(), flush=True)

    from fitgap_gui.core.config.defaults import default_config
    from fitgap_gui.core.run import training

    timed: list[float] = []
    judge = training.evaluate_delivered

    def timed_judge(*a, **k):
        start = time.perf_counter()
        try:
            return judge(*a, **k)
        finally:
            timed.append(time.perf_counter() - start)

    training.evaluate_delivered = timed_judge
    print(f"{'setup':<22} {'run (s)':<26} {'test evaluation (ms)':<28} {'share':<8} test rows")
    for label, changes in SETUPS.items():
        runs, evals, shares, rows = [], [], [], 0
        for seed in range(args.rounds):
            config = default_config().replace({**changes, "training.seed": seed})
            dataset = benchlib.load(config)
            if not dataset.has_test:  # a tree whose data steps draw none: given by hand
                dataset = dataclasses.replace(dataset, x_test=dataset.x_val, y_test=dataset.y_val)
            timed.clear()
            start = time.perf_counter()
            result = training.train(config, dataset)
            whole = time.perf_counter() - start
            assert result.test is not None and len(timed) == 1
            runs.append(whole)
            evals.append(timed[0])
            shares.append(timed[0] / whole)
            rows = result.test["n"]
        share = benchlib.median(shares)
        print(
            f"{label:<22} {benchlib.summary(runs):<26} "
            f"{benchlib.summary(evals, scale=1000):<28} {share:<8.2%} {rows}   "
            f"goal <= {GOAL:.0%}: {benchlib.verdict(max(shares) <= GOAL)}",
            flush=True,
        )
    print(f"# {benchlib.load_line()}")


if __name__ == "__main__":
    main()
