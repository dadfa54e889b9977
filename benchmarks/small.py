"""The 200-row mall data: ``custseg run`` end to end, and the part after Python imports.

    python benchmarks/small.py [DATA] [--repeats 5]

DATA defaults to ``../shared/data/mall_customers.csv``. Prints, as medians over the repeats:
the CLI's wall time in a fresh process (imports included), the import time alone, and the same
work as ``custseg run`` (load, segment with auto k, write segments.csv, summary.json, the model
and report.html) timed in-process after the imports (target: under 3 s).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CUSTSEG = Path(sys.executable).with_name("custseg")
IMPORTS = (
    "import custseg, custseg.cli, custseg.outputs.export, custseg.outputs.report, "
    "custseg.outputs.model_file"
)


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def after_imports(data: Path) -> float:
    """One run's load + segment + outputs, timed in a fresh process after its imports."""
    code = f"""
import time, tempfile
{IMPORTS}
from custseg.outputs.export import write_outputs
start = time.perf_counter()
seg = custseg.segment({str(data)!r})
write_outputs(seg, tempfile.mkdtemp())
print(time.perf_counter() - start)
"""
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", type=Path,
                        default=ROOT.parent / "shared" / "data" / "mall_customers.csv")  # fmt: skip
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    cli, imports, work = [], [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as out:
            cli.append(wall([str(CUSTSEG), "run", str(args.data), "-o", out, "--quiet"]))
        imports.append(wall([sys.executable, "-c", IMPORTS]))
        work.append(after_imports(args.data))
    for name, times in [("custseg run (CLI, fresh process)", cli),
                        ("imports alone", imports),
                        ("run after imports (target < 3 s)", work)]:  # fmt: skip
        print(f"{name:36s} median {statistics.median(times):6.2f} s   "
              f"(min {min(times):.2f}, max {max(times):.2f}, n={len(times)})")  # fmt: skip


if __name__ == "__main__":
    main()
