"""Reading for Spark: Parquet, CSV, JSON lines and ORC files or folders (local or any Hadoop
URI), Spark tables, Spark SQL queries, and in-memory frames."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from custseg.datasets import sample_customers
from custseg.exceptions import ConfigError, CustsegError, SourceError
from custseg.read import Table, role_from_name, sniff_delimiter
from custseg.read.sql import check_select, is_database_url
from custseg.spark.session import quiet_pandas

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_TABLE_NAME = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*){0,2}$")
_FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet"}
_FORMATS |= {".json": "json", ".jsonl": "json", ".ndjson": "json", ".orc": "orc"}


def read_source(
    spark: Any, source: Any = None, *, table: str | None = None, query: str | None = None
) -> tuple[Any, str]:
    """A Spark DataFrame and its display name from a path/URI, a Spark table, a Spark SQL query,
    a pandas DataFrame, a :class:`~custseg.read.Table`, or ``None`` (the built-in sample)."""
    if query is not None:
        check_select(query)  # spark.sql runs INSERT or DROP on the catalog as readily as SELECT
        return _spark_call(lambda: spark.sql(query), "the Spark SQL query"), "Spark SQL query"
    if table is not None:
        return _read_table(spark, table), f"Spark table {table}"
    if source is None:
        source = sample_customers()
    if isinstance(source, Table):
        source = source.frame
    if isinstance(source, pd.DataFrame):
        with quiet_pandas():
            return spark.createDataFrame(source), "DataFrame"
    text = str(source)
    if is_database_url(text):
        raise ConfigError(
            "--engine spark reads Parquet/CSV files and Spark tables, not database URLs; read the "
            "database with the single-machine engine, or register it as a Spark (JDBC) table"
        )
    remote = bool(_SCHEME.match(text)) and not text.startswith("file:")
    if not remote:
        path = Path(text.removeprefix("file://").removeprefix("file:"))
        if not path.exists():
            if _TABLE_NAME.match(text) and _table_exists(spark, text):
                return _read_table(spark, text), f"Spark table {text}"
            raise SourceError(f"No such file, folder or Spark table: {text!r}; check the path")
        fmt = _local_format(path)
    else:
        fmt = _FORMATS.get(Path(text.rstrip("/")).suffix.lower(), "parquet")
    return _spark_call(lambda: _read_files(spark, text, fmt), f"'{text}' as {fmt}"), text


def _spark_call(read: Callable[[], Any], what: str) -> Any:
    try:
        return read()
    except CustsegError:
        raise
    except Exception as exc:  # AnalysisException and friends
        text = " ".join(str(exc).split())[:300]
        raise SourceError(f"Spark could not read {what}: {text}") from exc


def _table_exists(spark: Any, name: str) -> bool:
    try:
        return bool(spark.catalog.tableExists(name))
    except Exception:
        return False


def _read_table(spark: Any, name: str) -> Any:
    if not _table_exists(spark, name):
        raise SourceError(f"There is no Spark table {name!r}; check the name (db.table)")
    return spark.table(name)


def _local_format(path: Path) -> str:
    if path.is_file():
        fmt = _FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise SourceError(
                f"'{path}': --engine spark reads Parquet, CSV, JSON lines and ORC; convert "
                f"{path.suffix or 'this file'} or use the single-machine engine"
            )
        return fmt
    found = {
        _FORMATS[p.suffix.lower()]
        for p in path.rglob("*")
        if p.is_file() and p.suffix.lower() in _FORMATS and not p.name.startswith(("_", "."))
    }
    if len(found) != 1:
        what = "no data files" if not found else f"mixed formats ({', '.join(sorted(found))})"
        raise SourceError(f"Folder '{path}' holds {what}; point at Parquet or CSV files")
    return found.pop()


def _read_files(spark: Any, path: str, fmt: str) -> Any:
    if fmt != "csv":
        return spark.read.format(fmt).load(path)
    delimiter = ","
    local = Path(path.removeprefix("file://").removeprefix("file:"))
    first = local if local.is_file() else next(iter(sorted(local.rglob("*.[ct]sv"))), None)
    if first is not None and first.exists():
        with open(first, encoding="utf-8", errors="replace") as fh:
            delimiter = sniff_delimiter(fh.read(1 << 16), default=",")
    options = {"header": "true", "sep": delimiter, "ignoreLeadingWhiteSpace": "true"}
    inferred = spark.read.options(inferSchema="true", **options).csv(path)
    # Ids and genders stay text, as the single-machine reader keeps them ("0001" stays "0001").
    from pyspark.sql import types as T  # an optional extra (custseg[spark])

    fields = [
        T.StructField(f.name, T.StringType(), True)
        if role_from_name(f.name) in ("id", "gender")
        else f
        for f in inferred.schema.fields
    ]
    return spark.read.options(**options).schema(T.StructType(fields)).csv(path)
