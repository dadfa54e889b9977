"""When Spark's Java process runs out of memory or dies: exit code 2, the stage, the cause and the
setting to change; and the default memory a local run chooses.

Each failure runs in its own process, so it gets a JVM of its own (a JVM's heap is fixed when it
starts, and a killed one cannot serve the other tests).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from custseg import sample_customers

from .conftest import need

ROOT = Path(__file__).resolve().parents[1]


def _java() -> bool:
    home = os.environ.get("JAVA_HOME")
    return bool(home and Path(home, "bin", "java").exists()) or shutil.which("java") is not None


def _needs_spark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        need("PySpark (pip install 'custseg[spark]')", False)
    need("Java 17+ for Spark (apt-get install openjdk-17-jre-headless)", _java())


def _env() -> dict[str, str]:
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    env.pop("CUSTSEG_DEBUG", None)
    return env


def test_out_of_memory_exits_2_naming_stage_cause_and_setting(tmp_path):
    """A 128 MB heap (Spark's start-up check bypassed with its testing setting) runs out of
    memory in Spark: one clear error line, exit code 2, no traceback.

    Spark's memory pages are set larger than the heap, so the first aggregation fails at once
    instead of after minutes of garbage collection.
    """
    _needs_spark()
    data = tmp_path / "customers.csv"
    sample_customers(20_000, seed=1).to_csv(data, index=False)
    out = tmp_path / "out"
    cmd = [
        sys.executable, "-m", "custseg", "run", str(data), "--engine", "spark",
        "--spark-master", "local[1]", "--spark-conf", "spark.driver.memory=128m",
        "--spark-conf", "spark.testing.memory=2147483648", "--spark-conf", "spark.ui.enabled=false",
        "--spark-conf", "spark.buffer.pageSize=256m",
        "--out", str(out), "--quiet",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=900)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 2, text[-3000:]
    error = next(line for line in proc.stderr.splitlines() if line.startswith("error:"))
    assert "Spark stopped during " in error
    stage = error.split("Spark stopped during ")[1].split(":")[0]
    assert stage in {"reading", "features", "k search", "final fit", "profiles", "writing"}
    assert "ran out of memory" in error
    assert "--spark-conf spark.driver.memory=256m" in error  # twice what it had
    assert "Py4J" not in error and "please report it" not in text
    assert "Traceback" not in text
    assert not out.exists() or not any(out.iterdir())  # nothing half-written


KILLED = """
    import os
    from custseg.spark import SparkFailure, segment_spark, spark_session, stop_session
    from custseg.spark.session import memory_note

    spark = spark_session("local[1]", {"spark.ui.enabled": "false"})
    print("NOTE", memory_note(spark))
    spark.sparkContext._gateway.proc.kill()  # the JVM, killed as the system's OOM killer would
    spark.sparkContext._gateway.proc.wait()
    try:
        segment_spark(None, spark=spark)
    except SparkFailure as exc:
        print("FAILURE", exc.stage, "|", exc)
    stop_session(spark)  # must not raise a second error
    print("STOPPED")
"""


def test_a_killed_jvm_names_the_stage_and_stops_quietly(tmp_path):
    _needs_spark()
    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent(KILLED))
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=_env(), timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    failure = next(line for line in lines if line.startswith("FAILURE"))
    assert failure.startswith("FAILURE reading | Spark stopped during reading: ")
    assert "killed" in failure and "spark.driver.memory=" in failure
    assert lines[-1] == "STOPPED"
    # A local session the user did not size gets a share of the machine's memory, said in a note.
    note = next(line for line in lines if line.startswith("NOTE"))
    assert "spark.driver.memory) was set to" in note and "a quarter of this machine" in note


def test_driver_memory_is_left_alone_when_set_or_running(monkeypatch):
    _needs_spark()
    from pyspark import SparkContext

    from custseg.spark.session import DRIVER_MEMORY_MIN_MB, driver_memory, machine_memory_mb

    monkeypatch.setattr(SparkContext, "_gateway", None)  # as before any JVM started
    monkeypatch.delenv("SPARK_DRIVER_MEMORY", raising=False)
    monkeypatch.delenv("PYSPARK_SUBMIT_ARGS", raising=False)
    chosen = driver_memory({})
    total = machine_memory_mb()
    size = chosen["spark.driver.memory"]
    mb = int(size[:-1]) * (1024 if size.endswith("g") else 1)
    assert max(DRIVER_MEMORY_MIN_MB, total // 4 - 1) <= mb <= max(DRIVER_MEMORY_MIN_MB, total // 4)
    assert driver_memory({"spark.driver.memory": "2g"}) == {}
    monkeypatch.setenv("SPARK_DRIVER_MEMORY", "3g")
    assert driver_memory({}) == {}


@pytest.mark.parametrize(
    ("message", "local", "expected"),
    [
        ("java.lang.OutOfMemoryError: Java heap space", True, "ran out of memory"),
        ("Answer from Java side is empty", True, "was killed"),
        ("ExecutorLostFailure (executor 3 exited)", False, "spark.executor.memory=8g"),
    ],
)
def test_failures_are_explained_in_plain_words(message, local, expected):
    from custseg.spark.failures import explain

    failure = explain(RuntimeError(message), "profiles", "local[2]" if local else "yarn")
    assert failure is not None and expected in str(failure)
    assert str(failure).startswith("Spark stopped during profiles: ")
    assert explain(ValueError("not a number"), "reading", "local[2]") is None
