"""How often is the recommended k right? custseg's rule against each single criterion.

    python benchmarks/kchoice.py [--mixtures 50] [--nulls 12] [--gap] [--jobs 2]

Three kinds of data, each standardised as custseg does:

- ground-truth sets in ``../shared/data/benchmarks`` (clustering-data-v1 sets on which K-Means
  with the true k recovers the reference labels), k compared over 2..20;
- generated Gaussian mixtures: k 2..10, sizes from equal to 10:1, clusters elongated up to 4:1
  in random directions, up to 4 extra noise dimensions, 300 to 20,000 rows, kept only when
  K-Means with the true k recovers them (ARI >= 0.9), k compared over 2..15;
- null sets with no groups: one Gaussian (correlated), one log-normal population, a uniform
  box; k compared over 2..10.

Prints, per method (custseg, silhouette, Calinski-Harabasz, Davies-Bouldin, the elbow, and the
gap statistic with ``--gap``), the hit rate on each kind of data, and custseg's confidence on
every null set and how often it says "none" on grouped data. Every set is seeded.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

from custseg import choose_k

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "benchmarks"  # beside the repo
TRUTH = ["hepta", "s1", "wine", "engytime", "twodiamonds", "unbalance", "r15", "s2"]
METHODS = ["custseg", "silhouette", "calinski_harabasz", "davies_bouldin", "elbow", "gap"]


# ---------------------------------------------------------------- data


def truth_set(name: str, folder: Path = SHARED) -> tuple[np.ndarray, int]:
    with gzip.open(folder / f"{name}.data.gz", "rt") as fh:
        X = np.loadtxt(fh)
    with gzip.open(folder / f"{name}.labels0.gz", "rt") as fh:
        y = np.loadtxt(fh, dtype=int)
    return X, len(np.unique(y[y > 0]))


def _rotation(rng: np.random.Generator, d: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    return q * np.sign(np.diag(r))


def mixture(seed: int) -> tuple[np.ndarray, int, dict]:
    """A seeded Gaussian mixture that K-Means with the true k recovers (ARI >= 0.9)."""
    rng = np.random.default_rng(seed)
    while True:
        k, d = int(rng.integers(2, 11)), int(rng.integers(2, 7))
        noise = int(rng.choice([0, 0, 1, 2, 4]))
        n = int(np.exp(rng.uniform(np.log(300), np.log(20_000))))
        ratio, elong = float(rng.choice([1, 2, 4, 10])), float(rng.choice([1, 2, 4]))
        weights = np.geomspace(1, ratio, k)
        rng.shuffle(weights)
        sizes = np.maximum(np.round(n * weights / weights.sum()).astype(int), 10)
        sep = rng.uniform(2.0, 3.5)  # centre distance >= sep x (sum of the two spreads)
        covs = []
        for _ in range(k):
            R = _rotation(rng, d)
            covs.append(R @ np.diag(np.exp(rng.uniform(0, np.log(elong), d)) ** 2) @ R.T)
        means: list[np.ndarray] = []
        box = 3.0 * k ** (1 / d)
        for i in range(k):
            for _ in range(5000):
                m = rng.uniform(-box, box, d)
                if all(_apart(m, mj, covs[i], covs[j], sep) for j, mj in enumerate(means)):
                    break
                box *= 1.002
            means.append(m)
        X = np.vstack([rng.multivariate_normal(means[i], covs[i], sizes[i]) for i in range(k)])
        y = np.repeat(np.arange(k), sizes)
        if noise:
            X = np.hstack([X, rng.normal(0, X.std(axis=0).mean(), (len(X), noise))])
        Z = StandardScaler().fit_transform(X)
        fitted = KMeans(k, n_init=3, random_state=0).fit(Z).labels_
        if adjusted_rand_score(y, fitted) >= 0.9:
            info = {"d": d, "noise": noise, "n": len(X), "ratio": ratio, "elong": elong}
            return X, k, info


def _apart(m1, m2, c1, c2, sep: float) -> bool:
    u = m1 - m2
    dist = float(np.linalg.norm(u))
    u = u / dist
    return dist >= sep * (np.sqrt(u @ c1 @ u) + np.sqrt(u @ c2 @ u))


def null_set(i: int) -> tuple[np.ndarray, dict]:
    """One continuous population: a correlated Gaussian, a log-normal or a uniform box."""
    rng = np.random.default_rng(1000 + i)
    kind = ("gaussian", "lognormal", "uniform")[i % 3]
    d, n = int(rng.integers(2, 7)), int(np.exp(rng.uniform(np.log(300), np.log(20_000))))
    if kind == "gaussian":
        X = rng.normal(size=(n, d)) @ rng.normal(size=(d, d))
    elif kind == "lognormal":
        mix = np.eye(d) + 0.5 * rng.normal(size=(d, d)) * rng.integers(0, 2)
        X = np.exp(
            rng.uniform(0.4, 1.0, d) * (rng.normal(size=(n, d)) @ mix / np.linalg.norm(mix, axis=0))
        )
    else:
        X = rng.uniform(0, 1, (n, d)) * rng.uniform(0.3, 3, d)
    return X, {"kind": kind, "d": d, "n": n}


# ---------------------------------------------------------------- methods


def gap_statistic(Z: np.ndarray, ks: list[int], references: int = 5, seed: int = 0) -> int:
    """Tibshirani's gap statistic (uniform reference in the principal axes' box, 1-SE rule)."""
    rng = np.random.default_rng(seed)
    centred = Z - Z.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    projected = centred @ axes.T
    low, high = projected.min(axis=0), projected.max(axis=0)

    def log_wcss(data: np.ndarray, k: int, s: int) -> float:
        if k == 1:
            return float(np.log(((data - data.mean(axis=0)) ** 2).sum()))
        return float(np.log(KMeans(k, n_init=3, random_state=s).fit(data).inertia_))

    every = [1, *ks]
    ref = np.array(
        [[log_wcss(rng.uniform(low, high, projected.shape) @ axes, k, b) for k in every]
         for b in range(references)]
    )  # fmt: skip
    gap = ref.mean(axis=0) - np.array([log_wcss(Z, k, 0) for k in every])
    spread = ref.std(axis=0) * np.sqrt(1 + 1 / references)
    for i in range(len(every) - 1):
        if gap[i] >= gap[i + 1] - spread[i + 1]:
            return every[i]
    return every[-1]


def run_one(job: tuple) -> dict:
    kind, name, X, truth, ks, info, with_gap = job
    Z = StandardScaler().fit_transform(X)
    start = time.perf_counter()
    choice = choose_k(Z, ks, random_state=0)
    seconds = time.perf_counter() - start
    picks = {"custseg": choice.recommended} | {
        m: choice.votes[m] for m in ("silhouette", "calinski_harabasz", "davies_bouldin", "elbow")
    }
    if with_gap:
        picks["gap"] = gap_statistic(Z, ks)
    return {
        "kind": kind, "name": name, "truth": truth, "picks": picks, "info": info,
        "confidence": choice.confidence, "seconds": seconds, "n": len(Z),
        "stability": choice.stability.weakest if choice.stability else None,
    }  # fmt: skip


def jobs(mixtures: int, nulls: int, with_gap: bool, folder: Path = SHARED) -> list[tuple]:
    found = []
    if folder.is_dir():
        for name in TRUTH:
            X, k = truth_set(name, folder)
            found.append(("truth", name, X, k, list(range(2, 21)), {}, with_gap))
    for seed in range(mixtures):
        X, k, info = mixture(seed)
        found.append(("mixture", f"mix{seed}", X, k, list(range(2, 16)), info, with_gap))
    for i in range(nulls):
        X, info = null_set(i)
        found.append(("null", f"null{i}", X, None, list(range(2, 11)), info, with_gap))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mixtures", type=int, default=50)
    parser.add_argument("--nulls", type=int, default=12)
    parser.add_argument("--gap", action="store_true", help="also the gap statistic (slow)")
    parser.add_argument("--jobs", type=int, default=1, help="sets run in parallel processes")
    parser.add_argument("--verbose", action="store_true", help="one line per set")
    parser.add_argument("--truth", type=Path, default=SHARED, help="ground-truth sets' folder")
    args = parser.parse_args()
    todo = jobs(args.mixtures, args.nulls, args.gap, args.truth)
    results = []
    with ProcessPoolExecutor(args.jobs) as pool:
        for r in pool.map(run_one, todo):
            results.append(r)
            if args.verbose:
                print(f"{r['name']:12s} true={r['truth']} {r['confidence']:8s} {r['picks']} "
                      f"{r['info']} {r['seconds']:.1f}s", flush=True)  # fmt: skip
    methods = [m for m in METHODS if m != "gap" or args.gap]
    print("\n| method | " + " | ".join(k for k in ("truth", "mixture") if _of(results, k)) + " |")
    print("|---|" + "---:|" * len([k for k in ("truth", "mixture") if _of(results, k)]))
    for m in methods:
        cells = []
        for kind in ("truth", "mixture"):
            rows = _of(results, kind)
            if rows:
                hits = sum(r["picks"][m] == r["truth"] for r in rows)
                cells.append(f"{hits}/{len(rows)} ({100 * hits / len(rows):.0f}%)")
        print(f"| {m} | " + " | ".join(cells) + " |")
    grouped = _of(results, "truth") + _of(results, "mixture")
    print(f"\nconfidence on grouped data: {dict(Counter(r['confidence'] for r in grouped))}")
    print(f"'none' on grouped data: {[r['name'] for r in grouped if r['confidence'] == 'none']}")
    nulls = _of(results, "null")
    if nulls:
        said = sum(r["confidence"] == "none" for r in nulls)
        print(f"null sets: confidence 'none' on {said}/{len(nulls)}")
        for r in nulls:
            gap = f", gap says {r['picks']['gap']}" if "gap" in r["picks"] else ""
            print(
                f"  {r['name']:7s} {r['info']}: {r['confidence']} (k={r['picks']['custseg']}{gap})"
            )
    seconds = [r["seconds"] for r in results]
    median, worst = statistics.median(seconds), max(seconds)
    print(f"\nchoose_k time per set: median {median:.1f} s, max {worst:.1f} s")


def _of(results: list[dict], kind: str) -> list[dict]:
    return [r for r in results if r["kind"] == kind]


if __name__ == "__main__":
    main()
