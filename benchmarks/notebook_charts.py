"""Notebook charts (issue 19): what one ``seg.plot`` call costs, and what importing costs.

    python benchmarks/notebook_charts.py [--rows 50000] [--repeats 5] [--baseline /work/main/src]

- each chart's call on a fresh result (the first call also builds the summary and the chart
  data, a seeded sample of 5,000 customers) and again on the same result (both cached);
- the size of each figure as JSON (what a notebook stores per chart);
- the import time of the k search (``custseg.pipeline.search``) and the scorer
  (``custseg.scoring.scorer``), which now draw charts and so import plotly, in fresh processes,
  for this tree and for ``--baseline`` (another checkout's ``src``), alternating between the two.

Prints medians over ``--repeats``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.io as pio

ROOT = Path(__file__).resolve().parents[1]
CHARTS = ("scatter", "scatter_3d", "elbow", "criteria", "silhouette", "profiles", "sizes",
          "distributions", "pairs")  # fmt: skip


def customers(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    group = rng.integers(0, 5, n)
    return pd.DataFrame(
        {
            "Age": 20 + group * 8 + rng.normal(0, 4, n),
            "Annual Income (k$)": 20 + group * 20 + rng.normal(0, 8, n),
            "Spending Score (1-100)": 90 - group * 15 + rng.normal(0, 6, n),
        }
    )


def import_seconds(src: Path, module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(src), "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline", type=Path, default=None)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "src"))
    import custseg

    data = customers(args.rows)
    seg = custseg.segment(data, k=5, k_range="2..8", seed=0)  # the five groups drawn
    first, again, size = {}, {}, {}
    for name in CHARTS:
        cold, warm = [], []
        for _ in range(args.repeats):
            fresh = custseg.segment(data, k=seg.k, k_choice=seg.k_choice, seed=0)
            start = time.perf_counter()
            fig = getattr(fresh.plot, name)()
            cold.append(time.perf_counter() - start)
            start = time.perf_counter()
            getattr(fresh.plot, name)()
            warm.append(time.perf_counter() - start)
        first[name], again[name] = statistics.median(cold), statistics.median(warm)
        size[name] = len(pio.to_json(fig, validate=False)) / 1024
    print(f"{args.rows:,} customers, k={seg.k}, medians of {args.repeats}")
    print(f"{'chart':<14}{'first call s':>14}{'next call s':>13}{'JSON KB':>10}")
    for name in CHARTS:
        print(f"{name:<14}{first[name]:>14.3f}{again[name]:>13.3f}{size[name]:>10.0f}")

    trees = {"this tree": ROOT / "src"} | ({"baseline": args.baseline} if args.baseline else {})
    for module in ("custseg.pipeline.search", "custseg.scoring.scorer"):
        times: dict[str, list[float]] = {label: [] for label in trees}
        for _ in range(args.repeats):
            for label, src in trees.items():
                times[label].append(import_seconds(src, module))
        shown = ", ".join(f"{label} {statistics.median(t):.3f} s" for label, t in times.items())
        print(f"import {module}: {shown}")


if __name__ == "__main__":
    main()
