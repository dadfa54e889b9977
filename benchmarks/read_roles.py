"""Cost of recognising dates and title rows when loading: ``custseg.load`` on a CSV with a
free-text column (every value distinct), a day-first date column and a title row, for this tree
and a baseline ``src`` folder (e.g. the main branch), in fresh processes, alternating.

    python benchmarks/read_roles.py [--rows 500000] [--repeats 3] [--baseline /work/main/src]

Prints the median wall time of ``load()`` per tree and file; the title-row file is read by the
baseline too (its column names are then wrong, which is the bug, but the time compares).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
TIMED = (
    "import sys, time; from custseg import load; t = time.perf_counter(); "
    "table = load(sys.argv[1]); print(time.perf_counter() - t)"
)


def make(rows: int, folder: Path) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    days = pd.Timestamp("2012-07-30") + pd.to_timedelta(rng.integers(0, 700, rows), unit="D")
    frame = pd.DataFrame(
        {
            "ID": np.arange(rows),
            "Income": rng.normal(52_000, 20_000, rows).round(),
            "MntWines": rng.gamma(0.8, 400, rows).round(),
            "NumStorePurchases": rng.integers(0, 14, rows),
            "Notes": [f"customer note {i}" for i in range(rows)],
            "Dt_Customer": days.strftime("%d-%m-%Y"),
        }
    )
    plain, titled = folder / "plain.csv", folder / "titled.csv"
    frame.to_csv(plain, index=False)
    with open(titled, "w") as fh:
        fh.write("Customer extract - Q3 2024 (confidential)" + "," * 5 + "\n")
        frame.to_csv(fh, index=False)
    return {"plain": plain, "title row": titled}


def timed(src: Path, path: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(
        [sys.executable, "-c", TIMED, str(path)], env=env, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline", type=Path, default=Path("/work/main/src"))
    args = parser.parse_args()
    trees = {"this tree": ROOT / "src", "baseline": args.baseline}
    with tempfile.TemporaryDirectory() as tmp:
        files = make(args.rows, Path(tmp))
        times: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.repeats):
            for name, path in files.items():
                for tree, src in trees.items():
                    times.setdefault((tree, name), []).append(timed(src, path))
    print(f"load() of {args.rows:,} rows, median of {args.repeats}:")
    for (tree, name), values in times.items():
        print(f"  {tree:9s}  {name:9s}  {statistics.median(values):6.2f} s")


if __name__ == "__main__":
    main()
