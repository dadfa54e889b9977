"""Segment identity and migration on a changed customer table (issue #15 targets).

    python benchmarks/identity.py [--seeds 5] [--data mall_customers.csv]
    python benchmarks/identity.py --rows 200000 [--repeats 3]

For each seed: run on the mall data; drop 20 customers, add 20, give 30 the income and spending
of another segment's customer, shuffle; run again with ``previous`` set to the first run. Reports
the share of unchanged customers keeping their segment id, how many moved customers changed
segment, whether migration.csv accounts for every customer, and whether the matrix adds up.
Also: the same table shuffled keeps every id and name. With ``--rows``: the cost of
``previous`` on a generated table of that many rows (k = 5), median wall time with and without.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("CUSTSEG_SHARED", ROOT.parent / "shared")) / "data"

from custseg import load, sample_customers, segment  # noqa: E402
from custseg.outputs.export import write_outputs  # noqa: E402
from tests._changes import changed_table  # noqa: E402


def one(frame: pd.DataFrame, seed: int, features: str | None, folder: Path) -> dict:
    first = segment(frame, features=features, seed=seed)
    write_outputs(first, folder / f"first-{seed}-{features}")
    changed, truth = changed_table(frame, first.labels, seed=seed)
    t0 = time.perf_counter()
    second = segment(
        changed, features=features, seed=seed, previous=folder / f"first-{seed}-{features}"
    )
    seconds = time.perf_counter() - t0
    moves = second.migration.customers.set_index("CustomerID")
    both = moves[moves["status"].isin(["stayed", "moved"])]
    unchanged = both.loc[~both.index.isin(truth["moved"])]
    shuffled = segment(frame.sample(frac=1, random_state=seed), features=features, seed=seed,
                       previous=first.save(folder / f"m-{seed}-{features}.skops"))  # fmt: skip
    a = first.assignments().set_index("CustomerID")
    b = shuffled.assignments().set_index("CustomerID").loc[a.index]
    counts = second.migration.counts.to_numpy().sum()
    moved_rows = both.loc[both.index.isin(truth["moved"]), "status"]
    cols = ["segment", "segment_name"]
    return {
        "seed": seed,
        "k": (first.k, second.k),
        "carried": sum(m.status == "carried" for m in second.identity.segments),
        "unchanged_kept": float((unchanged["status"] == "stayed").mean()),
        "moved_changed": float((moved_rows == "moved").mean()),
        "accounts": len(moves) == len(frame) + 20
        and set(moves.index) >= truth["added"] | truth["dropped"],
        "matrix_adds_up": int(counts) == len(both),
        "shuffled_same": bool((a[cols] == b[cols]).all().all()),
        "seconds": seconds,
    }


def overhead(rows: int, repeats: int) -> None:
    frame = sample_customers(rows, seed=1)
    later = sample_customers(rows, seed=2)
    with tempfile.TemporaryDirectory() as tmp:
        model = segment(frame, k=5).save(Path(tmp) / "m.skops")
        times = {"without previous": [], "with previous": []}
        for _ in range(repeats):
            for name, extra in (("without previous", {}), ("with previous", {"previous": model})):
                t0 = time.perf_counter()
                segment(later, k=5, **extra)
                times[name].append(time.perf_counter() - t0)
    for name, values in times.items():
        print(f"{rows:,} rows, {name}: median {statistics.median(values):.2f} s over {repeats}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--data", type=Path, default=SHARED / "mall_customers.csv")
    parser.add_argument("--rows", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.rows:
        overhead(args.rows, args.repeats)
        return
    frame = load(args.data).frame
    with tempfile.TemporaryDirectory() as tmp:
        for features in (None, "income,spending"):
            rows = [one(frame, seed, features, Path(tmp)) for seed in range(args.seeds)]
            for r in rows:
                print(features or "default features", r)
            print(
                f"{features or 'default features'}: median unchanged kept "
                f"{statistics.median(r['unchanged_kept'] for r in rows):.1%}, min "
                f"{min(r['unchanged_kept'] for r in rows):.1%}; moved customers reported as moved "
                f"median {statistics.median(r['moved_changed'] for r in rows):.0%}; shuffled same "
                f"{sum(r['shuffled_same'] for r in rows)}/{len(rows)}; median second run "
                f"{statistics.median(r['seconds'] for r in rows):.2f} s"
            )


if __name__ == "__main__":
    main()
