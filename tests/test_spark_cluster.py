"""The Spark engine on a real standalone cluster, not ``local[...]``.

A master and one worker run as separate JVMs on loopback, started from the installed PySpark's
``bin/spark-class``. ``custseg run --engine spark`` is the driver (client mode); the worker
launches an executor JVM that does the work and writes the assignments. Local mode hides bugs
this catches: driver-only paths, closures that do not serialise, files only the driver can see.

Without Java or PySpark the module skips, and under CI it fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custseg import sample_customers

from .conftest import need

START_TIMEOUT = 180  # s, for the master to lead and the worker to register (on a busy machine)
RUN_TIMEOUT = 600  # s, for one custseg command
# Small, so the cluster fits next to other work: one 2-core, 512 MB executor on a 1 GB worker.
WORKER = ["--cores", "2", "--memory", "1g"]
SPARK_CONF = {
    "spark.executor.memory": "512m",
    "spark.executor.cores": "2",
    "spark.cores.max": "2",
    "spark.driver.memory": "512m",
    "spark.ui.enabled": "false",
    # The same partitioning as local[2], so both runs draw the same seeded samples.
    "spark.default.parallelism": "2",
    "spark.sql.shuffle.partitions": "2",
}


@dataclass
class Cluster:
    """A running standalone cluster: its master URL, logs and the worker's work folder."""

    url: str
    master_log: Path
    worker_log: Path
    work: Path
    env: dict[str, str]

    def app_ids(self) -> list[str]:
        return re.findall(r"Registered app \S+ with ID (app-\S+)", self.master_log.read_text())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spark_home() -> Path:
    from pyspark.find_spark_home import _find_spark_home

    return Path(_find_spark_home())


def java_found() -> bool:
    home = os.environ.get("JAVA_HOME")
    return bool(home and Path(home, "bin", "java").exists()) or shutil.which("java") is not None


