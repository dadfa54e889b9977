"""Reading compressed inputs: ``custseg.load`` on a CSV and the same CSV gzip-, zstd-, bzip2-
and xz-compressed, and in a zip, in fresh processes.

    python benchmarks/compressed.py [--rows 1000000] [--repeats 3]

Prints the median CPU time (user + system, all threads; steadier than wall time on a shared
machine) of ``load`` per kind, of unpacking alone, and the load time less the unpacking: that
difference should be the uncompressed load time (issue 20: "the speed of the uncompressed path
plus decompression").
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import customers  # noqa: E402

KINDS = ["csv", "csv.gz", "csv.zst", "csv.bz2", "csv.xz", "zip"]
LOAD = "import sys, time; from custseg import load; t = time.process_time(); load(sys.argv[1]); "
LOAD += "print(time.process_time() - t)"
UNPACK = (
    "import sys, time, tempfile; from pathlib import Path; "
    "from custseg.read.compressed import compression_of, _unpack; t = time.process_time(); "
    "d = tempfile.TemporaryDirectory(); _unpack(Path(sys.argv[1]), compression_of(sys.argv[1]), "
    "Path(d.name)); print(time.process_time() - t)"
)


def write(folder: Path, rows: int) -> dict[str, Path]:
    table, _ = customers(rows, seed=0)
    plain = folder / "customers.csv"
    pacsv.write_csv(table, plain)
    data = plain.read_bytes()
    paths = {"csv": plain}
    for kind in KINDS[1:]:
        path = folder / f"customers.{kind}"
        if kind == "zip":
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.write(plain, plain.name)
        elif kind == "csv.gz":
            path.write_bytes(gzip.compress(data, compresslevel=6))
        else:
            codec = {"csv.zst": "zstd", "csv.bz2": "bz2"}.get(kind)
            if codec:
                with pa.CompressedOutputStream(str(path), codec) as out:
                    out.write(data)
            else:
                import lzma  # only for this one kind

                path.write_bytes(lzma.compress(data, preset=1))
        paths[kind] = path
    return paths


def timed(code: str, path: Path) -> float:
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    if out.returncode:
        sys.exit(out.stderr)
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        paths = write(Path(folder), args.rows)
        loads = {k: [] for k in KINDS}
        unpacks = {k: [] for k in KINDS[1:]}
        start = time.perf_counter()
        for _ in range(args.repeats):  # alternating, so every kind sees the same machine load
            for kind in KINDS:
                loads[kind].append(timed(LOAD, paths[kind]))
                if kind != "csv":
                    unpacks[kind].append(timed(UNPACK, paths[kind]))
        plain = statistics.median(loads["csv"])
        print(
            f"{args.rows:,} rows, {paths['csv'].stat().st_size / 1e6:,.0f} MB as CSV, "
            f"medians of {args.repeats} ({time.perf_counter() - start:.0f} s in all)\n"
        )
        print("| input | size | load (CPU) | unpack alone (CPU) | load - unpack | vs CSV load |")
        print("|---|---:|---:|---:|---:|---:|")
        for kind in KINDS:
            load = statistics.median(loads[kind])
            unpack = statistics.median(unpacks[kind]) if kind != "csv" else 0.0
            size = paths[kind].stat().st_size / 1e6
            print(
                f"| `{paths[kind].name}` | {size:,.0f} MB | {load:.2f} s | "
                f"{unpack:.2f} s | {load - unpack:.2f} s | {(load - unpack) / plain:.2f}x |"
            )


if __name__ == "__main__":
    main()
