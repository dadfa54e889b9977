"""The Spark engine next to the single-machine engine on the same data, end to end.

    python benchmarks/bench_spark.py [--rows 1000000] [--master local[2]] [--k-range 2..10]

Writes ``customers_<n>.parquet`` with ``generate.py`` (6 true segments) when absent, then runs,
each in its own process under ``/usr/bin/time`` (wall time, peak RSS of the Python process):

(a) ``custseg run DATA`` (default engine: k compared on a 50k-row sample, then a warm-started
    full fit), and
(b) ``custseg run DATA --engine spark --spark-master MASTER`` (the same rule in Spark: k compared
    on a 50k-row sample, then the chosen k fitted on every row; Spark KMeans with k-means||,
    initSteps=5, best of 3 seeds).

Both write the same summary, model and report. Then, on the same standardised data: chosen k,
WCSS of each run's labels, and the adjusted Rand index against the true segments. The JVM's own
memory is bounded by ``spark.driver.memory`` (set here) and is not in the RSS column.
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
sys.path.insert(0, str(Path(__file__).parent))


def timed(cmd: list[str], env: dict | None = None) -> dict:
    """Run ``cmd`` under GNU time: wall seconds and peak RSS (MB), or the failure."""
    with tempfile.NamedTemporaryFile(suffix=".time") as tf:
        start = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%e %M", "-o", tf.name, *cmd],
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
        )
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            return {"ok": False, "error": (proc.stderr or proc.stdout)[-2000:]}
        _, rss_kb = Path(tf.name).read_text().split()[-2:]
    return {"ok": True, "wall_s": round(wall, 1), "peak_rss_mb": round(int(rss_kb) / 1024)}


def data_file(rows: int, folder: Path) -> Path:
    import pyarrow.parquet as pq
    from generate import customers, label

    path = folder / f"customers_{label(rows)}.parquet"
    truth = folder / f"customers_{label(rows)}.truth.npy"
    if not path.exists() or not truth.exists():
        folder.mkdir(parents=True, exist_ok=True)
        table, labels = customers(rows)
        pq.write_table(table, path)
        np.save(truth, labels)
    return path


def quality(data: Path, ids: np.ndarray, labels: np.ndarray) -> dict:
    """WCSS of ``labels`` on the standardised features, and ARI against the true segments."""
    import pandas as pd
    from sklearn.metrics import adjusted_rand_score
    from sklearn.preprocessing import StandardScaler

    frame = pd.read_parquet(data)
    truth = np.load(data.with_suffix("").with_suffix(".truth.npy"))
    order = pd.Series(labels, index=ids).reindex(frame["CustomerID"]).to_numpy()
    X = StandardScaler().fit_transform(frame.drop(columns=["CustomerID"]))
    wcss = 0.0
    for seg in np.unique(order):
        part = X[order == seg]
        wcss += float(((part - part.mean(axis=0)) ** 2).sum())
    return {"wcss": round(wcss, 1), "ari": round(float(adjusted_rand_score(truth, order)), 4)}


def phases(data: Path, master: str, k_range: str, memory: str, out: Path) -> dict[str, float]:
    """Seconds per step of the Spark path, run in this process (JVM start to outputs)."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from custseg.spark import segment_spark, spark_session, write_spark_outputs

    marks: dict[str, float] = {}
    start = time.perf_counter()

    def mark(step: str, done: int, total: int) -> None:
        if done == total:
            marks[step] = time.perf_counter()

    spark = spark_session(master, {"spark.driver.memory": memory})
    marks["start Spark"] = time.perf_counter()
    seg = segment_spark(data, k_range=k_range, spark=spark, progress=mark)
    write_spark_outputs(seg, out, force=True)
    marks["write outputs"] = time.perf_counter()
    seg.close()
    spark.stop()
    result, last = {}, start
    for step, when in sorted(marks.items(), key=lambda item: item[1]):
        result[step] = round(when - last, 1)
        last = when
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--k-range", default="2..10")
    parser.add_argument("--driver-memory", default="3g")
    parser.add_argument("--data", type=Path, default=Path(__file__).parent / "data")
    parser.add_argument("--phases", action="store_true", help="also time each Spark step")
    args = parser.parse_args()
    import pandas as pd

    data = data_file(args.rows, args.data)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        common = [str(CUSTSEG), "run", str(data), "--k-range", args.k_range, "-q"]
        results["single machine"] = timed([*common, "-o", str(out / "local")])
        results["spark"] = timed(
            [*common, "-o", str(out / "spark"), "--engine", "spark",
             "--spark-master", args.master,
             "--spark-conf", f"spark.driver.memory={args.driver_memory}"],
            env={"SPARK_LOCAL_IP": "127.0.0.1"},
        )  # fmt: skip
        for name, folder, read in (
            ("single machine", out / "local", lambda f: pd.read_csv(f / "segments.csv")),
            ("spark", out / "spark", lambda f: pd.read_parquet(f / "segments.parquet")),
        ):
            if not results[name]["ok"]:
                continue
            summary = json.loads((folder / "summary.json").read_text())
            rows = read(folder)
            results[name] |= {"k": summary["k"], "inertia_reported": summary["inertia"]}
            results[name] |= quality(
                data, rows["CustomerID"].to_numpy(), rows["segment"].to_numpy()
            )
        if args.phases:
            results["spark phases (s)"] = phases(
                data, args.master, args.k_range, args.driver_memory, out / "phases"
            )
    load = os.getloadavg()
    print(
        json.dumps(
            {"rows": args.rows, "master": args.master, "load_avg": load, **results}, indent=2
        )
    )
    print()
    print("| engine | wall (s) | peak RSS of Python (MB) | k | WCSS (same scaled data) | ARI |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        if name.endswith("(s)"):
            continue
        if r["ok"]:
            print(
                f"| {name} | {r['wall_s']} | {r['peak_rss_mb']:,} | {r['k']} | {r['wcss']:,.1f} | "
                f"{r['ari']} |"
            )
        else:
            print(f"| {name} | failed: {r['error'][-300:]} | | | | |")


if __name__ == "__main__":
    main()
