"""Startup: process start to FitGap's window shown, vs ``import tensorflow`` alone.

Each round launches, in rotated order: FitGap's real ``main`` (through
startup_probe.py, offscreen), ``python -c "import tensorflow"`` and ``python -c
pass``.  The clock starts just before the process is spawned.  "Train enabled" is
when TensorFlow has been imported in the background and the window is ready to train.

    .venv/bin/python benchmarks/bench_startup.py               # 7 rounds, ~1.5 min
    .venv/bin/python benchmarks/bench_startup.py --rounds 15

Goal: window shown < 1.0 s after launch, nothing heavy imported before it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time

import benchlib

PROBE = str(benchlib.ROOT / "benchmarks" / "startup_probe.py")
COMMANDS = {
    "window": [benchlib.PYTHON, PROBE],
    "import tensorflow": [benchlib.PYTHON, "-c", "import tensorflow"],
    "python -c pass": [benchlib.PYTHON, "-c", "pass"],
}


def launch(name: str) -> dict:
    start = time.monotonic()
    out = subprocess.run(
        COMMANDS[name], capture_output=True, text=True, env=os.environ, check=True
    ).stdout
    marks = {"exit": time.monotonic() - start}
    for line in out.splitlines():
        if line.startswith("PROBE "):
            probe = json.loads(line[6:])
            marks["shown"] = probe["shown"] - start
            marks["engine_ready"] = probe["engine_ready"] - start
            marks["heavy"] = probe["heavy_at_shown"]
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    benchlib.setup_env()
    print(benchlib.machine_line())
    runs: dict[str, list[dict]] = {name: [] for name in COMMANDS}
    for order in benchlib.alternate(list(COMMANDS), args.rounds):
        for name in order:
            runs[name].append(launch(name))
    shown = [r["shown"] for r in runs["window"]]
    heavy = sorted({m for r in runs["window"] for m in r["heavy"]})
    print(f"\n{args.rounds} rounds ({benchlib.load_line()} at the end)")
    print(
        f"window shown            {benchlib.summary(shown, ' s')}  goal < 1.0 s: "
        f"{benchlib.verdict(benchlib.median(shown) < 1.0)}"
    )
    print(f"heavy modules at shown  {', '.join(heavy) or 'none'}")
    print(
        f"Train enabled           "
        f"{benchlib.summary([r['engine_ready'] for r in runs['window']], ' s')}"
    )
    print(
        f"import tensorflow       "
        f"{benchlib.summary([r['exit'] for r in runs['import tensorflow']], ' s')} "
        "(whole process)"
    )
    print(
        f"python -c pass          "
        f"{benchlib.summary([r['exit'] for r in runs['python -c pass']], ' s')}"
    )


if __name__ == "__main__":
    main()
