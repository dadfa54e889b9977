"""Start-up of ``custseg``: ``--help``, ``run --help`` and a 200-row run, in fresh processes.

    python benchmarks/startup.py [--repeats 7] [--baseline /tmp/base/src] [--data CSV]

Prints medians of wall and CPU time over the repeats for this tree and for the pre-redesign
baseline (the ``src`` folder of a checkout of commit 0699ee2; skipped when absent), alternating
between the two so both see the same load. DATA defaults to ``mall_customers.csv`` in
``../shared/data`` (or ``$CUSTSEG_SHARED/data``), else the built-in sample written to a temporary
CSV. Target: ``custseg --help`` under 0.3 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CUSTSEG_SHARED", ROOT.parent / "shared")) / "data"
MALL = SHARED / "mall_customers.csv"
CUSTSEG = Path(sys.executable).with_name("custseg")
# The console script imports whichever custseg comes first on PYTHONPATH.
COMMAND = [str(CUSTSEG)] if CUSTSEG.exists() else [sys.executable, "-m", "custseg"]


def env_for(src: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(src)}


def check_source(src: Path) -> None:
    """Fail loudly when ``src`` is not the custseg that runs (e.g. an editable install wins)."""
    code = "import custseg, os; print(os.path.realpath(custseg.__file__))"
    where = subprocess.run(
        [sys.executable, "-c", code], env=env_for(src), capture_output=True, text=True, check=True
    ).stdout.strip()
    if not where.startswith(str(src.resolve())):
        sys.exit(f"custseg is imported from {where}, not from {src}")


def timed(args: list[str], src: Path) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one command in a fresh process."""
    cpu = cpu_of_children()
    start = time.perf_counter()
    subprocess.run([*COMMAND, *args], env=env_for(src), check=True, capture_output=True)
    return time.perf_counter() - start, cpu_of_children() - cpu


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def sample_csv(folder: Path) -> Path:
    """The built-in 200-customer sample as a CSV, for machines without the shared data."""
    path = folder / "sample_customers.csv"
    code = (
        "from custseg import sample_customers; "
        f"sample_customers().to_csv({str(path)!r}, index=False)"
    )
    subprocess.run([sys.executable, "-c", code], env=env_for(ROOT / "src"), check=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--baseline", type=Path, default=Path("/tmp/base/src"))
    parser.add_argument("--data", type=Path, default=MALL if MALL.exists() else None)
    args = parser.parse_args()
    trees = {"this tree": ROOT / "src"}
    if (args.baseline / "custseg").is_dir():
        trees["baseline"] = args.baseline
    else:
        print(f"baseline {args.baseline} absent: timing this tree only")
    for src in trees.values():
        check_source(src)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or sample_csv(Path(tmp))
        cases = {
            "custseg --help": ["--help"],
            "custseg run --help": ["run", "--help"],
            "custseg run DATA -q (200 rows)": [],  # filled per tree: its own --out
        }
        times = {(case, tree): [] for case in cases for tree in trees}
        for repeat in range(args.repeats + 1):  # the first round warms caches and is dropped
            for tree, src in trees.items():
                out = Path(tmp) / tree.replace(" ", "_")
                run = ["run", str(data), "--out", str(out), "--force", "-q"]
                for case, argv in cases.items():
                    measured = timed(argv or run, src)
                    if repeat:
                        times[case, tree].append(measured)
    print(
        f"medians of {args.repeats} runs in fresh processes, wall time (CPU time); data: "
        f"{data.name}; load average {load:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    print("| command | " + " | ".join(trees) + " |")
    print("|---|" + "---:|" * len(trees))
    for case in cases:
        cells = []
        for tree in trees:
            walls, cpus = zip(*times[case, tree], strict=True)
            cells.append(f"{statistics.median(walls):.2f} s ({statistics.median(cpus):.2f} s)")
        print(f"| `{case}` | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
