"""Write segments back to a database table through SQLAlchemy, in one transaction.

:func:`write_segments` writes a frame into a table so that a failure leaves the previous table
exactly as it was, and refuses to write into the table the customers were read from.
:func:`write_target` and :func:`write_back` are the steps the CLI's ``--write-table`` takes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from custseg.exceptions import ConfigError, OutputExistsError, SourceError
from custseg.read.sql import (
    connection_lost,
    create_engine,
    database_file_kind,
    database_url,
    is_database_url,
    mask_url,
    short_error,
    split_name,
    sqlalchemy_module,
)
from custseg.text import plural

WRITE_CHUNK_ROWS = 10_000
IF_EXISTS = ("fail", "replace", "append")
SEGMENT_COLUMNS = ("customer_id", "segment_id", "segment_name", "run_id", "run_at")


def new_run_id(created: datetime | None = None) -> str:
    """A readable, sortable, unique run id: ``20250101T120000Z-3fa9c1``."""
    when = (created or datetime.now(UTC)).astimezone(UTC)
    return f"{when:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def segment_rows(
    frame: pd.DataFrame,
    *,
    id_column: str,
    run_id: str,
    run_at: datetime | str,
    segment: str = "segment",
    name: str = "segment_name",
) -> pd.DataFrame:
    """The rows write-back stores: customer id, segment id and name, run id and time.

    Parameters
    ----------
    frame : DataFrame
        Assigned rows, e.g. ``Segmentation.assignments()`` or ``SegmentModel.assign(...)``.
    id_column : str
        The customer id column of ``frame``.
    run_id : str
        Identifies the run (see :func:`new_run_id`); the same for every row.
    run_at : datetime or ISO string
        When the segmentation was made (stored in UTC).
    segment, name : str
        The columns holding the segment id and name.
    """
    if id_column is None or id_column not in frame.columns:
        raise ConfigError(
            "Writing segments back needs a customer id column; name it with --id-column"
        )
    when = pd.Timestamp(run_at)
    when = when.tz_localize("UTC") if when.tzinfo is None else when.tz_convert("UTC")
    ids = frame[id_column]
    out = pd.DataFrame(
        {
            "customer_id": ids.to_numpy(),
            "segment_id": pd.array(frame[segment], dtype="Int64"),
            "segment_name": frame[name].astype("object").where(frame[name].notna(), None),
            "run_id": run_id,
            "run_at": when,
        }
    )
    if out["customer_id"].isna().any():
        raise ConfigError(
            f"Id column {id_column!r} has missing ids; every written row needs a customer id"
        )
    return out


def _column_type(series: pd.Series):
    sa = sqlalchemy_module()
    if pd.api.types.is_bool_dtype(series):
        return sa.Boolean()
    if pd.api.types.is_integer_dtype(series):
        return sa.BigInteger()
    if pd.api.types.is_float_dtype(series):
        return sa.Float(53)
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return sa.DateTime(timezone=True)
    if pd.api.types.is_datetime64_any_dtype(series):
        return sa.DateTime()
    return sa.Text()


def _records(chunk: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of plain Python values (see :func:`_tuples`)."""
    names = [str(c) for c in chunk.columns]
    return [dict(zip(names, row, strict=True)) for row in _tuples(chunk)]


def _tuples(chunk: pd.DataFrame) -> list[tuple]:
    """Plain Python values (drivers do not all adapt numpy scalars), ``None`` for missing."""
    columns = {}
    for col in chunk.columns:
        series = chunk[col]
        if pd.api.types.is_datetime64_any_dtype(series):
            values = [None if pd.isna(v) else v.to_pydatetime() for v in series]
        elif pd.api.types.is_bool_dtype(series):
            values = [None if pd.isna(v) else bool(v) for v in series]
        else:
            values = [None if _missing(v) else _plain(v) for v in series.to_numpy(dtype=object)]
        columns[col] = values
    return list(zip(*columns.values(), strict=True))


