"""``kill -9`` of ``custseg predict`` and ``custseg rfm`` at seeded points in time: the previous
outputs stay whole, and the next run succeeds and removes what the killed ones left.

A few kills each, to stay short; ``benchmarks/faults.py`` runs the long schedules (and ``run``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from custseg import sample_customers, segment
from custseg.cli import app
from custseg.outputs import export
from custseg.outputs.export import STAGING_PREFIX

ENV = os.environ | {"PYTHONUNBUFFERED": "1"}


def in_process(command: list[str]) -> str:
    """The same command in this process (no start-up cost): the runs before and after the kills."""
    result = CliRunner().invoke(app, command[3:])
    assert result.exit_code == 0, result.output
    return result.output


def kill_schedule(command: list[str], out: Path, check: Callable[[], None], seed: int) -> int:
    """Kill ``command`` once at a seeded time, and once as soon as it starts writing (its staging
    folder appears); ``check`` after each. Returns how many were killed."""
    rng = np.random.default_rng(seed)
    full = 6.0  # seconds a run takes on a busy 2-core machine, start-up included
    delays = [float(rng.uniform(0.2 * full, 0.8 * full)), None]
    killed = 0
    for delay in delays:
        proc = subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL)
        if delay is None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and proc.poll() is None and not _staging(out):
                time.sleep(0.01)
        else:
            time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait()
        check()
    return killed


def _staging(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"{STAGING_PREFIX}*"))


def test_predict_killed_at_any_point_loses_nothing(tmp_path):
    rows = 40_000
    data = tmp_path / "day2.csv"
    sample_customers(rows, seed=8).to_csv(data, index=False)
    model = segment(sample_customers(400, seed=8), k=4, k_range="4").save(tmp_path / "m.skops")
    out = tmp_path / "pred"
    command = [sys.executable, "-m", "custseg", "predict", str(model), str(data)]
    command += ["-o", str(out / "day2_pred.csv"), "--force", "-q"]
    in_process(command)

    def whole() -> None:
        predictions = pd.read_csv(out / "day2_pred.csv")
        assert len(predictions) == rows and predictions["segment"].notna().all()
        assert json.loads((out / "day2_pred.drift.json").read_text())["n_rows"] == rows
        strays = {p.name for p in out.iterdir()} - {"day2_pred.csv", "day2_pred.drift.json"}
        assert all(name.startswith(STAGING_PREFIX) for name in strays), strays

    assert kill_schedule(command, out, whole, seed=1) >= 1
    in_process(command)
    assert sorted(p.name for p in out.iterdir()) == ["day2_pred.csv", "day2_pred.drift.json"]


def test_rfm_killed_at_any_point_loses_nothing(tmp_path):
    rng = np.random.default_rng(9)
    n = 40_000
    days = pd.date_range("2023-01-01", "2024-12-31", freq="D").strftime("%Y-%m-%d")
    tx = pd.DataFrame(
        {
            "customer": [f"c{i}" for i in rng.integers(0, 3_000, n)],
            "invoice": [f"i{i}" for i in range(n)],
            "date": rng.choice(days, n),
            "amount": np.round(rng.lognormal(3, 1, n), 2),
        }
    )
    data = tmp_path / "tx.csv"
    tx.to_csv(data, index=False)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "custseg", "rfm", str(data), "--out", str(out)]
    command += ["--k", "3", "--k-range", "3", "--force", "-q"]
    in_process(command)
    first = export.check_manifest(out)
    files = {*export.OUTPUTS, export.RULES_SQL, "rfm_features.csv", export.MANIFEST}

    def whole() -> None:
        assert export.check_manifest(out) is not None  # the set on disk is one run's, whole
        assert {p.name for p in out.iterdir() if not p.name.startswith(STAGING_PREFIX)} == files

    assert kill_schedule(command, out, whole, seed=2) >= 1
    left = _staging(out)
    assert ("unfinished output folder" in in_process(command[:-1])) == bool(left)
    assert _staging(out) == [] and {p.name for p in out.iterdir()} == files
    assert export.check_manifest(out) not in (None, first)
