"""Read a transactions table into Arrow: any format :mod:`custseg.read` takes, plus headerless and
whitespace-aligned text files (order histories are often exported that way, e.g. CDNOW).

Ids stay text (``00042`` keeps its zeros). Sampling, encoding and delimiter sniffing are the
table reader's; only what headerless files need is added here.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from custseg.exceptions import SourceError
from custseg.read import SAMPLE_BYTES, Table, load, sniff_delimiter, text_sample
from custseg.read.compressed import decompressed
from custseg.rfm.columns import ROLES_ORDER, column_position, match_name, named_like
from custseg.text import error_text

# Missing-value markers of transaction exports; "-" is a common "no customer" placeholder.
_NULLS = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "none", "-"]
_NUMBER = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")
_DATE_TOKEN = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?:[T ].*)?$|^\d{8}$")
_HEADER_LINES = 200  # lines looked at to tell a header row from data


def read_transactions(
    source: str | Path | pd.DataFrame | pa.Table | Table,
    *,
    delimiter: str | None = None,
    encoding: str | None = None,
    columns: dict[str, str | None] | None = None,
    sheet: str | int | None = None,
) -> tuple[pa.Table, list[str]]:
    """Read a transactions table into Arrow, without guessing types for id-like columns.

    Parameters
    ----------
    source : path, DataFrame, pyarrow.Table or Table
        CSV/TSV/TXT (delimiter, encoding and header sniffed; whitespace-separated fixed-width
        files too), Parquet (file or folder), Excel or JSON lines, or a table in memory.
    delimiter, encoding : str, optional
        Override what sniffing finds for text files (``" "`` for whitespace-separated).
    columns : dict, optional
        Role -> column name as the user gave it (``customer``, ``date``, ``invoice``, ...); those
        columns are read as text so ids such as ``00042`` keep their zeros.
    sheet : str or int, optional
        The Excel sheet to read; the first by default.

    Returns
    -------
    (pyarrow.Table, notes)
        Headerless files get columns named by their recognised role (``customer``, ``date``,
        ``quantity``, ``amount``; others ``column_N``).
    """
    notes: list[str] = []
    if isinstance(source, pa.Table):
        return source, notes
    if isinstance(source, Table):
        source = source.frame
    if isinstance(source, pd.DataFrame):
        return arrow_from_pandas(source), notes
    path = Path(source)
    if not path.exists():
        raise SourceError(f"No such file or folder: '{path}'; check the path")
    with decompressed(path, notes) as plain:  # .csv.gz, .zip, ...: read as the table inside
        table = _read_file(plain, delimiter, encoding, columns or {}, notes, sheet)
    return table, notes


def _read_file(
    path: Path, delimiter, encoding, columns: dict, notes: list[str], sheet: str | int | None
) -> pa.Table:
    suffix = path.suffix.lower()
    if path.is_dir() or suffix in (".parquet", ".pq"):
        try:  # straight to Arrow: keeps dates and text ids as stored
            return pq.read_table(path)
        except Exception as exc:  # pyarrow raises its own family on damaged files
            raise SourceError(f"Could not read '{path}' as Parquet: {error_text(exc)}") from exc
    if suffix in (".xlsx", ".xlsm", ".xls", ".json", ".jsonl", ".ndjson"):
        table = load(path, sheet=sheet)
        notes.extend(table.notes)
        return arrow_from_pandas(table.frame)
    return _read_text(path, delimiter, encoding, columns, notes)


def arrow_from_pandas(frame: pd.DataFrame) -> pa.Table:
    """A DataFrame as Arrow, column by column (a column of mixed types becomes text)."""
    arrays, names = [], []
    for col in frame.columns:
        series = frame[col]
        try:
            arr = pa.array(series, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types, e.g. ints and strings
            arr = pa.array(series.astype("string"), from_pandas=True)
        arrays.append(arr)
        names.append(str(col))
    return pa.table(arrays, names=names)


def _read_text(path: Path, delimiter, encoding, columns: dict, notes: list[str]) -> pa.Table:
    raw, encoding = text_sample(path, encoding, if_empty="there are no transactions")
    text = raw.decode(encoding, errors="replace")
    lines = text.splitlines()
    if len(raw) == SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the sample may cut the last line
    lines = [ln for ln in lines if ln.strip()][:_HEADER_LINES]
    if delimiter is None:
        delimiter = transaction_delimiter(text, lines, path)
    whitespace = delimiter in (" ", r"\s+")
    rows = (
        [ln.split() for ln in lines] if whitespace else list(csv.reader(lines, delimiter=delimiter))
    )
    width = len(rows[0])
    body = [r for r in rows[1:] if len(r) == width]
    has_header = not body or any(
        not _looks_value(rows[0][i]) and all(_looks_value(r[i]) for r in body) for i in range(width)
    )
    if has_header:
        names = [t.strip().strip('"').strip() for t in rows[0]]
    else:
        names = _headerless_names(rows, columns)
        shown = ", ".join(f"{n}=column {i + 1}" for i, n in enumerate(names))
        notes.append(
            f"'{path.name}' has no header row; read its columns as {shown} (name others with "
            "--customer/--date/--amount/--quantity N, N being the column's position)"
        )
    as_text = _text_columns(names, columns)
    try:
        if whitespace:
            frame = pd.read_csv(
                path,
                sep=r"\s+",
                header=0 if has_header else None,
                names=None if has_header else names,
                dtype={c: str for c in as_text},
                encoding=encoding,
                na_values=_NULLS,
                keep_default_na=False,
                engine="c",
            )
            frame.columns = [str(c) for c in frame.columns]
            return arrow_from_pandas(frame)
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=None if has_header else names,
                encoding=encoding if encoding not in ("utf-8", "ascii") else "utf8",
            ),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in as_text},
                null_values=_NULLS,
                strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise SourceError(
            f"Could not parse '{path}' as a table of transactions ({error_text(exc)}); "
            "check that every line has the same number of fields"
        ) from exc


def transaction_delimiter(text: str, lines: list[str], path: Path) -> str:
    """The field separator of a transactions file: the table reader's guess, held to more.

    A headerless file's columns are found by position, so the separator must split every sampled
    line (``lines``, from the sample ``text``) into the same number of fields. Whitespace-aligned
    exports (CDNOW) are common among order histories, and the table reader does not take them.
    """
    if path.suffix.lower() == ".tsv":
        return "\t"  # sniffing could take thousands commas ("1,234.50") for the separator
    found = sniff_delimiter(text, default=",")
    if _one_width(csv.reader(lines, delimiter=found)):  # quote-aware: "SET OF 3, RED"
        return found
    if _one_width(ln.split() for ln in lines):
        return r"\s+"
    raise SourceError(
        f"Could not tell how the fields of '{path}' are separated (no consistent comma, tab, "
        "semicolon, bar or whitespace); export it as CSV"
    )


def _one_width(rows: Iterable[list[str]]) -> bool:
    """Whether every row has the same number of fields, more than one."""
    widths = {len(row) for row in rows}
    return len(widths) == 1 and widths.pop() > 1


def _looks_value(token: str) -> bool:
    token = token.strip().strip('"').strip()
    return bool(token) and bool(_NUMBER.match(token.replace(",", "")) or _DATE_TOKEN.match(token))


def _headerless_names(rows: list[list[str]], columns: dict) -> list[str]:
    """Name headerless columns by content: the date column, the customer (first other column),
    the amount (last numeric column) and a whole-number quantity column before it."""
    width = len(rows[0])
    cols = [[r[i] for r in rows if len(r) == width] for i in range(width)]
    names = [f"column_{i + 1}" for i in range(width)]
    positions = {role: column_position(columns.get(role), width) for role in ROLES_ORDER}
    taken = {p for p in positions.values() if p is not None}

    def free(i: int) -> bool:
        return i not in taken

    if positions["date"] is None:
        positions["date"] = next(
            (i for i in range(width) if free(i) and all(_DATE_TOKEN.match(v) for v in cols[i])),
            None,
        )
        taken.add(positions["date"])
    if positions["customer"] is None:
        positions["customer"] = next((i for i in range(width) if free(i)), None)
        taken.add(positions["customer"])
    numeric = [
        i for i in range(width) if free(i) and all(_NUMBER.match(v.strip()) for v in cols[i])
    ]
    if positions["amount"] is None and positions["price"] is None and numeric:
        positions["amount"] = numeric.pop()
    if positions["quantity"] is None and positions["price"] is None:
        whole = [i for i in numeric if all(re.fullmatch(r"[-+]?\d+", v) for v in cols[i])]
        if whole:
            positions["quantity"] = whole[-1]
    for role, i in positions.items():
        if i is not None:
            names[i] = role
    return names


def _text_columns(names: list[str], columns: dict) -> list[str]:
    """Columns to read as text: the customer, invoice and date columns (given or recognised)."""
    out = []
    for role in ("customer", "invoice", "date"):
        given = columns.get(role)
        col = match_name(given, names) if given else None
        if col is None:
            col = next((n for n in names if named_like(role, n)), None)
        if col is not None:
            out.append(col)
    return out
