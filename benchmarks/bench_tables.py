"""A table file's read + prepare against ``pandas.read_csv`` alone: wall time and memory.

Writes a 1,000,000-row, 20-column CSV into a temporary folder (14 columns of numbers
on very different scales, 2 of whole numbers, 4 of categories with 3-12 values, and a
text label of 3 classes; 2 % of the feature cells empty), then in fresh processes,
alternating, ``--rounds`` times each:

- ``pandas``: ``pandas.read_csv(path)`` and nothing else;
- ``fitgap``: ``load_dataset`` of that file (read, columns typed, the test and
  validation splits, imputation + one-hot + standard scaling fitted on the training
  rows and applied to every part), as ``fitgap train --data FILE --label label`` does.

Imports are done before the clock starts.  Memory is the peak resident size of the
process (``VmHWM``) minus its resident size after the imports, against the bytes of
the prepared arrays (x and y of the three parts).

    .venv/bin/python benchmarks/bench_tables.py              # ~2 min on 2 busy cores
    .venv/bin/python benchmarks/bench_tables.py --rows 200000 --rounds 1
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
import numpy as np, pandas as pd
import sklearn.compose, sklearn.impute, sklearn.pipeline, sklearn.preprocessing
from fitgap_gui.core.config.schema import DataConfig
from fitgap_gui.core.data.datasets import load_dataset

def rss(field="VmRSS"):
    # VmHWM is this process's own peak (ru_maxrss keeps the parent's across exec).
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(field + ":"))

path, what = sys.argv[1], sys.argv[2]
base = rss()
start = time.perf_counter()
if what == "pandas":
    frame = pd.read_csv(path)
    out = {"rows": len(frame)}
else:
    ds = load_dataset(DataConfig(source="csv", path=path, label_column="label"), seed=0)
    arrays = [ds.x_train, ds.y_train, ds.x_val, ds.y_val, ds.x_test, ds.y_test]
    out = {"rows": sum(len(y) for y in arrays[1::2]), "prepared_bytes": sum(a.nbytes for a in arrays),
           "features": int(ds.x_train.shape[1]), "notices": ds.meta.get("notices", [])}
out["seconds"] = time.perf_counter() - start
out["peak_growth_bytes"] = rss("VmHWM") - base
print(json.dumps(out))
"""


def write_table(path: Path, rows: int, seed: int = 0) -> None:
    import pandas as pd

    rng = np.random.default_rng(seed)
    label = rng.integers(0, 3, rows)
    columns: dict[str, np.ndarray] = {}
    for i in range(14):  # numbers on scales from 1e-3 to 1e4, shifted by the class
        scale = 10.0 ** (i % 8 - 3)
        columns[f"x{i}"] = np.round((rng.normal(size=rows) + 0.3 * label) * scale, 4)
    for i in range(2):
        columns[f"n{i}"] = rng.integers(0, 1000, rows).astype(np.float64)
    for i, levels in enumerate((3, 5, 8, 12)):
        names = np.array([f"c{i}_{k}" for k in range(levels)], dtype=object)
        columns[f"cat{i}"] = names[(rng.integers(0, levels, rows) + label) % levels]
    frame = pd.DataFrame(columns)
    holes = rng.random(frame.shape) < 0.02
    frame = frame.astype(object).mask(holes)
    for i in range(2):  # whole numbers stay written as whole numbers
        column = frame[f"n{i}"]
        frame[f"n{i}"] = column.map(lambda v: v if v != v else int(v))
    frame["label"] = np.array(["Adelie", "Chinstrap", "Gentoo"], dtype=object)[label]
    frame.to_csv(path, index=False)


def run_child(path: Path, what: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), what],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print("load:", os.popen("uptime").read().strip())
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "table.csv"
        write_table(path, args.rows)
        print(f"table: {args.rows:,} rows x 21 columns, {path.stat().st_size / 1e6:.0f} MB")
        results: dict[str, list[dict]] = {"pandas": [], "fitgap": []}
        for _ in range(args.rounds):
            for what in ("pandas", "fitgap"):
                results[what].append(run_child(path, what))
                print(
                    what, json.dumps({k: v for k, v in results[what][-1].items() if k != "notices"})
                )
        print("notices:", results["fitgap"][0]["notices"])
    pandas_s = statistics.median(r["seconds"] for r in results["pandas"])
    fitgap_s = statistics.median(r["seconds"] for r in results["fitgap"])
    prepared = results["fitgap"][0]["prepared_bytes"]
    peak = statistics.median(r["peak_growth_bytes"] for r in results["fitgap"])
    pandas_peak = statistics.median(r["peak_growth_bytes"] for r in results["pandas"])
    print(
        f"pandas.read_csv alone: {pandas_s:.2f} s (median), peak growth {pandas_peak / 1e6:.0f} MB"
    )
    print(f"FitGap read + prepare: {fitgap_s:.2f} s (median) = {fitgap_s / pandas_s:.2f}x")
    print(
        f"peak memory growth {peak / 1e6:.0f} MB vs prepared arrays {prepared / 1e6:.0f} MB "
        f"= {peak / prepared:.2f}x"
    )
    print("load:", os.popen("uptime").read().strip())


if __name__ == "__main__":
    main()
