"""The Spark session: PySpark imported on demand, a session started (or reused) for a run."""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from custseg.exceptions import ConfigError, require

LOCAL_SHUFFLE_PARTITIONS = "8"


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