def start_daemon(home: Path, main: str, args: list[str], log: Path, env) -> subprocess.Popen:
    """One Spark daemon JVM in its own process group (so stopping it stops its children)."""
    with open(log, "wb") as out:
        return subprocess.Popen(
            [str(home / "bin" / "spark-class"), f"org.apache.spark.deploy.{main}", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )


def wait_for(log: Path, text: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            pytest.fail(f"{log.name}: exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    pytest.fail(f"{log.name}: no {text!r} within {START_TIMEOUT}s:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    """A master and a worker on free loopback ports, stopped afterwards whatever happened."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        need("PySpark (pip install 'custseg[spark]')", False)
    need("Java 17+ for Spark (apt-get install openjdk-17-jre-headless)", java_found())
    home = spark_home()
    need(f"Spark's launcher at {home / 'bin' / 'spark-class'}", (home / "bin/spark-class").exists())
    folder = tmp_path_factory.mktemp("spark-cluster")
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_DAEMON_MEMORY": "256m",
        # No REST submission server: it would take the fixed port 6066.
        "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false",
    }
    port = free_port()
    url = f"spark://127.0.0.1:{port}"
    work = folder / "work"
    found = Cluster(url, folder / "master.log", folder / "worker.log", work, env)
    daemons: list[subprocess.Popen] = []
    try:
        master_args = ["--host", "127.0.0.1", "--port", str(port), "--webui-port"]
        daemons.append(
            start_daemon(
                home, "master.Master", [*master_args, str(free_port())], found.master_log, env
            )
        )
        wait_for(found.master_log, "I have been elected leader", daemons[0])
        worker_args = ["--host", "127.0.0.1", "--port", str(free_port()), "--webui-port"]
        worker_args += [str(free_port()), *WORKER, "--work-dir", str(work), url]
        daemons.append(start_daemon(home, "worker.Worker", worker_args, found.worker_log, env))
        wait_for(found.worker_log, "Successfully registered with master", daemons[1])
        yield found
    finally:
        for daemon in reversed(daemons):
            stop(daemon)


@pytest.fixture(scope="module")
def local_spark(cluster):
    """Spark in local mode in this process, for the reference runs (one JVM for both)."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from custseg.spark import spark_session

    session = spark_session("local[2]", SPARK_CONF)
    yield session
    session.stop()


def custseg(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "custseg", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=RUN_TIMEOUT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def cluster_run(cluster: Cluster, source: Path, out: Path, options: list[str]) -> pd.DataFrame:
    """``custseg run --engine spark`` on the cluster; the assignments it wrote, sorted by id."""
    conf = [arg for key, value in SPARK_CONF.items() for arg in ("--spark-conf", f"{key}={value}")]
    output = out / "segments.parquet"
    custseg(
        "run", str(source), "--engine", "spark", "--spark-master", cluster.url,
        "--spark-output", str(output), "-o", str(out), "-q", *conf, *options,
        env=cluster.env,
    )  # fmt: skip
    return pd.read_parquet(output).sort_values("CustomerID", ignore_index=True)


def local_run(spark, source: Path, out: Path, **options) -> pd.DataFrame:
    """The same segmentation by the engine in local mode; its assignments, sorted by id."""
    from custseg.spark import segment_spark

    seg = segment_spark(source, spark=spark, **options)
    try:
        seg.write_assignments(out / "segments.parquet")
    finally:
        seg.close()
    return pd.read_parquet(out / "segments.parquet").sort_values("CustomerID", ignore_index=True)


def check_on_the_cluster(
    cluster: Cluster, local_spark, source: Path, tmp_path: Path, cli: list[str], **options
) -> pd.DataFrame:
    """Run ``custseg run`` on the cluster with ``cli`` (``options`` in Python); every check the
    cluster run has to pass. Returns its assignments."""
    before = cluster.app_ids()
    took = {}
    started = time.monotonic()
    on_cluster = cluster_run(cluster, source, tmp_path / "cluster", cli)
    took["cluster"] = time.monotonic() - started

    # The master ran the application, and the worker launched an executor for it ...
    (app,) = [a for a in cluster.app_ids() if a not in before]
    assert "Registering app custseg" in cluster.master_log.read_text()
    worker_log = cluster.worker_log.read_text()
    assert re.search(rf"Asked to launch executor {app}/\d+ for custseg", worker_log), worker_log
    # ... which wrote the assignments (the driver only commits the job).
    executor_logs = "".join(p.read_text() for p in (cluster.work / app).glob("*/stderr"))
    assert "Running task" in executor_logs
    written = re.escape(f"to file:{tmp_path / 'cluster' / 'segments.parquet'}/")
    assert re.search(rf"Saved output of task .* {written}", executor_logs), executor_logs[-3000:]

    # The same assignments as the engine in local mode, row for row.
    started = time.monotonic()
    local = local_run(local_spark, source, tmp_path / "local", **options)
    took["local[2]"] = time.monotonic() - started
    pd.testing.assert_frame_equal(on_cluster, local)

    # custseg predict scores with the cluster's model, on a machine without Spark.
    scored_path = tmp_path / "scored.csv"
    model = tmp_path / "cluster" / "model.skops"
    started = time.monotonic()
    custseg("predict", str(model), str(source), "-o", str(scored_path), "-q", env=cluster.env)
    took["predict"] = time.monotonic() - started
    scored = pd.read_csv(scored_path, dtype={"CustomerID": str})
    scored = scored.sort_values("CustomerID", ignore_index=True)
    assert scored["CustomerID"].tolist() == on_cluster["CustomerID"].tolist()
    assert scored["segment"].tolist() == on_cluster["segment"].tolist()
    assert scored["segment_name"].tolist() == on_cluster["segment_name"].tolist()
    print(f"{source.name}: " + ", ".join(f"{k} {v:.1f} s" for k, v in took.items()))
    return on_cluster


def test_mall_customers_on_a_standalone_cluster(cluster, local_spark, mall_path, tmp_path):
    on_cluster = check_on_the_cluster(
        cluster, local_spark, mall_path, tmp_path,
        ["--k", "5", "--k-range", "4..5", "--n-init", "1"], k=5, k_range="4..5", n_init=1,
    )  # fmt: skip
    assert len(on_cluster) == 200 and on_cluster["CustomerID"].is_unique
    assert on_cluster["segment"].nunique() == 5


def test_a_larger_table_with_categories_and_gaps_on_a_standalone_cluster(
    cluster, local_spark, tmp_path
):
    """30,000 customers in a Parquet folder, one-hot Gender and Region, missing ages and
    incomes imputed, k compared on a sample (above 25,000 rows), then fitted on every row."""
    rng = np.random.default_rng(17)
    frame = sample_customers(30_000, seed=17)
    frame["Region"] = rng.choice(["North", "South", "East", "West"], len(frame))
    frame["Age"] = frame["Age"].astype(float)
    frame["Annual Income (k$)"] = frame["Annual Income (k$)"].astype(float)
    frame.loc[rng.random(len(frame)) < 0.02, "Age"] = np.nan
    frame.loc[rng.random(len(frame)) < 0.01, "Annual Income (k$)"] = np.nan
    lake = tmp_path / "customers"
    lake.mkdir()
    half = len(frame) // 2
    frame.iloc[:half].to_parquet(lake / "part-0.parquet", index=False)
    frame.iloc[half:].to_parquet(lake / "part-1.parquet", index=False)

    on_cluster = check_on_the_cluster(
        cluster, local_spark, lake, tmp_path,
        ["--one-hot", "Gender,Region", "--k-range", "4..5", "--n-init", "1"],
        one_hot="Gender,Region", k_range="4..5", n_init=1,
    )  # fmt: skip
    assert len(on_cluster) == 30_000 and on_cluster["segment"].notna().all()
    assert on_cluster["Age"].isna().sum() == frame["Age"].isna().sum() > 0
    assert any("compared k on a seeded sample" in note for note in summary_notes(tmp_path))


def summary_notes(tmp_path: Path) -> list[str]:
    return json.loads((tmp_path / "cluster" / "summary.json").read_text())["notes"]
