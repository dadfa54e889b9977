"""Nothing is lost: interrupted runs leave no partial output, concurrent runs don't corrupt each
other, and the same input and seed give byte-identical outputs whatever the thread count."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from custseg import sample_customers

CUSTSEG = [sys.executable, "-m", "custseg"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run(*args, env=None, **kwargs):
    return subprocess.run(
        [*CUSTSEG, "run", *map(str, args)], env=env, capture_output=True, text=True, **kwargs
    )


def _outputs(folder: Path) -> dict[str, str]:
    return {p.name: _sha(p) for p in folder.iterdir()}


def test_same_seed_same_bytes_across_thread_counts(tmp_path):
    data = tmp_path / "c.csv"
    sample_customers(3000, seed=2).to_csv(data, index=False)
    results = []
    for threads in ("1", "2"):
        env = os.environ | {"OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads}
        out = tmp_path / f"t{threads}"
        assert _run(data, "--out", out, "-q", "--k-range", "3..6", env=env).returncode == 0
        summary = json.loads((out / "summary.json").read_text())
        summary.pop("created")
        results.append(((out / "segments.csv").read_bytes(), summary))
    assert results[0][0] == results[1][0]
    assert results[0][1] == results[1][1]


def test_sigterm_mid_run_leaves_previous_outputs(tmp_path):
    data = tmp_path / "big.csv"
    sample_customers(300_000, seed=1).to_csv(data, index=False)
    out = tmp_path / "out"
    assert _run("--out", out, "-q", "--k", "3").returncode == 0
    before = _outputs(out)
    proc = subprocess.Popen(
        [*CUSTSEG, "run", str(data), "--out", str(out), "-q", "--force", "--k", "4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # Strike while outputs are being written: the staging folder exists from then on.
    deadline = time.monotonic() + 240
    while not any(p.name.startswith(".custseg-") for p in out.iterdir()):
        assert proc.poll() is None, "the run ended before it started writing"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=120)
    assert proc.returncode != 0
    assert _outputs(out) == before
    assert not [p for p in out.iterdir() if p.name.startswith(".custseg-")]


def test_concurrent_runs_into_one_folder(tmp_path):
    out = tmp_path / "out"
    procs = [
        subprocess.Popen(
            [*CUSTSEG, "run", "--out", str(out), "-q", "--force", "--k", str(k)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for k in (3, 4)
    ]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    summary = json.loads((out / "summary.json").read_text())
    segments = pd.read_csv(out / "segments.csv")
    # Whole sets only: the segments file agrees with the summary that sits beside it.
    assert segments["segment"].nunique() == summary["k"]
    assert not [p for p in out.iterdir() if p.name.startswith(".custseg-")]
