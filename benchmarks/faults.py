"""Fault injection, the long schedules: ``kill -9`` of ``custseg run``, ``rfm`` and ``predict`` at
seeded points in time, and whether anything was lost.

    python benchmarks/faults.py [--kills 25] [--rows 200000] [--seed 0]

For each command: one whole run first (the previous outputs), then ``--kills`` runs killed with
SIGKILL, each at a time drawn from a seeded uniform schedule over a whole run's duration (start-up
included, so every phase is hit: reading, fitting, writing, publishing). After each kill:

- lost: the outputs on disk are not whole: for ``run``/``rfm`` the manifest does not match
  (``check_manifest``), for ``predict`` a file does not parse or has the wrong row count;
- stray: files other than the outputs and staging folders were left behind.

Then one more run must succeed and leave no staging folder. Prints one Markdown row per command,
for the fault table of the docs' reliability page. The short versions are tests/test_faults*.py.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from custseg import sample_customers, segment
from custseg.outputs import export
from custseg.outputs.export import STAGING_PREFIX

ENV = os.environ | {"PYTHONUNBUFFERED": "1"}
CUSTSEG = [sys.executable, "-m", "custseg"]


def transactions(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.date_range("2023-01-01", "2024-12-31", freq="D").strftime("%Y-%m-%d")
    return pd.DataFrame(
        {
            "customer": [f"c{i}" for i in rng.integers(0, max(n // 15, 10), n)],
            "invoice": [f"i{i}" for i in range(n)],
            "date": rng.choice(days, n),
            "amount": np.round(rng.lognormal(3, 1, n), 2),
        }
    )


def whole_run_set(out: Path, files: set[str]) -> Callable[[], tuple[bool, bool]]:
    def check() -> tuple[bool, bool]:
        try:
            ok = export.check_manifest(out) is not None
        except Exception:
            ok = False
        names = {p.name for p in out.iterdir() if not p.name.startswith(STAGING_PREFIX)}
        return ok and files <= names, bool(names - files)

    return check


def whole_predictions(out: Path, rows: int) -> Callable[[], tuple[bool, bool]]:
    names = {"pred.csv", "pred.drift.json"}

    def check() -> tuple[bool, bool]:
        try:
            frame = pd.read_csv(out / "pred.csv")
            drift = json.loads((out / "pred.drift.json").read_text())
            ok = len(frame) == rows and drift["n_rows"] == rows
        except Exception:
            ok = False
        left = {p.name for p in out.iterdir() if not p.name.startswith(STAGING_PREFIX)}
        return ok, bool(left - names)

    return check


def schedule(command, out: Path, check, kills: int, rng) -> dict:
    start = time.monotonic()
    done = subprocess.run(command, env=ENV, capture_output=True, text=True)
    if done.returncode:
        sys.exit(done.stderr)
    full = time.monotonic() - start
    counts = {"injected": 0, "lost": 0, "stray": 0, "finished first": 0}
    for delay in rng.uniform(0.05 * full, 1.1 * full, size=kills):
        proc = subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            counts["injected"] += 1
        else:
            counts["finished first"] += 1
        proc.wait()
        lost, stray = check()
        counts["lost"] += not lost
        counts["stray"] += stray
    left = len(list(out.glob(f"{STAGING_PREFIX}*")))
    done = subprocess.run(command, env=ENV, capture_output=True, text=True)
    counts["staging before next run"] = left
    counts["next run ok"] = done.returncode == 0
    counts["staging after next run"] = len(list(out.glob(f"{STAGING_PREFIX}*")))
    counts["run seconds"] = round(full, 1)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=25)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="*", default=["run", "rfm", "predict"])
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        customers = root / "customers.csv"
        sample_customers(args.rows, seed=args.seed).to_csv(customers, index=False)
        if "run" in args.only:
            out = root / "run"
            command = [*CUSTSEG, "run", str(customers), "--out", str(out), "--force", "-q"]
            command += ["--k", "4", "--k-range", "4"]
            check = whole_run_set(out, {*export.OUTPUTS, export.MANIFEST})
            results["run"] = schedule(command, out, check, args.kills, rng)
        if "rfm" in args.only:
            tx = root / "tx.csv"
            transactions(args.rows, args.seed).to_csv(tx, index=False)
            out = root / "rfm"
            command = [*CUSTSEG, "rfm", str(tx), "--out", str(out), "--force", "-q"]
            command += ["--k", "3", "--k-range", "3"]
            check = whole_run_set(out, {*export.OUTPUTS, "rfm_features.csv", export.MANIFEST})
            results["rfm"] = schedule(command, out, check, args.kills, rng)
        if "predict" in args.only:
            model = segment(sample_customers(2000, seed=1), k=4, k_range="4").save(
                root / "model.skops"
            )
            out = root / "predict"
            command = [*CUSTSEG, "predict", str(model), str(customers)]
            command += ["-o", str(out / "pred.csv"), "--force", "-q"]
            check = whole_predictions(out, args.rows)
            results["predict"] = schedule(command, out, check, args.kills, rng)
    print(
        f"{args.rows:,} rows, {args.kills} scheduled kills per command, seed {args.seed}, "
        f"load average {os.getloadavg()[0]:.1f}\n"
    )
    print(
        "| command | whole run | killed | finished before the kill | lost data | stray files "
        "| staging left, then after the next run | next run |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---|")
    for name, c in results.items():
        print(
            f"| `{name}` | {c['run seconds']} s | {c['injected']} | {c['finished first']} | "
            f"{c['lost']} | {c['stray']} | {c['staging before next run']} -> "
            f"{c['staging after next run']} | {'ok' if c['next run ok'] else 'FAILED'} |"
        )


if __name__ == "__main__":
    main()
