"""Synthetic customer tables with known segments, for the scale benchmarks.

    python benchmarks/generate.py --rows 1000000 --out benchmarks/data

writes ``customers_1M.csv`` and ``customers_1M.parquet`` (id + 6 features) and
``customers_1M.truth.npy`` (the true segment of each row). Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

FEATURES = [
    "Age",
    "Annual Income (k$)",
    "Spending Score (1-100)",
    "Visits per Month",
    "Online Share (%)",
    "Tenure (years)",
]
# Segment centres in original units, one row per true segment, and the spread of each feature.
CENTRES = np.array(
    [
        [25, 30, 80, 8, 70, 1],
        [45, 30, 20, 2, 20, 6],
        [40, 60, 50, 4, 40, 4],
        [33, 95, 85, 9, 60, 5],
        [50, 95, 15, 2, 30, 10],
        [62, 55, 55, 6, 10, 15],
    ],
    dtype=float,
)
SPREAD = np.array([5, 7, 7, 1.2, 8, 1.5])
SHARES = np.array([0.12, 0.13, 0.30, 0.15, 0.15, 0.15])


def customers(n: int, seed: int = 0) -> tuple[pa.Table, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.choice(len(CENTRES), size=n, p=SHARES).astype(np.int8)
    values = CENTRES[truth] + rng.standard_normal((n, len(FEATURES))) * SPREAD
    values = np.round(np.clip(values, 0, None), 1)
    columns = {"CustomerID": pa.array(np.arange(1, n + 1, dtype=np.int64))}
    columns |= {name: pa.array(values[:, j]) for j, name in enumerate(FEATURES)}
    return pa.table(columns), truth


def label(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for n in args.rows:
        table, truth = customers(n, args.seed)
        stem = args.out / f"customers_{label(n)}"
        pacsv.write_csv(table, f"{stem}.csv")
        pq.write_table(table, f"{stem}.parquet")
        np.save(f"{stem}.truth.npy", truth)
        print(f"wrote {stem}.csv / .parquet / .truth.npy ({n:,} rows)")


if __name__ == "__main__":
    main()
