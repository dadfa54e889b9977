"""``load``: one entry point for every source, files or databases, returning a :class:`Table`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from custseg.read.compressed import decompressed
from custseg.read.files import read_path, release_arrow_memory
from custseg.read.roles import recognise_roles
from custseg.read.sql import database_file_kind, is_database_url, load_sql
from custseg.read.table import Table
from custseg.read.validation import check_columns


def load(
    source: str | Path | pd.DataFrame,
    *,
    id_column: str | None = None,
    sheet: str | int | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    table: str | None = None,
    query: str | None = None,
    header_row: int | None = None,
) -> Table:
    """Read a customer table from a file, a database or a DataFrame and recognise column roles.

    Parameters
    ----------
    source : path, database URL or DataFrame
        CSV/TSV/TXT (delimiter, encoding and BOM sniffed), Parquet (file or folder), Excel
        (.xlsx), JSON lines (.jsonl/.ndjson/.json), any of these compressed (``.gz``, ``.zst``,
        ``.bz2``, ``.xz``, or a ``.zip`` holding one table), a pandas DataFrame (never modified),
        or a database: a URL (``postgresql://user@host/db``, ``sqlite:///f.db``, ``duckdb:///f.duckdb``)
        or a .db/.sqlite/.duckdb file, with ``table`` or ``query`` (see :mod:`custseg.read.sql`).
    id_column : str, optional
        Name of the customer id column, or ``"none"`` when the table has none.
    sheet : str or int, optional
        Excel sheet; the first sheet by default.
    delimiter, encoding : str, optional
        Override what sniffing finds for text files.
    table, query : str, optional
        For a database source: the table to read, or a SELECT statement.
    header_row : int, optional
        Row (1 for the first) holding the column names in a CSV or Excel file; by default title
        rows above the column names are found and skipped, with a note.
    """
    if not isinstance(source, pd.DataFrame) and (
        table is not None
        or query is not None
        or is_database_url(source)
        or database_file_kind(source) is not None
    ):
        return load_sql(source, table=table, query=query, id_column=id_column)
    notes: list[str] = []
    first_line: int | None = None
    if isinstance(source, pd.DataFrame):
        frame = source
        if not all(isinstance(c, str) for c in frame.columns):
            frame = frame.rename(columns=str)
        name = "DataFrame"
    else:
        path = Path(source)
        name = str(path)
        with decompressed(path, notes) as plain:  # .csv.gz, .zip, ...: read as the table inside
            frame, first_line = read_path(plain, sheet, delimiter, encoding, notes, header_row)
    check_columns(frame, name)
    roles = recognise_roles(frame, id_column=id_column, notes=notes)
    release_arrow_memory()
    return Table(frame=frame, roles=roles, source=name, first_line=first_line, notes=notes)
