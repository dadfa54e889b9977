"""Per-iteration time of K-Means engines at 1M x 10 features, k=8, 20 fixed iterations.

    python benchmarks/iteration.py [--rows 1000000] [--repeats 5]

Compares the engine custseg uses (scikit-learn Lloyd on float32, what ``segment()`` runs on large
tables) with scikit-learn KMeans on float64 and float32, and scikit-learn-intelex (sklearnex)
when it is installed. Every engine starts from the same centres and runs exactly 20 Lloyd
iterations (tol=0). Prints the median seconds per iteration and the distance to the
memory-bandwidth bound (one pass over the float32 matrix, 40 MB, at ~15 GB/s: ~3 ms/iteration).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

BOUND_MS = 40e6 / 15e9 * 1e3  # 1M x 10 float32 read once per iteration at 15 GB/s


def run(kmeans_cls, X, init, iters) -> float:
    km = kmeans_cls(n_clusters=len(init), init=init, n_init=1, max_iter=iters, tol=0.0)
    start = time.perf_counter()
    km.fit(X)
    elapsed = time.perf_counter() - start
    return elapsed / max(int(km.n_iter_), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from sklearn.cluster import KMeans

    from custseg.engines import get_engine

    rng = np.random.default_rng(0)
    centres = rng.normal(scale=4, size=(args.k, args.features))
    X64 = centres[rng.integers(args.k, size=args.rows)] + rng.normal(
        size=(args.rows, args.features)
    )
    X32 = X64.astype(np.float32)
    init = X64[rng.choice(args.rows, args.k, replace=False)]

    engine = get_engine("auto")

    class CustsegEngine:  # adapter: the engine's fit with KMeans' signature
        def __init__(self, n_clusters, init, n_init, max_iter, tol):
            self.args = dict(init=init, n_init=n_init, max_iter=max_iter, tol=tol)
            self.n_clusters = n_clusters

        def fit(self, X):
            self.n_iter_ = engine.fit(X, self.n_clusters, random_state=0, **self.args).n_iter
            return self

    candidates = {
        "custseg (sklearn Lloyd, float32)": (CustsegEngine, X32, init.astype(np.float32)),
        "scikit-learn KMeans float64": (KMeans, X64, init),
        "scikit-learn KMeans float32": (KMeans, X32, init.astype(np.float32)),
    }
    try:
        from sklearnex.cluster import KMeans as IntelKMeans

        candidates["scikit-learn-intelex float32"] = (IntelKMeans, X32, init.astype(np.float32))
        candidates["scikit-learn-intelex float64"] = (IntelKMeans, X64, init)
    except ImportError:
        print("scikit-learn-intelex is not installed: skipped (pip install scikit-learn-intelex)")

    results = {}
    for name, (cls, X, start) in candidates.items():
        run(cls, X, start, 2)  # warm-up
        times = [run(cls, X, start, args.iters) for _ in range(args.repeats)]
        ms = statistics.median(times) * 1e3
        results[name] = {"ms_per_iter": ms, "x_bound": ms / BOUND_MS}
        print(f"{name:36s} {ms:8.2f} ms/iter  ({ms / BOUND_MS:5.1f}x the ~{BOUND_MS:.1f} ms bound)")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
