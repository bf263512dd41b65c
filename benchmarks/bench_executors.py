"""Experiment plans in parallel: whole wall time with 1 worker, 2 workers and Ray.

Two plans on scikit-learn's digits (the window's default setup: 512-512, minmax,
20 % label noise):

- **remedies x2**: compare remedies (the five arms of ``core.experiments.remedy_configs``)
  with 2 repeats over seeds: 10 runs of 40 epochs on 1,000 training samples
  (``train_fraction`` 0.7 of 1,437);
- **8 x 60**: 8 runs (seeds 0-7) of 60 epochs on the default 359 training samples.

Each plan runs with ``LocalExecutor(workers=1)`` (in this process, one after another:
what FitGap did before), ``LocalExecutor(workers=2)`` (two spawned worker processes,
their start and TensorFlow import included) and ``RayExecutor`` on a local Ray instance
the benchmark starts (``ray.init(num_cpus=2)``; its start-up is timed apart).  Wall
time is the whole ``executor.run``, store writes and model files included.

    .venv/bin/python benchmarks/bench_executors.py            # ~6-10 min on 2 busy cores
    .venv/bin/python benchmarks/bench_executors.py --no-ray --plans remedies

Goal: with 2 workers on a 2-core machine, remedies x2 takes <= 0.80 of 1 worker's time.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import benchlib

GOAL_RATIO = 0.80


def base_config():
    from fitgap_gui.core.config.schema import RunConfig

    preset = benchlib.ROOT / "resources" / "presets" / "default.json"
    return RunConfig.load(preset)


def plans() -> dict:
    from fitgap_gui.core.experiments.executors import PlanItem
    from fitgap_gui.core.experiments.plans import remedy_configs

    remedies = base_config().replace({"data.train_fraction": 0.7, "training.epochs": 40})
    remedies_plan = [
        PlanItem(config.replace({"training.seed": seed}), f"{label} seed {seed}")
        for seed in (0, 1)
        for label, config in remedy_configs(remedies)
    ]
    long = base_config().replace({"training.epochs": 60})
    eight = [PlanItem(long.replace({"training.seed": s}), f"seed {s}") for s in range(8)]
    return {"remedies": remedies_plan, "eight": eight}


def time_plan(executor, plan) -> dict:
    from fitgap_gui.core.experiments.executors import plan_datasets
    from fitgap_gui.core.store.runstore import RunStore

    datasets = plan_datasets(plan)  # loaded once, outside the timing, as the CLI does
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    results = executor.run(plan, RunStore(), datasets=datasets)
    wall = time.perf_counter() - start
    return {
        "wall_s": round(wall, 2),
        "run_seconds": [round(r.seconds, 2) for r in results if r is not None],
        "epochs": sum(r.epochs_run for r in results if r is not None),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "n_train": [len(d.x_train) for d in datasets[:1]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plans", default="remedies,eight", help="remedies,eight")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray executor")
    parser.add_argument(
        "--order", default="1,2,ray", help="which executors, in this order (1, 2, ray)"
    )
    parser.add_argument("--out", default=str(benchlib.ROOT / "benchmarks" / "results"))
    args = parser.parse_args()
    benchlib.setup_env()
    print(benchlib.machine_line(), flush=True)
    with open("/proc/loadavg", encoding="ascii") as handle:
        print(f"# /proc/loadavg at start: {handle.read().strip()}", flush=True)

    from fitgap_gui.core.experiments.executors import LocalExecutor, RayExecutor

    ray_executor = None
    ray_start_s = None
    if not args.no_ray and "ray" in args.order.split(","):
        try:
            import ray
        except ImportError:
            print("# Ray not installed: pip install -e '.[ray]'; Ray lines skipped")
        else:
            start = time.perf_counter()
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            ray_start_s = round(time.perf_counter() - start, 2)
            print(f"# local Ray instance started in {ray_start_s} s", flush=True)
            ray_executor = RayExecutor(address=None, cpus_per_run=1)

    all_plans = plans()
    report: dict = {"machine": benchlib.machine_line(), "ray_start_s": ray_start_s}
    for name in args.plans.split(","):
        plan = all_plans[name]
        rows: dict = {}
        known = {"1": ("1 worker", LocalExecutor(workers=1)), "2": ("2 workers", LocalExecutor(2))}
        if ray_executor is not None:
            known["ray"] = ("ray local (2 CPUs)", ray_executor)
        executors = [known[key] for key in args.order.split(",") if key in known]
        for label, executor in executors:
            rows[label] = time_plan(executor, plan)
            print(f"{name:>9}  {label:<20} {json.dumps(rows[label])}", flush=True)
        one = rows["1 worker"]["wall_s"]
        for label, row in rows.items():
            row["ratio"] = round(row["wall_s"] / one, 3)
            verdict = ""
            if name == "remedies" and label == "2 workers":
                verdict = "  met" if row["ratio"] <= GOAL_RATIO else "  MISSED"
                verdict += f" (goal <= {GOAL_RATIO})"
            print(
                f"{name:>9}  {label:<20} wall {row['wall_s']:7.1f} s  ratio {row['ratio']:.3f}{verdict}"
            )
        report[name] = {"runs": len(plan), "rows": rows}
    with open("/proc/loadavg", encoding="ascii") as handle:
        report["loadavg_end"] = handle.read().strip()
    print(f"# /proc/loadavg at end: {report['loadavg_end']}")
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "executors.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
    print(f"# raw numbers: {path}")


if __name__ == "__main__":
    main()
