"""Benchmark: ``custseg rfm --clv`` on CDNOW (issue 15, item 3).

1. Run time: the whole command line run ``custseg rfm CDNOW_master.txt --clv`` on all 23,570
   customers (reading, RFM features, BG/NBD and Gamma-Gamma, segments, all outputs), each run in a
   fresh process, timed from outside; prints each run and the median. The first run may include
   PyTensor compiling its C code (cached afterwards in ~/.pytensor); ``--cold`` points PyTensor at
   an empty cache directory for every run to measure that case.
2. Holdout forecast: calibrated on purchases up to 1997-10-01 (``--as-of 1997-10-01``), the
   expected repeat purchases over the following 39 weeks against the purchase days that actually
   followed (1997-10-02 to 1998-06-30), in total and by number of calibration repeat purchases.

    .venv/bin/python benchmarks/clv.py                      # 3 runs
    .venv/bin/python benchmarks/clv.py --runs 5 --cold
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from custseg.rfm import RFMOptions, rfm_features
from custseg.rfm.value import customer_value

CDNOW = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "CDNOW_master.txt"


def time_runs(path: Path, runs: int, cold: bool, clv: bool = True) -> tuple[list, list]:
    """Wall and CPU seconds (user + system, of the child process) of each run."""
    walls, cpus = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ)
            if cold:
                env["PYTENSOR_FLAGS"] = f"compiledir={tmp}/pytensor"
            command = [sys.executable, "-m", "custseg", "rfm", str(path), "--quiet"]
            command += ["--clv"] if clv else []
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run([*command, "--out", f"{tmp}/out"], check=True, env=env)
            walls.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            print(f"  run: {walls[-1]:.1f} s wall, {cpus[-1]:.1f} s CPU", flush=True)
    return walls, cpus


def holdout(path: Path) -> None:
    features, _ = rfm_features(path, clv=True, as_of="1997-10-01")
    holdout_days = (pd.Timestamp("1998-06-30") - pd.Timestamp("1997-10-01")).days
    values, report = customer_value(features, RFMOptions(clv=True, horizon=holdout_days))
    raw = pd.read_csv(
        path, sep=r"\s+", header=None, names=["customer", "date", "quantity", "amount"],
        dtype={"customer": str, "date": str},
    )  # fmt: skip
    raw["day"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    later = raw[raw["day"] > pd.Timestamp("1997-10-01")]
    actual = later.groupby("customer")["day"].nunique()
    frame = pd.DataFrame(
        {
            "calibration": features["repeat_purchases"].to_numpy(),
            "predicted": values["expected_purchases"].to_numpy(),
            "actual": actual.reindex(features["customer"]).fillna(0).to_numpy(),
        }
    )
    print("parameters:", report["parameters"])
    total_p, total_a = frame["predicted"].sum(), frame["actual"].sum()
    print(
        f"holdout {holdout_days} days: predicted {total_p:,.0f} repeat purchases, actual "
        f"{total_a:,.0f}, error {(total_p - total_a) / total_a:+.1%}"
    )
    frame["group"] = frame["calibration"].clip(upper=7).astype(str).replace("7", "7+")
    print(frame.groupby("group")[["predicted", "actual"]].mean().round(3).to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=CDNOW)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="empty PyTensor cache for each run")
    parser.add_argument("--no-holdout", action="store_true", help="time the runs only")
    parser.add_argument("--without", action="store_true", help="also time runs without --clv")
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    if not args.no_holdout:
        holdout(args.data)
    cases = [("custseg rfm --clv", True)] + [("custseg rfm", False)] * args.without
    for name, clv in cases:
        walls, cpus = time_runs(args.data, args.runs, args.cold, clv)
        cache = ("cold" if args.cold else "warm") + " cache" if clv else "no customer value"
        print(f"{name} ({cache}): median {statistics.median(walls):.1f} s wall, "
              f"{statistics.median(cpus):.1f} s CPU over {len(walls)} runs")  # fmt: skip


if __name__ == "__main__":
    main()
