"""Load-test ``custseg serve``: single-customer latency at 50 concurrent requests, batch throughput.

Starts ``custseg serve`` (uvicorn, loopback) in a subprocess on a model fitted to the mall data
(or the built-in sample when ../shared/data is absent), then loads it from a second process:
``wrk`` when installed (``apt-get install wrk``), else an asyncio httpx client. Each scenario
runs ``--runs`` times for ``--duration`` seconds; the medians are printed as a Markdown table.

    .venv/bin/python benchmarks/bench_api.py                  # 3 runs x 10 s per scenario
    .venv/bin/python benchmarks/bench_api.py --workers 2 --client httpx

Targets (issue 5): single-customer p99 < 20 ms at 50 concurrent; batch > 100,000 customers/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
MALL = ROOT.parent / "shared" / "data" / "mall_customers.csv"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fit_model(folder: Path) -> tuple[Path, list[dict]]:
    """Fit and save a model; return its path and the training rows as request bodies."""
    import custseg

    data = pd.read_csv(MALL) if MALL.exists() else custseg.sample_customers()
    seg = custseg.segment(data, seed=0)
    path = seg.save(folder / "model.skops")
    rows = data[seg.features].astype(float).to_dict("records")
    return path, rows


def start_server(model: Path, port: int, workers: int) -> subprocess.Popen:
    entry = "from custseg.cli import main; main()"  # the console script, in this interpreter
    cmd = [sys.executable, "-c", entry, "serve", str(model), "--port", str(port)]
    cmd += ["--workers", str(workers)]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read().decode()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    stop_server(proc)
    raise SystemExit("server did not start within 60 s")


def stop_server(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) used so far by every process of the server's process group."""
    total = 0
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # field 5 of stat: process group
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


# ---------------------------------------------------------------- clients

_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def run_wrk(url: str, body: bytes, concurrency: int, duration: int, folder: Path) -> dict:
    script = folder / "post.lua"
    body_file = folder / "body.json"
    body_file.write_bytes(body)
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'local f = io.open("{body_file}", "rb")\nwrk.body = f:read("*all")\nf:close()\n'
    )
    cmd = ["wrk", "-t1", f"-c{concurrency}", f"-d{duration}s", "--latency", "-s", str(script)]
    text = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    pct = {
        p: float(v) * _UNIT[u]
        for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    }
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    return {
        "rps": rps,
        "p50_ms": pct["50"],
        "p99_ms": pct["99"],
        "errors": int(errors.group(1)) if errors else 0,
    }


def run_httpx(url: str, body: bytes, concurrency: int, duration: int, folder: Path) -> dict:
    import httpx

    async def main() -> dict:
        latencies: list[float] = []
        errors = 0
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        headers = {"content-type": "application/json"}
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            end = time.perf_counter() + duration

            async def worker() -> None:
                nonlocal errors
                while time.perf_counter() < end:
                    t0 = time.perf_counter()
                    r = await client.post(url, content=body, headers=headers)
                    latencies.append((time.perf_counter() - t0) * 1e3)
                    errors += r.status_code != 200

            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.perf_counter() - start
        latencies.sort()
        return {
            "rps": len(latencies) / elapsed,
            "p50_ms": latencies[len(latencies) // 2],
            "p99_ms": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
            "errors": errors,
        }

    return asyncio.run(main())


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--concurrency", type=int, default=50, help="single-customer scenario")
    parser.add_argument("--batch", type=int, default=1000, help="customers per batch request")
    parser.add_argument("--batch-concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1, help="custseg serve --workers")
    parser.add_argument("--client", choices=["wrk", "httpx"], default=None)
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args()
    client = args.client or ("wrk" if shutil.which("wrk") else "httpx")
    load = run_wrk if client == "wrk" else run_httpx

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model, rows = fit_model(folder)
        single = json.dumps(rows[0]).encode()
        batch = json.dumps([rows[i % len(rows)] for i in range(args.batch)]).encode()
        port = free_port()
        url = f"http://127.0.0.1:{port}/v1/assign"
        server = start_server(model, port, args.workers)
        try:
            import httpx

            check = httpx.post(url, content=batch, headers={"content-type": "application/json"})
            assert check.status_code == 200 and len(check.json()) == args.batch, check.text[:300]
            results: dict[str, list[dict]] = {"single": [], "batch": []}
            for _ in range(args.runs):
                for name, body, conc in (
                    ("single", single, args.concurrency),
                    ("batch", batch, args.batch_concurrency),
                ):
                    cpu0, t0 = cpu_seconds(server.pid), time.monotonic()
                    run = load(url, body, conc, args.duration, folder)
                    cpu = cpu_seconds(server.pid) - cpu0
                    run["server_cpu_ms_per_request"] = 1e3 * cpu / (run["rps"] * args.duration)
                    run["server_cores_used"] = cpu / (time.monotonic() - t0)
                    results[name].append(run)
        finally:
            stop_server(server)

    def med(runs: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    s, b = results["single"], results["batch"]
    print(
        f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; load average before: {load_before:.2f}, after: "
        f"{os.getloadavg()[0]:.2f}; "
        f"client: {client}; server workers: {args.workers}; "
        f"{args.runs} runs x {args.duration} s (medians; all runs in --json)\n"
    )
    print(
        "| scenario | requests/s | customers/s | p50 ms | p99 ms | non-200 "
        "| server CPU ms/request | server cores used |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, runs, size in (
        (f"1 customer/request, {args.concurrency} concurrent", s, 1),
        (f"{args.batch:,} customers/request, {args.batch_concurrency} concurrent", b, args.batch),
    ):
        print(
            f"| {label} | {med(runs, 'rps'):,.1f} | {med(runs, 'rps') * size:,.0f} | "
            f"{med(runs, 'p50_ms'):.1f} | {med(runs, 'p99_ms'):.1f} | "
            f"{sum(r['errors'] for r in runs)} | {med(runs, 'server_cpu_ms_per_request'):.3f} | "
            f"{med(runs, 'server_cores_used'):.2f} |"
        )
    print("\nper run (single p99 ms):", ", ".join(f"{r['p99_ms']:.1f}" for r in s))
    print("per run (batch customers/s):", ", ".join(f"{r['rps'] * args.batch:,.0f}" for r in b))
    if args.json:
        args.json.write_text(
            json.dumps(
                {"client": client, "args": vars(args) | {"json": None}, "results": results},
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
