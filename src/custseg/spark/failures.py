"""When Spark fails: the stage it was in, the likely cause and the setting to change.

A Java process that runs out of memory, is killed or is lost shows up in Python as a Py4J error
("... does not exist in the JVM", "Answer from Java side is empty", connection refused) or as a
failed job whose text mentions ``OutOfMemoryError``. :func:`stage` turns those into a
:class:`SparkFailure` (exit code 2 in the CLI) that a marketing analyst can act on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from custseg.exceptions import CustsegError
from custseg.spark.session import is_local

# Text of a failure that means memory ran out, in the JVM or in a Spark task.
_OUT_OF_MEMORY = ("OutOfMemoryError", "Java heap space", "GC overhead limit exceeded")
# Text of a failure that means the Java process (or an executor) is gone.
_JVM_GONE = (
    "does not exist in the JVM",
    "Answer from Java side is empty",
    "Error while receiving",
    "Error while sending",
    "Connection refused",
    "Connection reset",
    "SparkContext was shut down",
    "SparkContext has been shutdown",
    "Cannot call methods on a stopped SparkContext",
    "ExecutorLostFailure",
    "Lost executor",
    "Python worker exited unexpectedly",
)


class SparkFailure(CustsegError, RuntimeError):
    """Spark stopped or failed during a stage of a run; the message says what to change."""

    def __init__(self, message: str, stage: str):
        self.stage = stage
        super().__init__(message)


def _is_py4j(exc: BaseException) -> bool:
    """Whether ``exc`` is one of Py4J's errors (the bridge to the JVM), by its class names:
    py4j comes with PySpark, and this module must not import it before a run needs Spark."""
    return any(cls.__name__ == "Py4JError" for cls in type(exc).__mro__)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def explain(
    exc: BaseException, stage: str, master: str | None, memory: str | None = None
) -> SparkFailure | None:
    """A :class:`SparkFailure` for ``exc`` raised during ``stage``, or ``None`` when ``exc`` is
    not a failure of Spark itself (a bad value, a missing file: those keep their own message)."""
    chain = list(_chain(exc))
    text = " ".join(str(e) for e in chain)
    current = memory
    memory_ran_out = any(m in text for m in _OUT_OF_MEMORY)
    gone = any(g in text for g in _JVM_GONE) or any(
        isinstance(e, ConnectionError | EOFError) for e in chain
    )
    py4j = any(_is_py4j(e) for e in chain)
    if not (memory_ran_out or gone or py4j):
        return None
    local = is_local(master)
    more = _double(current) if current else "8g"
    had = f"; it had {current}" if current else ""
    setting = (
        f"--spark-conf spark.driver.memory={more} (or more{had})"
        if local
        else f"--spark-conf spark.executor.memory={more} (or more{had}), or more executors"
    )
    where = "Spark's Java process" if local else "a Spark executor or the driver"
    if memory_ran_out:
        cause = f"{where} ran out of memory"
        fix = f"give it more memory with {setting}"
    elif gone:
        cause = (
            f"{where} stopped: most often it ran out of memory, or it was killed (by the "
            "system's out-of-memory killer or by a person) or lost its connection"
        )
        fix = f"if memory was short, give it more with {setting}; then run again"
    else:
        first = " ".join(str(exc).split())[:300]
        cause = f"Spark failed: {first}"
        fix = f"check the Spark settings; if memory was short, set {setting}"
    return SparkFailure(f"Spark stopped during {stage}: {cause}. To fix it, {fix}.", stage)


@contextmanager
def stage(name: str, spark: Any = None) -> Iterator[None]:
    """Run a stage of a Spark run (``reading``, ``features``, ``k search``, ``final fit``,
    ``profiles``, ``writing``); a failure of Spark itself becomes a :class:`SparkFailure`
    naming the stage. Errors custseg raises on purpose pass through unchanged."""
    settings = _settings(spark)  # read now: a JVM that dies takes its settings with it
    try:
        yield
    except (SparkFailure, KeyboardInterrupt):
        raise
    except CustsegError as exc:
        # e.g. "Spark could not read ...": keep it, unless a dead JVM lies behind it.
        cause = exc.__cause__
        failure = explain(cause, name, *settings) if cause is not None else None
        if failure is None or "Spark failed:" in str(failure):
            raise
        raise failure from exc
    except Exception as exc:
        failure = explain(exc, name, *settings)
        if failure is None:
            raise
        raise failure from exc


def _settings(spark: Any) -> tuple[str | None, str | None]:
    """The session's master and the memory the failing side had (driver when local, else
    executors), read without failing when the JVM is gone."""
    if spark is None:
        return None, None
    try:
        conf = spark.sparkContext.getConf()
        master = conf.get("spark.master")
        key = "spark.driver.memory" if is_local(master) else "spark.executor.memory"
        return master, conf.get(key)
    except Exception:  # the JVM is gone and took the settings with it
        return None, None


def _double(size: str) -> str:
    """Twice a Spark memory size (``512m`` -> ``1g``), or ``8g`` when it cannot be read."""
    match = re.fullmatch(r"\s*(\d+)\s*([kmgt]?)b?\s*", size.lower())
    if not match:
        return "8g"
    units = {"k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024, "": 1}
    mb = int(match[1]) * units[match[2]] * 2
    return f"{mb / 1024:g}g" if mb >= 1024 and mb % 1024 == 0 else f"{max(round(mb), 1)}m"
