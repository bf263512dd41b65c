"""Memory: peak RSS of the FitGap app during a digits run, vs the plain program.

Each round starts two fresh processes, in rotated order: the real window (offscreen)
that loads the engine and trains digits (Dense 128, batch 32), and the plain Keras
program on the same data.  Each reads its own peak RSS (``VmHWM`` in
/proc/self/status) at the milestones and prints it.

    .venv/bin/python benchmarks/bench_memory.py                # 3 rounds, ~1.5 min
    .venv/bin/python benchmarks/bench_memory.py --rounds 5 --epochs 50
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import benchlib


def peak_mib() -> float:
    """This process's peak resident set size so far, in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(kind: str, epochs: int) -> None:
    tmp = benchlib.setup_env()
    marks = {}
    config = benchlib.make_config("small", epochs, tmp)
    if kind == "window":
        from fitgap_gui.app import make_application, show_window

        make_application([])
        window = show_window()
        marks["window shown"] = peak_mib()
        harness = benchlib.WindowHarness(window)
        marks["engine loaded"] = peak_mib()
        run = harness.run(config)
        marks["after the run"] = peak_mib()
        harness.close()
    else:
        import keras  # noqa: F401

        marks["keras imported"] = peak_mib()
        run = benchlib.plain_fit(benchlib.load(config), config)
        marks["after the run"] = peak_mib()
    marks["epochs"] = len(run["ends"])
    print("MEMORY " + json.dumps(marks), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--child", choices=("window", "plain"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.epochs)
        return
    benchlib.setup_env()
    print(benchlib.machine_line())
    results: dict[str, list[dict]] = {"window": [], "plain": []}
    for order in benchlib.alternate(list(results), args.rounds):
        for kind in order:
            out = subprocess.run(
                [sys.executable, __file__, "--child", kind, "--epochs", str(args.epochs)],
                capture_output=True,
                text=True,
                env=os.environ,
                check=True,
            ).stdout
            line = next(x for x in out.splitlines() if x.startswith("MEMORY "))
            results[kind].append(json.loads(line[7:]))
    print(
        f"\ndigits, Dense 128, batch 32, {args.epochs} epochs, {args.rounds} rounds "
        f"({benchlib.load_line()})"
    )
    for kind, label in (("window", "FitGap window"), ("plain", "plain Keras program")):
        for mark in results[kind][0]:
            if mark != "epochs":
                values = [r[mark] for r in results[kind]]
                print(f"{label:<20} peak RSS at {mark:<15} {benchlib.summary(values, ' MiB')}")


if __name__ == "__main__":
    main()
