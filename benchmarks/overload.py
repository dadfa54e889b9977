"""The scoring service under overload: 500 concurrent clients for 60 s, then SIGTERM mid-load.

    python benchmarks/overload.py [--clients 500] [--duration 60] [--seed 0]

Starts ``custseg serve`` (one worker, loopback, a bearer token, ``--max-body-bytes 262144``) on a
model of the built-in sample, then runs ``--clients`` asyncio httpx clients from this process for
``--duration`` seconds. Each request is drawn from a seeded mix: 55% one valid customer, 10% a
valid batch of 500, 15% invalid (a field missing, text for a number, NaN), 10% over the body
limit (300 kB), 10% without the token. Checked (issue 20):

- every response is 200, 401, 413 or 422: no 5xx, and no dropped connection;
- the server's resident memory (``/proc/PID/status`` VmRSS, sampled every 0.5 s): mean of the
  last 10 s against the first 10 s, growth under 10%;
- SIGTERM drains: 100 batch requests are sent, SIGTERM follows the first answer; how many of
  the others are still answered (200), how many are lost, and the server's exit code.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import numpy as np

from custseg import sample_customers, segment

TOKEN = "overload-benchmark-token-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def start(model: Path, port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-c", "from custseg.cli import main; main()", "serve", str(model)]
    cmd += ["--port", str(port), "--max-body-bytes", "262144"]
    proc = subprocess.Popen(
        cmd,
        env=os.environ | {"CUSTSEG_API_TOKEN": TOKEN},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited: {proc.stderr.read().decode()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    sys.exit("server did not start within 120 s")


def bodies(rows: list[dict]) -> dict[str, bytes]:
    one = rows[0]
    bad_missing = {k: v for k, v in one.items() if k != next(iter(one))}
    bad_text = dict(one) | {next(iter(one)): "forty"}
    big = json.dumps(rows * (300_000 // len(json.dumps(rows)) + 1)).encode()
    return {
        "single": json.dumps(one).encode(),
        "batch": json.dumps(rows[:500]).encode(),
        "missing": json.dumps(bad_missing).encode(),
        "text": json.dumps(bad_text).encode(),
        "nan": json.dumps(one).replace(str(list(one.values())[0]), "NaN", 1).encode(),
        "oversize": big,
    }


async def load(url: str, payload: dict, clients: int, duration: float, seed: int, pid: int):
    kinds = ["single", "batch", "missing", "text", "nan", "oversize", "no token"]
    weights = [0.55, 0.10, 0.05, 0.05, 0.05, 0.10, 0.10]
    rng = np.random.default_rng(seed)
    plan = rng.choice(len(kinds), size=2_000_000, p=weights)
    statuses: Counter = Counter()
    failures: Counter = Counter()
    memory: list[tuple[float, int]] = []
    auth = {"authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
    plain = {"content-type": "application/json"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    counter = iter(range(len(plan)))
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        start = time.monotonic()
        end = start + duration

        async def worker() -> None:
            while time.monotonic() < end:
                kind = kinds[plan[next(counter)]]
                body = payload["single" if kind == "no token" else kind]
                try:
                    r = await client.post(
                        url, content=body, headers=plain if kind == "no token" else auth
                    )
                    statuses[(kind, r.status_code)] += 1
                except httpx.HTTPError as exc:
                    failures[(kind, type(exc).__name__)] += 1

        async def sample() -> None:
            while time.monotonic() < end:
                memory.append((time.monotonic() - start, rss_kb(pid)))
                await asyncio.sleep(0.5)

        await asyncio.gather(sample(), *(worker() for _ in range(clients)))
    return statuses, failures, memory


async def drain(url: str, payload: dict, proc: subprocess.Popen) -> tuple[Counter, float]:
    """100 batch requests; SIGTERM as soon as the first is answered (the server is busy with the
    rest). Answered ones drained; the others were lost."""
    headers = {"authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
    results: Counter = Counter()
    first = asyncio.Event()
    async with httpx.AsyncClient(timeout=120) as client:

        async def one() -> None:
            try:
                r = await client.post(url, content=payload["batch"], headers=headers)
                results[r.status_code] += 1
                first.set()
            except httpx.ConnectError:
                results["refused before it reached the server"] += 1
            except httpx.HTTPError as exc:
                results[f"lost in flight ({type(exc).__name__})"] += 1

        tasks = [asyncio.create_task(one()) for _ in range(100)]
        await asyncio.wait_for(first.wait(), 60)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        await asyncio.gather(*tasks)
    exit_code = await asyncio.to_thread(proc.wait, 60)
    results[f"server exit code {exit_code}"] += 1
    return results, time.monotonic() - sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    data = sample_customers(2000, seed=args.seed)
    seg = segment(data, seed=0)
    with tempfile.TemporaryDirectory() as folder:
        model = seg.save(Path(folder) / "model.skops")
        rows = data[seg.features].astype(float).to_dict("records")
        port = free_port()
        proc = start(model, port)
        url = f"http://127.0.0.1:{port}/v1/assign"
        payload = bodies(rows)
        try:
            statuses, failures, memory = asyncio.run(
                load(url, payload, args.clients, args.duration, args.seed, proc.pid)
            )
            drained, exit_seconds = asyncio.run(drain(url, payload, proc))
        finally:
            if proc.poll() is None:
                proc.kill()
    total = sum(statuses.values())
    by_status = Counter()
    for (_, code), n in statuses.items():
        by_status[code] += n
    first = [kb for t, kb in memory if t <= 10]
    last = [kb for t, kb in memory if t >= args.duration - 10]
    growth = statistics.mean(last) / statistics.mean(first) - 1
    print(
        f"{args.clients} clients for {args.duration:.0f} s, seed {args.seed}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"requests answered: {total:,} ({total / args.duration:,.0f}/s); by status: "
        + ", ".join(f"{code}: {n:,}" for code, n in sorted(by_status.items()))
    )
    print("5xx:", sum(n for code, n in by_status.items() if code >= 500))
    print("by kind:", dict(sorted(statuses.items())))
    print("client-side failures (no response):", dict(failures) or 0)
    print(
        f"server memory: first 10 s {statistics.mean(first) / 1024:,.1f} MB, last 10 s "
        f"{statistics.mean(last) / 1024:,.1f} MB, growth {growth:+.1%}; peak "
        f"{max(kb for _, kb in memory) / 1024:,.1f} MB"
    )
    print(
        f"SIGTERM after the first of 100 batch requests was answered: {dict(drained)}; "
        f"exited {exit_seconds:.1f} s after the signal"
    )


if __name__ == "__main__":
    main()
