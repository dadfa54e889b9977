"""What the stability check costs, by the restarts of each refit: the mall's 200 rows and the
5,000-row sample a large table is resampled on.

    python benchmarks/stability_cost.py [--repeats 5] [--n-init 3 10]

Prints, per table and restarts, the median wall time and CPU time (all threads) of one
``segment_stability`` call (50 bootstrap resamples), runs interleaved so that a busy machine
weighs on each setting alike.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from sklearn.preprocessing import StandardScaler

from custseg import sample_customers
from custseg.model import Segmenter
from custseg.pipeline.stability import STABILITY_ROWS, segment_stability


def tables() -> dict[str, tuple[np.ndarray, int]]:
    mall = sample_customers()[["Age", "Annual Income (k$)", "Spending Score (1-100)"]]
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 3, (6, 6))
    big = np.vstack([c + rng.normal(0, 1, (STABILITY_ROWS // 6 + 1, 6)) for c in centres])
    return {
        "mall 200 rows, k=6": (StandardScaler().fit_transform(mall), 6),
        f"{STABILITY_ROWS:,} rows x 6, k=6": (StandardScaler().fit_transform(big), 6),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n-init", type=int, nargs="+", default=[3, 10])
    args = parser.parse_args()
    for name, (Z, k) in tables().items():
        labels = Segmenter(k, n_init=10, random_state=0).fit(Z).labels_
        times: dict[int, list[tuple[float, float]]] = {n: [] for n in args.n_init}
        for _ in range(args.repeats):
            for n in args.n_init:
                wall, cpu = time.perf_counter(), time.process_time()
                segment_stability(Z, labels, n_init=n)
                times[n].append((time.perf_counter() - wall, time.process_time() - cpu))
        for n, runs in times.items():
            w = statistics.median(r[0] for r in runs)
            c = statistics.median(r[1] for r in runs)
            print(f"{name:28s} n_init={n:<3d} wall {w:6.2f} s   cpu {c:6.2f} s")


if __name__ == "__main__":
    main()
