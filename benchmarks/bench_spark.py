"""The Spark engine next to the single-machine engine on the same data, stage by stage.

    python benchmarks/bench_spark.py [--rows 1000000] [--master local[2]] [--k-range 2..10]
                                     [--only spark] [--driver-memory 3g]

Writes ``customers_<n>.parquet`` with ``generate.py`` (6 true segments) when absent, then runs
each engine in its own process under ``/usr/bin/time`` (wall time, peak RSS of the Python
process), with Spark's default settings unless ``--driver-memory`` is given:

(a) the single-machine run: read, k compared on a 25,000-row seeded sample, a warm-started fit on
    every row, profiles, outputs;
(b) the Spark run: the same k search on the driver with the same code, Spark for reading and
    checks, feature statistics, the warm-started fit on every row, profiles and outputs.

Each process also reports its seconds per stage; the Spark one the JVM's peak heap (the sum of
the heap pools' peaks, from the JVM's own memory beans). Then, on the same standardised data:
chosen k, WCSS of each run's labels, and the adjusted Rand index against the true segments.
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
            return {"ok": False, "error": (proc.stdout + proc.stderr)[-2000:]}
        _, rss_kb = Path(tf.name).read_text().split()[-2:]
    return {
        "ok": True,
        "wall_s": round(wall, 1),
        "peak_rss_mb": round(int(rss_kb) / 1024),
        "stdout": proc.stdout,
    }


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


def child(engine: str, data: Path, master: str, k_range: str, memory: str | None, out: Path):
    """One engine's whole run in this process; print its seconds per stage as JSON."""
    marks: dict[str, float] = {}
    start = time.perf_counter()

    def mark(step: str, done: int, total: int) -> None:
        if done == total:
            marks[step] = time.perf_counter()

    extra: dict = {}
    if engine == "spark":
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        from custseg.spark import segment_spark, spark_session, write_spark_outputs

        spark = spark_session(master, {"spark.driver.memory": memory} if memory else {})
        marks["start Spark"] = time.perf_counter()
        seg = segment_spark(data, k_range=k_range, spark=spark, progress=mark)
        write_spark_outputs(seg, out, force=True)
        marks["write outputs"] = time.perf_counter()
        extra["jvm_peak_heap_mb"] = jvm_peak_heap_mb(spark)
        extra["notes"] = [n for n in seg.notes if "memory" in n]
        seg.close()
        spark.stop()
    else:
        from custseg import segment
        from custseg.outputs.export import write_outputs
        from custseg.read import load

        table = load(data)
        marks["load data"] = time.perf_counter()
        seg = segment(table, k_range=k_range, progress=mark)
        marks["profile"] = time.perf_counter()
        write_outputs(seg, out, force=True)
        marks["write outputs"] = time.perf_counter()
    stages, last = {}, start
    for step, when in sorted(marks.items(), key=lambda item: item[1]):
        stages[step] = round(when - last, 1)
        last = when
    print(json.dumps({"stages": stages, **extra}))


def jvm_peak_heap_mb(spark) -> int:
    """The JVM's peak heap use: the sum of its heap pools' peaks (MB)."""
    factory = spark.sparkContext._jvm.java.lang.management.ManagementFactory
    total = 0
    for pool in factory.getMemoryPoolMXBeans():
        if str(pool.getType().toString()) == "Heap memory":
            total += int(pool.getPeakUsage().getUsed())
    return round(total / 2**20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--k-range", default="2..10")
    parser.add_argument("--driver-memory", default=None, help="default: custseg's own choice")
    parser.add_argument("--only", choices=["spark", "single machine"], default=None)
    parser.add_argument("--child", choices=["spark", "local"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, default=Path(__file__).parent / "data")
    args = parser.parse_args()
    import pandas as pd

    data = data_file(args.rows, args.data)
    if args.child:
        child(args.child, data, args.master, args.k_range, args.driver_memory, args.out)
        return
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        me = [sys.executable, __file__, "--rows", str(args.rows), "--data", str(args.data),
              "--master", args.master, "--k-range", args.k_range]  # fmt: skip
        if args.driver_memory:
            me += ["--driver-memory", args.driver_memory]
        runs = {"single machine": ("local", out / "local"), "spark": ("spark", out / "spark")}
        for name, (engine, folder) in runs.items():
            if args.only and name != args.only:
                continue
            load_before = os.getloadavg()[0]
            results[name] = timed(
                [*me, "--child", engine, "--out", str(folder)], env={"SPARK_LOCAL_IP": "127.0.0.1"}
            )
            results[name]["load"] = (round(load_before, 1), round(os.getloadavg()[0], 1))
            if not results[name]["ok"]:
                continue
            results[name] |= json.loads(results[name].pop("stdout").strip().splitlines()[-1])
            summary = json.loads((folder / "summary.json").read_text())
            rows = (
                pd.read_parquet(folder / "segments.parquet")
                if engine == "spark"
                else pd.read_csv(folder / "segments.csv")
            )
            results[name] |= {"k": summary["k"], "inertia_reported": summary["inertia"]}
            results[name] |= quality(
                data, rows["CustomerID"].to_numpy(), rows["segment"].to_numpy()
            )
    load = os.getloadavg()
    print(
        json.dumps(
            {"rows": args.rows, "master": args.master, "load_avg": load, **results}, indent=2
        )
    )
    print()
    print("| engine | wall (s) | peak RSS of Python (MB) | JVM peak heap (MB) | k | WCSS | ARI |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        if r["ok"]:
            heap = r.get("jvm_peak_heap_mb", "")
            print(
                f"| {name} | {r['wall_s']} | {r['peak_rss_mb']:,} | {heap} | {r['k']} | "
                f"{r['wcss']:,.1f} | {r['ari']} |"
            )
        else:
            print(f"| {name} | failed: {r['error'][-300:]} | | | | | |")
    for name, r in results.items():
        if r["ok"]:
            print(f"{name}: " + ", ".join(f"{k} {v} s" for k, v in r["stages"].items()))


if __name__ == "__main__":
    main()
