"""SQL sources and write-back through SQLAlchemy: PostgreSQL (psycopg), SQLite and DuckDB files.

Reading: a database URL (``postgresql://user@host/db``, ``sqlite:///customers.db``,
``duckdb:///lake.duckdb``) or a ``.db``/``.sqlite``/``.duckdb`` file, plus a table name or a query;
rows arrive in chunks (a server-side cursor on PostgreSQL). Credentials come from the URL,
``CUSTSEG_DB_PASSWORD`` (the password alone) or ``CUSTSEG_DB_URL`` (the whole URL), and never appear
in messages, ``Table.source``, reports or model files: the password is shown as ``***``.

Writing: :func:`write_segments` writes a frame into a table in one transaction, so a failure
leaves the previous table exactly as it was; it refuses to write into the table it read from.
"""

from __future__ import annotations

import difflib
import os
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np
import pandas as pd

from custseg.exceptions import ConfigError, OutputExistsError, SourceError, require
from custseg.read.roles import recognise_roles
from custseg.read.table import Table
from custseg.read.validation import check_columns

URL_ENV = "CUSTSEG_DB_URL"
PASSWORD_ENV = "CUSTSEG_DB_PASSWORD"
READ_CHUNK_ROWS = 50_000
WRITE_CHUNK_ROWS = 10_000
IF_EXISTS = ("fail", "replace", "append")
SEGMENT_COLUMNS = ("customer_id", "segment_id", "segment_name", "run_id", "run_at")

_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://")
# URL schemes that name files or object stores, not databases.
_NOT_DATABASES = {"file", "http", "https", "ftp", "s3", "s3a", "s3n", "gs", "hdfs", "abfs", "abfss"}
_FILE_KINDS = {".sqlite": "sqlite", ".sqlite3": "sqlite", ".duckdb": "duckdb", ".ddb": "duckdb"}
_PASSWORD_IN_URL = re.compile(r"(?P<head>://[^:/?#@]*:)(?P<secret>[^@/?#]*)(?P<at>@)")
_PASSWORD_IN_QUERY = re.compile(r"(?P<head>[?&](?:password|pwd)=)(?P<secret>[^&#]*)", re.I)


# ---------------------------------------------------------------- recognising sources


def is_database_url(source: object) -> bool:
    """Whether ``source`` is a string like ``dialect[+driver]://...`` naming a database."""
    if not isinstance(source, str):
        return False
    match = _URL.match(source.strip())
    return bool(match) and match["scheme"].split("+")[0].lower() not in _NOT_DATABASES


def database_file_kind(path: str | Path) -> str | None:
    """``"sqlite"`` or ``"duckdb"`` for a database file (by suffix, then by its header)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (*_FILE_KINDS, ".db"):
        return None
    if path.is_file():
        with open(path, "rb") as fh:
            head = fh.read(16)
        if head.startswith(b"SQLite format 3\x00"):
            return "sqlite"
        if head[8:12] == b"DUCK":
            return "duckdb"
    return _FILE_KINDS.get(suffix, "sqlite")


def database_url(source: str | Path | None) -> str:
    """The SQLAlchemy URL for a URL, a database file, or ``None`` (``CUSTSEG_DB_URL``)."""
    if source is None:
        url = os.environ.get(URL_ENV, "").strip()
        if not url:
            raise ConfigError(
                f"No database given: pass a URL such as postgresql://user@host/db before --table "
                f"or --query, or set {URL_ENV}"
            )
        return url
    if is_database_url(source):
        return str(source).strip()
    kind = database_file_kind(source)
    if kind is None:
        raise ConfigError(
            f"{str(source)!r} is neither a database URL (postgresql://user@host/db, "
            "sqlite:///file.db, duckdb:///file.duckdb) nor a .db/.sqlite/.duckdb file"
        )
    path = Path(source)
    if not path.is_file():
        raise SourceError(f"No such database file: '{path}'; check the path")
    return f"{kind}:///{path.resolve()}"


def mask_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (safe to print and store)."""
    text = _PASSWORD_IN_URL.sub(r"\g<head>***\g<at>", str(url))
    return _PASSWORD_IN_QUERY.sub(r"\g<head>***", text)