def _missing(value) -> bool:
    return (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and np.isnan(value))
    )


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _driver_errors(engine) -> tuple[type[BaseException], ...]:
    """The DB-API driver's own error class (raised by COPY and DuckDB's frame inserts)."""
    error = getattr(getattr(engine.dialect, "dbapi", None), "Error", None)
    return (error,) if isinstance(error, type) and issubclass(error, BaseException) else ()


def _insert_chunk(conn, table, chunk: pd.DataFrame) -> None:
    """Insert one chunk (a separate function so tests can make a write fail midway)."""
    sa = sqlalchemy_module()
    if conn.dialect.name == "duckdb":  # row-by-row inserts crawl there: insert from the frame
        view = f"_custseg_chunk_{uuid.uuid4().hex[:8]}"
        raw = conn.connection.driver_connection
        conn.exec_driver_sql("SELECT 1").fetchall()  # settles any pending result on the connection
        raw.register(view, chunk)
        try:
            columns = [sa.column(str(c)) for c in chunk.columns]
            select = sa.select(*columns).select_from(sa.table(view))
            conn.execute(table.insert().from_select([str(c) for c in chunk.columns], select))
        finally:
            raw.unregister(view)
        return
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":  # COPY: ~10x faster
        quote = conn.dialect.identifier_preparer
        names = ", ".join(quote.quote(str(c)) for c in chunk.columns)
        statement = f"COPY {quote.format_table(table)} ({names}) FROM STDIN"
        with conn.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in _tuples(chunk):
                copy.write_row(row)
        return
    conn.execute(table.insert(), _records(chunk))


def _check_target(table: str, source_table: str | None) -> tuple[str | None, str]:
    schema, name = split_name(table)
    if source_table is not None:
        src_schema, src_name = split_name(source_table)
        # Without a schema a name may mean any schema: refuse rather than risk the source.
        same_schema = not schema or not src_schema or schema.lower() == src_schema.lower()
        if name.lower() == src_name.lower() and same_schema:
            raise ConfigError(
                f"--write-table {table!r} is the table the customers were read from; custseg "
                "never modifies its source, so write to another table (e.g. customer_segments)"
            )
    return schema, name


def check_writable(
    url: str, table: str, *, if_exists: str = "fail", source_table: str | None = None
) -> None:
    """Fail early (before a long run) when :func:`write_segments` would refuse to write."""
    sa = sqlalchemy_module()
    if if_exists not in IF_EXISTS:
        raise ConfigError(f"--if-exists must be one of {', '.join(IF_EXISTS)}, not {if_exists!r}")
    schema, name = _check_target(table, source_table)
    engine = create_engine(url, must_exist=False)
    try:
        with engine.connect() as conn:
            exists = sa.inspect(conn).has_table(name, schema=schema)
    except sa.exc.SQLAlchemyError as exc:
        raise SourceError(f"Could not connect to {mask_url(url)}: {short_error(exc, url)}") from exc
    finally:
        engine.dispose()
    if exists and if_exists == "fail":
        raise OutputExistsError(_exists_message(table, url))


def _exists_message(table: str, url: str) -> str:
    return (
        f"Table {table!r} already exists in {mask_url(url)}; pass --if-exists replace to "
        "replace it or --if-exists append to add this run's rows"
    )


