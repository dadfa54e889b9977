"""Benchmark: transactions -> per-customer RFM features (issue 7).

Generates synthetic order lines (string customer ids and invoice numbers, ~4 lines per invoice,
2% cancellations with 'C' invoices and negative quantities, amount = quantity x price), then
times ``custseg.rfm.rfm_features`` on them and prints each run and the median.

    .venv/bin/python benchmarks/bench_rfm.py                      # 10M rows, 3 runs
    .venv/bin/python benchmarks/bench_rfm.py --rows 1000000 --runs 5 --dates string --parquet
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from custseg.rfm import rfm_features


def synthetic(rows: int, customers: int, dates: str, seed: int = 0) -> pa.Table:
    """``rows`` order lines of ``customers`` customers over two years (1 Jan 2022 - 31 Dec 2023)."""
    rng = np.random.default_rng(seed)
    invoices = max(rows // 4, 1)
    inv_customer = rng.integers(0, customers, invoices)
    inv_day = rng.integers(0, 730, invoices) + 18993  # days since 1970: 2022-01-01 ..
    cancelled = rng.random(invoices) < 0.02
    line_invoice = np.sort(rng.integers(0, invoices, rows))
    qty = rng.integers(1, 13, rows).astype(np.int32)
    qty[cancelled[line_invoice]] *= -1
    price = np.round(rng.gamma(2.0, 4.0, rows), 2)
    cust_names = pa.array([f"C{i:07d}" for i in range(customers)])
    inv_names = pa.array(
        [("C" if c else "") + f"{536365 + i}" for i, c in enumerate(cancelled.tolist())]
    )
    customer = cust_names.take(pa.array(inv_customer[line_invoice]))
    invoice = inv_names.take(pa.array(line_invoice))
    seconds = inv_day[line_invoice].astype(np.int64) * 86400 + rng.integers(8, 20, rows) * 3600
    when = pa.array(seconds, pa.timestamp("s"))
    if dates == "string":
        when = when.cast(pa.string())  # "2022-03-04 10:00:00"
    return pa.table(
        {
            "InvoiceNo": invoice,
            "CustomerID": customer,
            "InvoiceDate": when,
            "Quantity": qty,
            "UnitPrice": price,
        }
    )


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dates", choices=("timestamp", "string"), default="timestamp")
    parser.add_argument(
        "--parquet", action="store_true", help="also time from a Parquet file (read included)"
    )
    args = parser.parse_args()

    print(f"machine: {machine()}; pyarrow {pa.__version__}, numpy {np.__version__}")
    start = time.perf_counter()
    table = synthetic(args.rows, args.customers, args.dates)
    print(
        f"generated {table.num_rows:,} transactions ({args.dates} dates, "
        f"{table.nbytes / 1e6:,.0f} MB) in {time.perf_counter() - start:.1f} s"
    )
    sources: list[tuple[str, object]] = [("in-memory Arrow table", table)]
    tmp = None
    if args.parquet:
        import pyarrow.parquet as pq

        tmp = tempfile.TemporaryDirectory()
        path = Path(tmp.name) / "transactions.parquet"
        pq.write_table(table, path)
        sources.append((f"Parquet file ({path.stat().st_size / 1e6:,.0f} MB)", path))
    for label, source in sources:
        times, cpu = [], []
        for run in range(1, args.runs + 1):
            start, start_cpu = time.perf_counter(), time.process_time()
            features, report = rfm_features(source)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            print(
                f"{label} run {run}: {times[-1]:.2f} s wall, {cpu[-1]:.2f} s CPU "
                f"({report['rows_used']:,} rows -> {len(features):,} customers, "
                f"{report['returns']['rows']:,} returns netted)"
            )
        median = statistics.median(times)
        print(
            f"{label}: median {median:.2f} s wall ({statistics.median(cpu):.2f} s CPU) over "
            f"{args.runs} runs ({args.rows / median / 1e6:.2f}M rows/s); load average "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