def _secrets(url: str) -> list[str]:
    found = [m["secret"] for m in _PASSWORD_IN_URL.finditer(url)]
    found += [m["secret"] for m in _PASSWORD_IN_QUERY.finditer(url)]
    if os.environ.get(PASSWORD_ENV):
        found.append(os.environ[PASSWORD_ENV])
    return [s for s in found if s and s != "***"]


def _scrub(text: str, url: str) -> str:
    """A driver's message without the URL's password (decoded or not)."""
    for secret in _secrets(url):
        for form in {secret, unquote(secret)}:
            text = text.replace(form, "***")
    return text


def _short(exc: BaseException, url: str) -> str:
    if isinstance(exc, pd.errors.DatabaseError) and exc.__cause__ is not None:
        exc = exc.__cause__  # pandas wraps the SQLAlchemy error
    text = str(getattr(exc, "orig", None) or exc).strip()
    text = re.sub(r"\s*\(Background on this error at: [^)]*\)", "", text)
    line = " ".join(text.split())[:300] or type(exc).__name__
    return _scrub(line, url)


# ---------------------------------------------------------------- connecting


def _sqlalchemy():
    return require("sqlalchemy", "sql")


def create_engine(url: str, *, must_exist: bool = True):
    """A SQLAlchemy engine for ``url``: psycopg for PostgreSQL, password from the environment
    when the URL has none, and transactional DDL on SQLite."""
    sa = _sqlalchemy()
    try:
        parsed = sa.engine.make_url(url)
    except Exception as exc:  # ArgumentError, ValueError on a malformed port, ...
        raise ConfigError(f"Malformed database URL {mask_url(url)!r}: {_short(exc, url)}") from exc
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.username and parsed.password is None and os.environ.get(PASSWORD_ENV):
        parsed = parsed.set(password=os.environ[PASSWORD_ENV])
    backend = parsed.get_backend_name()
    if backend in ("sqlite", "duckdb") and must_exist:
        database = parsed.database or ""
        if database not in ("", ":memory:") and not Path(database).is_file():
            raise SourceError(f"No such database file: '{database}'; check the path in the URL")
    if backend == "postgresql":
        require("psycopg", "sql")
    if backend == "duckdb":
        require("duckdb_engine", "sql")
    try:
        engine = sa.create_engine(parsed, poolclass=sa.pool.NullPool)
    except ImportError as exc:
        raise SourceError(
            f"No driver for {parsed.drivername!r} ({exc}); PostgreSQL, SQLite and DuckDB are "
            "supported out of the box with pip install 'custseg[sql]'"
        ) from exc
    except Exception as exc:
        raise ConfigError(f"Cannot use database URL {mask_url(url)!r}: {_short(exc, url)}") from exc
    if backend == "sqlite":
        _transactional_sqlite(engine)
    return engine


def _transactional_sqlite(engine) -> None:
    """Let BEGIN cover DDL too (pysqlite would commit a DROP TABLE on its own)."""
    from sqlalchemy import event  # optional extra: custseg[sql]

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN")


def _split_name(name: str) -> tuple[str | None, str]:
    """``"schema.table"`` -> ``("schema", "table")``; quotes around parts are removed."""
    parts = [p.strip().strip('"`') for p in re.split(r"\.(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", name)]
    if not name.strip() or len(parts) > 2 or not all(parts):
        raise ConfigError(f"Table name {name!r} must look like 'customers' or 'schema.customers'")
    return (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])


def list_tables(url: str) -> list[str]:
    """Table and view names in the database's default schema."""
    sa = _sqlalchemy()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            return sorted({*inspector.get_table_names(), *inspector.get_view_names()})
    except sa.exc.SQLAlchemyError as exc:
        raise SourceError(f"Could not list tables in {mask_url(url)}: {_short(exc, url)}") from exc
    finally:
        engine.dispose()


