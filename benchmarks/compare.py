"""custseg vs the plain scikit-learn recipe, side by side in one invocation.

    python benchmarks/compare.py benchmarks/data/customers_1M.csv [--recipe-timeout 3600]

(a) ``custseg run DATA`` end to end (auto k over 2..10, report, model, segments.csv), and
(b) the recipe everyone copies: pandas read_csv, StandardScaler, ``KMeans(n_init=10)`` for
k = 2..10, ``silhouette_score(sample_size=10000)`` on each, the k with the best silhouette, its
labels. Each runs in its own process under ``/usr/bin/time`` (wall time, peak RSS). Then, on the
same standardised data: chosen k, final inertia (WCSS of each run's labels), adjusted Rand index
against the true segments (``.truth.npy`` beside the data, from ``generate.py``), and the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CUSTSEG = Path(sys.executable).with_name("custseg")


def recipe(data: Path, out: Path) -> None:
    """The plain recipe, run in a child process."""
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    df = pd.read_csv(data) if data.suffix == ".csv" else pd.read_parquet(data)
    X = StandardScaler().fit_transform(df.drop(columns=["CustomerID"]))
    best = None
    for k in range(2, 11):
        km = KMeans(n_clusters=k, n_init=10, random_state=0).fit(X)
        score = silhouette_score(X, km.labels_, sample_size=10000, random_state=0)
        if best is None or score > best[0]:
            best = (score, k, km.labels_)
    np.save(out, best[2])


def timed(cmd: list[str], timeout: float | None) -> dict:
    """Run ``cmd`` under GNU time: wall seconds and peak RSS (MB), or the failure."""
    with tempfile.NamedTemporaryFile(suffix=".time") as tf:
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                ["/usr/bin/time", "-f", "%e %M", "-o", tf.name, *cmd],
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return {"ok": False, "error": f"did not finish in {timeout:.0f} s"}
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            return {"ok": False, "error": (proc.stderr or proc.stdout).strip()[-300:]}
        _, rss_kb = Path(tf.name).read_text().split()[-2:]
    return {"ok": True, "wall_s": wall, "peak_rss_mb": int(rss_kb) / 1024}


def wcss(X: np.ndarray, labels: np.ndarray) -> float:
    """Within-cluster sum of squares of ``labels`` on ``X`` (centres = cluster means)."""
    total = 0.0
    for k in np.unique(labels):
        members = X[labels == k]
        total += float(((members - members.mean(axis=0)) ** 2).sum())
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--recipe-timeout", type=float, default=3600)
    parser.add_argument("--skip-recipe", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--_recipe", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._recipe:
        recipe(args.data, args._recipe)
        return

    import pandas as pd
    from sklearn.metrics import adjusted_rand_score
    from sklearn.preprocessing import StandardScaler

    data = args.data.resolve()
    truth = np.load(str(data.with_suffix("")) + ".truth.npy")
    work = Path(tempfile.mkdtemp(prefix="custseg-bench-"))
    results = {}
    results["custseg"] = timed(
        [str(CUSTSEG), "run", str(data), "--out", str(work / "out"), "--quiet", "--force"], None
    )
    if not args.skip_recipe:
        results["recipe"] = timed(
            [sys.executable, __file__, str(data), "--_recipe", str(work / "recipe.npy")],
            args.recipe_timeout,
        )

    df = pd.read_parquet(data.with_suffix(".parquet"))
    X = StandardScaler().fit_transform(df.drop(columns=["CustomerID"]))
    labels = {}
    if results["custseg"]["ok"]:
        seg = pd.read_csv(work / "out" / "segments.csv", usecols=["segment"], engine="pyarrow")
        labels["custseg"] = seg["segment"].to_numpy()
        summary = json.loads((work / "out" / "summary.json").read_text())
        results["custseg"]["k_search_rows"] = summary["params"]["k_search_rows"]
    if results.get("recipe", {}).get("ok"):
        labels["recipe"] = np.load(work / "recipe.npy")
    for name, lab in labels.items():
        results[name] |= {
            "k": int(len(np.unique(lab))),
            "inertia": wcss(X, lab),
            "ari": float(adjusted_rand_score(truth, lab)),
        }
    if len(labels) == 2:
        c, r = results["custseg"], results["recipe"]
        results["ratio"] = {
            "wall": c["wall_s"] / r["wall_s"],
            "inertia": c["inertia"] / r["inertia"],
            "peak_rss": c["peak_rss_mb"] / r["peak_rss_mb"],
        }
    results["rows"] = len(df)
    results["true_k"] = int(len(np.unique(truth)))
    results["cpu_count"] = os.cpu_count()
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
