"""Feature guidance on generated tables: does ``features="auto"`` keep the informative columns,
drop the noise, and segment closer to the true groups (ARI) than every column?

Each set has 3-6 informative columns (Gaussian groups, means evenly spread over 6 sd), 2-6
pure-noise columns (uniform or Gaussian, no group structure) and a true k of 3-6.
Run: python benchmarks/feature_guidance.py [n_sets]; prints hit rates and median ARI.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from custseg import segment


def generated(seed: int) -> tuple[pd.DataFrame, np.ndarray, list[str], list[str]]:
    rng = np.random.default_rng(seed)
    k, n_info, n_noise = rng.integers(3, 7), rng.integers(3, 7), rng.integers(2, 7)
    n = int(rng.integers(400, 2000))
    truth = rng.integers(0, k, n)
    # Every informative column separates the groups: their means lie evenly spread over 6 sd,
    # in a random order per column.
    centres = np.column_stack([rng.permutation(np.linspace(-3, 3, k)) for _ in range(n_info)])
    info = centres[truth] + rng.normal(0, 1, (n, n_info))
    frame = pd.DataFrame(info * rng.uniform(1, 50, n_info) + rng.uniform(0, 100, n_info),
                         columns=[f"info_{i}" for i in range(n_info)])  # fmt: skip
    for j in range(n_noise):
        scale = rng.uniform(1, 50)
        noise = rng.uniform(0, 4, n) if j % 2 else rng.normal(0, 1, n)
        frame[f"noise_{j}"] = noise * scale
    return (
        frame,
        truth,
        [c for c in frame if c.startswith("info")],
        [c for c in frame if c.startswith("noise")],
    )


def main(n_sets: int = 40) -> None:
    kept_all = dropped_all = 0
    ari_auto, ari_all, wins, seconds = [], [], 0, []
    for seed in range(n_sets):
        frame, truth, info, noise = generated(seed)
        k = len(np.unique(truth))
        start = time.perf_counter()
        auto = segment(frame, features="auto", k=k, n_init=4)
        seconds.append(time.perf_counter() - start)
        every = segment(frame, k=k, n_init=4)
        chosen = set(auto.features)
        kept_all += set(info) <= chosen
        dropped_all += not (set(noise) & chosen)
        a, b = adjusted_rand_score(truth, auto.labels), adjusted_rand_score(truth, every.labels)
        ari_auto.append(a)
        ari_all.append(b)
        wins += a >= b - 1e-9
    print(f"sets: {n_sets}")
    print(f"every informative column kept: {kept_all / n_sets:.0%} of sets")
    print(f"every noise column dropped: {dropped_all / n_sets:.0%} of sets")
    print(f"median ARI: auto {np.median(ari_auto):.3f}, all columns {np.median(ari_all):.3f}")
    print(f"mean ARI: auto {np.mean(ari_auto):.3f}, all columns {np.mean(ari_all):.3f}")
    print(f"auto ARI >= all-columns ARI: {wins / n_sets:.0%} of sets")
    print(f"median run time with features=auto: {np.median(seconds):.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