def _no_table_message(name: str, tables: Sequence[str], url: str) -> str:
    close = difflib.get_close_matches(name, tables, n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
    shown = ", ".join(map(repr, tables[:30])) + (", ..." if len(tables) > 30 else "")
    return f"--table: there is no table {name!r} in {mask_url(url)}.{hint} " + (
        f"The tables are: {shown}" if tables else "The database has no tables."
    )


# ---------------------------------------------------------------- reading


def read_sql(
    url: str,
    *,
    table: str | None = None,
    query: str | None = None,
    chunksize: int = READ_CHUNK_ROWS,
) -> pd.DataFrame:
    """Read a whole table or a query's result, ``chunksize`` rows at a time.

    Parameters
    ----------
    url : str
        SQLAlchemy database URL (the password may come from ``CUSTSEG_DB_PASSWORD``).
    table : str, optional
        Table (or view) name, ``schema.table`` allowed; quoted safely.
    query : str, optional
        A ``SELECT`` statement; exactly one of ``table`` and ``query`` is required.
    chunksize : int
        Rows fetched per round trip (a server-side cursor where the driver has one).
    """
    sa = _sqlalchemy()
    if (table is None) == (query is None):
        raise ConfigError("Pass exactly one of --table and --query to read from a database")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if table is not None:
                schema, name = _split_name(table)
                inspector = sa.inspect(conn)
                if not (
                    inspector.has_table(name, schema=schema)
                    or name in inspector.get_view_names(schema=schema)
                ):
                    names = inspector.get_table_names(schema=schema)
                    names += inspector.get_view_names(schema=schema)
                    raise SourceError(_no_table_message(table, sorted(names), url))
                # A lightweight table clause: the name is quoted, nothing is reflected.
                statement = sa.select(sa.text("*")).select_from(sa.table(name, schema=schema))
            else:
                statement = sa.text(query)
            stream = conn.execution_options(stream_results=True, max_row_buffer=chunksize)
            chunks = list(pd.read_sql_query(statement, stream, chunksize=chunksize))
    except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as exc:
        what = f"table {table!r}" if table is not None else "the query"
        raise SourceError(
            f"Could not read {what} from {mask_url(url)}: {_short(exc, url)}"
        ) from exc
    finally:
        engine.dispose()
    if not chunks:
        return pd.DataFrame()
    return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]


def source_name(url: str, *, table: str | None = None, query: str | None = None) -> str:
    """How a database source is shown in messages and reports (password masked)."""
    masked = mask_url(url)
    return f"{masked} table {table}" if table is not None else f"{masked} (query)"


def load_sql(
    source: str | Path | None,
    *,
    table: str | None = None,
    query: str | None = None,
    id_column: str | None = None,
    chunksize: int = READ_CHUNK_ROWS,
) -> Table:
    """Read a database table or query into a :class:`~custseg.read.Table` (roles recognised).

    ``source`` is a URL, a ``.db``/``.sqlite``/``.duckdb`` file, or ``None`` for
    ``CUSTSEG_DB_URL``. ``Table.source`` shows the URL with its password masked.
    """
    url = database_url(source)
    if table is None and query is None:
        tables = list_tables(url)
        shown = ", ".join(map(repr, tables[:30])) or "none"
        raise ConfigError(
            f"{mask_url(url)} is a database: name the rows with --table or --query "
            f"(its tables: {shown})"
        )
    frame = read_sql(url, table=table, query=query, chunksize=chunksize)
    name = source_name(url, table=table, query=query)
    if frame.shape[1] == 0 and query is not None:
        raise SourceError(f"The query on {mask_url(url)} returned no columns; use a SELECT")
    check_columns(frame, name)
    notes: list[str] = []
    roles = recognise_roles(frame, id_column=id_column, notes=notes)
    return Table(frame=frame, roles=roles, source=name, first_line=None, notes=notes)


# ---------------------------------------------------------------- writing


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
    sa = _sqlalchemy()
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
    sa = _sqlalchemy()
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
    schema, name = _split_name(table)
    if source_table is not None:
        src_schema, src_name = _split_name(source_table)
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
    sa = _sqlalchemy()
    if if_exists not in IF_EXISTS:
        raise ConfigError(f"--if-exists must be one of {', '.join(IF_EXISTS)}, not {if_exists!r}")
    schema, name = _check_target(table, source_table)
    engine = create_engine(url, must_exist=False)
    try:
        with engine.connect() as conn:
            exists = sa.inspect(conn).has_table(name, schema=schema)
    except sa.exc.SQLAlchemyError as exc:
        raise SourceError(f"Could not connect to {mask_url(url)}: {_short(exc, url)}") from exc
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
    sa = _sqlalchemy()
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
            f"Could not write table {table!r} in {mask_url(url)}: {_short(exc, url)}; the write "
            "was rolled back and the table is unchanged"
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
    return f"{mask_url(url)} table {table}: {n} rows, run {run_id}"
