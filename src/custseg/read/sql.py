"""SQL sources through SQLAlchemy: PostgreSQL (psycopg), SQLite and DuckDB files.

Reading: a database URL (``postgresql://user@host/db``, ``sqlite:///customers.db``,
``duckdb:///lake.duckdb``) or a ``.db``/``.sqlite``/``.duckdb`` file, plus a table name or a query;
rows arrive in chunks (a server-side cursor on PostgreSQL). Reading never writes: a query that is
not a single ``SELECT`` (or ``WITH ... SELECT``) is refused before it runs (:func:`check_select`),
and the connection itself is read-only where the database has such a mode (PostgreSQL
``SET TRANSACTION READ ONLY``, SQLite ``mode=ro``, DuckDB ``read_only``). Credentials come from
the URL, ``CUSTSEG_DB_PASSWORD`` (the password alone) or ``CUSTSEG_DB_URL`` (the whole URL), and
never appear in messages, ``Table.source``, reports or model files: the password shows as ``***``.

Writing segments back to a database is :mod:`custseg.outputs.writeback`; it uses the connection
helpers here.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote

import pandas as pd

from custseg.exceptions import ConfigError, SourceError, require
from custseg.read.roles import recognise_roles
from custseg.read.table import Table
from custseg.read.validation import check_columns

URL_ENV = "CUSTSEG_DB_URL"
PASSWORD_ENV = "CUSTSEG_DB_PASSWORD"
READ_CHUNK_ROWS = 50_000

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


def short_error(exc: BaseException, url: str) -> str:
    """A driver's error as one short line, without the URL's password."""
    if isinstance(exc, pd.errors.DatabaseError) and exc.__cause__ is not None:
        exc = exc.__cause__  # pandas wraps the SQLAlchemy error
    text = str(getattr(exc, "orig", None) or exc).strip()
    text = re.sub(r"\s*\(Background on this error at: [^)]*\)", "", text)
    line = " ".join(text.split())[:300] or type(exc).__name__
    return _scrub(line, url)


def connection_lost(exc: BaseException) -> bool:
    """Whether a driver error means the connection went away (server restart, killed backend)."""
    if isinstance(exc, pd.errors.DatabaseError) and exc.__cause__ is not None:
        exc = exc.__cause__
    return bool(getattr(exc, "connection_invalidated", False))


# ---------------------------------------------------------------- connecting


def sqlalchemy_module():
    """SQLAlchemy, or a :class:`MissingDependencyError` naming ``pip install 'custseg[sql]'``."""
    return require("sqlalchemy", "sql")


def create_engine(url: str, *, must_exist: bool = True, read_only: bool = False):
    """A SQLAlchemy engine for ``url``: psycopg for PostgreSQL, password from the environment
    when the URL has none, and transactional DDL on SQLite.

    ``read_only`` opens SQLite files with ``mode=ro`` and DuckDB files with ``read_only``
    (PostgreSQL's read-only transaction is set per connection by :func:`read_sql`).
    """
    sa = sqlalchemy_module()
    try:
        parsed = sa.engine.make_url(url)
    except Exception as exc:  # ArgumentError, ValueError on a malformed port, ...
        raise ConfigError(
            f"Malformed database URL {mask_url(url)!r}: {short_error(exc, url)}"
        ) from exc
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
    connect_args = {}
    if read_only and backend == "sqlite" and parsed.database not in (None, "", ":memory:"):
        # SQLite's own guarantee: the file is opened read-only, whatever the statement does.
        database = Path(parsed.database).resolve().as_uri().removeprefix("file://")
        parsed = parsed.set(database=f"file:{database}", query={"mode": "ro", "uri": "true"})
    elif read_only and backend == "duckdb" and parsed.database not in (None, "", ":memory:"):
        connect_args["read_only"] = True
    try:
        engine = sa.create_engine(parsed, poolclass=sa.pool.NullPool, connect_args=connect_args)
    except ImportError as exc:
        raise SourceError(
            f"No driver for {parsed.drivername!r} ({exc}); PostgreSQL, SQLite and DuckDB are "
            "supported out of the box with pip install 'custseg[sql]'"
        ) from exc
    except Exception as exc:
        raise ConfigError(
            f"Cannot use database URL {mask_url(url)!r}: {short_error(exc, url)}"
        ) from exc
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


def split_name(name: str) -> tuple[str | None, str]:
    """``"schema.table"`` -> ``("schema", "table")``; quotes around parts are removed."""
    parts = [p.strip().strip('"`') for p in re.split(r"\.(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", name)]
    if not name.strip() or len(parts) > 2 or not all(parts):
        raise ConfigError(f"Table name {name!r} must look like 'customers' or 'schema.customers'")
    return (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])


def list_tables(url: str) -> list[str]:
    """Table and view names in the database's default schema."""
    sa = sqlalchemy_module()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            return sorted({*inspector.get_table_names(), *inspector.get_view_names()})
    except sa.exc.SQLAlchemyError as exc:
        raise SourceError(
            f"Could not list tables in {mask_url(url)}: {short_error(exc, url)}"
        ) from exc
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

# Words that make a statement that starts with SELECT or WITH write (``WITH d AS (DELETE ...)``,
# ``SELECT ... INTO``, ``FOR UPDATE``). Other statements are refused by their first word.
_WRITES = {"insert", "update", "delete", "merge", "into", "drop", "create", "alter", "grant"}
_QUOTED = re.compile(
    r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|\[[^\]]*\]|\$(\w*)\$.*?\$\1\$", re.S
)
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)


def check_select(query: str) -> None:
    """Refuse a ``--query`` that is not one ``SELECT`` (or ``WITH ... SELECT``), before it runs.

    The check is on the statement's words outside quotes and comments: it must start with
    ``SELECT``, ``WITH``, ``VALUES`` or ``(`` and hold no second statement and no word that
    writes (``INSERT``, ``DELETE``, ``SELECT ... INTO``, ``FOR UPDATE``, ...). The connection is
    read-only as well (see the module doc), so a statement this check misses still cannot write.
    """
    bare = _COMMENT.sub(" ", _QUOTED.sub(" '' ", query)).strip()
    words = re.findall(r"[A-Za-z_]+", bare.lower())
    statements = [part for part in bare.split(";") if part.strip()]
    found = next((w for w in words if w in _WRITES), None)
    if len(statements) > 1:
        problem = "it holds more than one statement"
    elif not words and not bare.startswith("("):
        problem = "it is empty"
    elif not (bare.startswith("(") or words[0] in ("select", "with", "values")):
        problem = f"it starts with {words[0].upper()!r}"
    elif found is not None:
        problem = f"it contains {found.upper()!r}"
    else:
        return
    raise ConfigError(
        f"--query must be a single SELECT statement, and {problem}: custseg only reads from a "
        "database. Write the query as SELECT ... FROM ... (WITH ... SELECT is fine), or name a "
        "table with --table"
    )


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
    sa = sqlalchemy_module()
    if (table is None) == (query is None):
        raise ConfigError("Pass exactly one of --table and --query to read from a database")
    if query is not None:
        check_select(query)
    engine = create_engine(url, read_only=True)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":  # first statement of the transaction
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            if table is not None:
                schema, name = split_name(table)
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
        lost = (
            "; the connection to the database was lost while reading, and none of the rows read "
            "so far were used: check that the database is up, then run again"
            if connection_lost(exc)
            else ""
        )
        raise SourceError(
            f"Could not read {what} from {mask_url(url)}: {short_error(exc, url)}{lost}"
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