def write_segments(
    url: str,
    table: str,
    frame: pd.DataFrame,
    *,
    if_exists: str = "fail",
    chunksize: int = WRITE_CHUNK_ROWS,
    key: Sequence[str] | None = None,
    source_table: str | None = None,
) -> int:
    """Write ``frame`` into ``table`` in one transaction; return the number of rows written.

    A failure at any point (a dropped connection, a constraint violated in the last chunk) rolls
    the whole write back: the previous table, if any, is left exactly as it was.

    Parameters
    ----------
    url : str
        SQLAlchemy database URL (password from the URL or ``CUSTSEG_DB_PASSWORD``).
    table : str
        Target table, ``schema.table`` allowed.
    frame : DataFrame
        The rows, usually from :func:`segment_rows`.
    if_exists : {"fail", "replace", "append"}
        What to do when the table exists: refuse, drop and recreate it, or add rows to it.
    chunksize : int
        Rows per INSERT batch.
    key : list of str, optional
        Primary key columns of a newly created table; by default ``(run_id, customer_id)`` when
        the frame has them.
    source_table : str, optional
        The table the customers were read from; writing into it is refused.
    """
    sa = sqlalchemy_module()
    if if_exists not in IF_EXISTS:
        raise ConfigError(f"--if-exists must be one of {', '.join(IF_EXISTS)}, not {if_exists!r}")
    schema, name = _check_target(table, source_table)
    if key is None and {"run_id", "customer_id"} <= set(frame.columns):
        key = ("run_id", "customer_id")
    columns = [
        sa.Column(str(col), _column_type(frame[col]), nullable=col not in (key or ()))
        for col in frame.columns
    ]
    constraints = [sa.PrimaryKeyConstraint(*key)] if key else []
    target = sa.Table(name, sa.MetaData(), *columns, *constraints, schema=schema)
    engine = create_engine(url, must_exist=False)
    try:
        with engine.begin() as conn:  # commits at the end, rolls back on any exception
            exists = sa.inspect(conn).has_table(name, schema=schema)
            if exists and if_exists == "fail":
                raise OutputExistsError(_exists_message(table, url))
            if exists and if_exists == "replace":
                target.drop(conn)
            if not exists or if_exists == "replace":
                target.create(conn)
            for start in range(0, len(frame), chunksize):
                _insert_chunk(conn, target, frame.iloc[start : start + chunksize])
    except (sa.exc.SQLAlchemyError, *_driver_errors(engine)) as exc:
        raise SourceError(
            f"Could not write table {table!r} in {mask_url(url)}: {short_error(exc, url)}; the "
            "write was rolled back and the table is unchanged"
            + (
                " (the connection to the database was lost: check that it is up, then run again)"
                if connection_lost(exc)
                else ""
            )
        ) from exc
    finally:
        engine.dispose()
    return len(frame)


# ---------------------------------------------------------------- the CLI's write-back


def write_target(
    source: str | None,
    *,
    table: str | None,
    query: str | None,
    write_table: str | None,
    if_exists: str = "fail",
    write_url: str | None = None,
    spark: bool = False,
) -> str | None:
    """The database URL ``--write-table`` writes to, checked before the run; ``None`` when there
    is nothing to write. The source database is the default target."""
    if if_exists not in IF_EXISTS:
        raise ConfigError(f"--if-exists must be one of {', '.join(IF_EXISTS)}, not {if_exists!r}")
    if write_table is None:
        return None
    if spark:
        raise ConfigError(
            "--write-table is not available with --engine spark; Spark writes every row's segment "
            "as Parquet (--spark-output), which the warehouse can load"
        )
    from_db = (table is not None or query is not None) and (
        source is None or is_database_url(source) or database_file_kind(source) is not None
    )
    if write_url is None and not from_db:
        raise ConfigError(
            "--write-table writes into the source database and this source is not one; name "
            "the database to write to with --write-url"
        )
    url = database_url(write_url if write_url is not None else source)
    check_writable(url, write_table, if_exists=if_exists, source_table=table)
    return url


def write_back(
    assigned: pd.DataFrame,
    url: str,
    table: str,
    *,
    id_column: str | None,
    created: datetime | str,
    if_exists: str = "fail",
    source_table: str | None = None,
) -> str:
    """Write assigned rows' segments (see :func:`segment_rows`) in one transaction; return what
    was written, for the terminal (password masked)."""
    when = pd.Timestamp(created).to_pydatetime()
    run_id = new_run_id(when)
    rows = segment_rows(assigned, id_column=id_column, run_id=run_id, run_at=when)
    n = write_segments(url, table, rows, if_exists=if_exists, source_table=source_table)
    return f"{mask_url(url)} table {table}: {plural(n, 'row')}, run {run_id}"
