"""The Spark session: PySpark imported on demand, a session started (or reused) for a run."""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from custseg.exceptions import ConfigError, require

LOCAL_SHUFFLE_PARTITIONS = "8"
# A local run's JVM heap when the user sets none: a quarter of the machine's memory leaves the
# rest to Python, the operating system and other programs; Spark's own default (1 GB) runs out
# of memory on a million rows.
DRIVER_MEMORY_SHARE = 0.25
DRIVER_MEMORY_MIN_MB = 1024
DRIVER_MEMORY_MAX_MB = 32 * 1024
AUTO_MEMORY_KEY = "spark.custseg.driverMemoryChosen"  # the note's text, for the run's notes


def pyspark() -> Any:
    """PySpark, or an error saying which extra installs it."""
    return require("pyspark", "spark")


@contextmanager
def quiet_pandas() -> Iterator[None]:
    """PySpark warns on every pandas conversion under pandas 3; the conversions used here work."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*PySpark does not yet fully support pandas")
        warnings.filterwarnings("ignore", category=FutureWarning, module="pyspark")
        yield


def active_session() -> Any:
    """The running Spark session, if any (``None`` without one)."""
    pyspark()
    from pyspark.sql import SparkSession  # an optional extra (custseg[spark])

    return SparkSession.getActiveSession()


def is_local(master: str | None) -> bool:
    """Whether ``master`` runs Spark on this machine (``None`` means ``local[*]``)."""
    return master is None or master.startswith("local")


def spark_session(master: str | None = None, conf: Mapping[str, str] | None = None) -> Any:
    """The active Spark session, or a new one on ``master`` (``local[*]`` when not given).

    ``conf`` adds Spark settings (``spark.executor.memory`` ...). Local sessions get a small
    number of shuffle partitions and no console progress bars.
    """
    pyspark()
    from pyspark.sql import SparkSession  # an optional extra (custseg[spark])

    active = SparkSession.getActiveSession()
    if active is not None and master is None and not conf:
        return active
    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        raise ConfigError(
            "Spark needs Java 17 or later and none was found (no java on PATH, JAVA_HOME "
            "unset); install it, e.g. apt-get install openjdk-17-jre-headless"
        )
    settings = {"spark.ui.showConsoleProgress": "false"}
    if is_local(master):
        settings["spark.sql.shuffle.partitions"] = LOCAL_SHUFFLE_PARTITIONS
        settings.update(driver_memory(conf or {}))
    settings.update(conf or {})
    builder = SparkSession.builder.appName("custseg")
    if master:
        builder = builder.master(master)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        with quiet_pandas():
            spark = builder.getOrCreate()
    except Exception as exc:
        text = " ".join(str(exc).split())[:300]
        raise ConfigError(
            f"Could not start Spark{f' on {master!r}' if master else ''}: {text}; check "
            "--spark-master and that Java 17+ is installed"
        ) from exc
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def machine_memory_mb() -> int | None:
    """This machine's memory in MB (or the container's limit, when lower); ``None`` if unknown."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not a POSIX system
        return None
    for limit in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return total // (1024 * 1024)


def driver_memory(conf: Mapping[str, str]) -> dict[str, str]:
    """``spark.driver.memory`` for a local session the user left unsized (a quarter of the
    machine's memory, 1 GB to 32 GB), with a note saying so; nothing when the user sized it or
    the JVM already runs (its heap is fixed when it starts)."""
    from pyspark import SparkContext  # an optional extra (custseg[spark])

    told = "spark.driver.memory" in conf or os.environ.get("SPARK_DRIVER_MEMORY")
    told = told or "driver-memory" in os.environ.get("PYSPARK_SUBMIT_ARGS", "")
    total = machine_memory_mb()
    if told or total is None or SparkContext._gateway is not None:
        return {}
    mb = int(min(max(total * DRIVER_MEMORY_SHARE, DRIVER_MEMORY_MIN_MB), DRIVER_MEMORY_MAX_MB))
    size = f"{mb // 1024}g" if mb % 1024 == 0 else f"{mb}m"
    note = (
        f"Spark's memory (spark.driver.memory) was set to {size}, a quarter of this machine's "
        f"{total / 1024:.0f} GB; set --spark-conf spark.driver.memory=... to choose another"
    )
    return {"spark.driver.memory": size, AUTO_MEMORY_KEY: note}


def memory_note(spark: Any) -> str | None:
    """The note of :func:`driver_memory`, when this session's memory was chosen by custseg."""
    try:
        return spark.sparkContext.getConf().get(AUTO_MEMORY_KEY)
    except Exception:  # a session whose JVM is gone has no settings to read
        return None


def stop_session(spark: Any) -> None:
    """Stop ``spark``; a session whose Java process already died stops without a second error."""
    try:
        spark.stop()
    except Exception:  # the JVM is gone: there is nothing left to stop
        from pyspark import SparkContext  # an optional extra (custseg[spark])

        # Forget the dead gateway so a later session in this process starts a fresh JVM.
        SparkContext._active_spark_context = None
        SparkContext._gateway = None
        SparkContext._jvm = None
