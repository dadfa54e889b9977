"""RFM: recency, frequency and monetary value per customer, computed from raw transactions.

``rfm_features`` turns an order history (one row per transaction or order line) into one row per
customer; ``segment_rfm`` then runs the ordinary segmentation on that table, names the segments in
RFM language and adds the classic quintile RFM scores for comparison.

The rules for messy data (all counted in the report that ``rfm_features`` returns):

- A row is a *return* when its invoice number starts with ``C`` (a cancellation), or its quantity
  or amount is negative. ``returns="net"`` (default) subtracts its amount, as ``-|amount|``, from
  the customer's monetary value; a return is not a purchase, so it never counts towards frequency,
  recency or tenure. ``returns="exclude"`` drops return rows altogether.
- Rows without a customer id (empty or blank), without a date, or without an amount are dropped.
- Rows dated after ``as_of`` are ignored.
- Rows with an amount of 0 are purchases (free items, promotions): they count as orders.
- Customers with only returns (no purchase) are dropped. Customers whose returns exceed their
  purchases get a monetary value of 0.
- Without an invoice column, frequency counts distinct purchase days. Rows with an empty invoice
  number count as one order per customer and day.
- Dates: ``YYYYMMDD`` (text or integer), ISO ``YYYY-MM-DD`` or ``YYYY/MM/DD``, ``mm/dd/yyyy`` or,
  with ``dayfirst=True``, ``dd/mm/yyyy`` (``/``, ``.`` or ``-``); a time of day is ignored.
"""

from __future__ import annotations

import csv
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date as Date
from datetime import timedelta
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from custseg.exceptions import ConfigError, DataError, SourceError
from custseg.read import SAMPLE_BYTES, Table, normalise_name, text_sample, unknown_column
from custseg.segmentation import Progress, Segmentation, segment
from custseg.text import error_text

RETURNS = ("net", "exclude")
FEATURES = ("recency", "frequency", "monetary", "tenure", "avg_order_value")
DEFAULT_FEATURES = ("recency", "frequency", "monetary")
LOG_FEATURES = ("frequency", "monetary", "avg_order_value")  # right-skewed by nature
FEATURE_ROLES = {
    "recency": "recency",
    "frequency": "frequency",
    "monetary": "monetary",
    "tenure": "tenure",
    "avg_order_value": "order_value",
}
RFM_FILENAME = "rfm_features.csv"
EPOCH = Date(1970, 1, 1)

# Column names recognised automatically (on io.normalise_name: lower-case words).
_ID = r"(?:\s?(?:id|no|nr|num|number|key|code|identifier))?"
COLUMN_PATTERNS: dict[str, re.Pattern[str]] = {
    "customer": re.compile(
        rf"^(?:customer|cust|client|member|user|account|shopper|buyer|consumer){_ID}$"
    ),
    "invoice": re.compile(
        rf"^(?:invoice|order|transaction|trans|txn|receipt|basket|bill|ticket){_ID}$"
    ),
    "date": re.compile(
        r"^(?:(?:invoice|order|transaction|purchase|sale|sales|txn|trans)\s)?"
        r"(?:date|day|datetime|date time|timestamp|time)$"
    ),
    "quantity": re.compile(r"^(?:quantity|qty|units?|items?|n items|number of items|cds|count)$"),
    "price": re.compile(r"^(?:(?:unit|item)\s?)?price(?:\s(?:each|per unit))?$|^unit cost$"),
    "amount": re.compile(
        r"^(?:(?:total|net|gross|line|order|sale|sales|invoice|transaction|purchase|dollar)\s)?"
        r"(?:amount|amt|value|sales|revenue|spend|spent|monetary|total|price total|"
        r"total price|payment|dollars?)$"
    ),
}
ROLES_ORDER = ("customer", "date", "amount", "quantity", "price", "invoice")
_NULLS = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "none", "-"]

# R x F score grid of the classic RFM segments (rows: R 1..5, columns: F 1..5).
_HIB, _RISK, _LOSE = "Hibernating", "At risk", "Can't lose them"
_SLEEP, _ATTN, _LOYAL = "About to sleep", "Need attention", "Loyal"
_PROM, _POT, _NEW, _CHAMP = "Promising", "Potential loyalists", "New", "Champions"
RF_GRID = (
    (_HIB, _HIB, _RISK, _RISK, _LOSE),
    (_HIB, _HIB, _RISK, _RISK, _LOSE),
    (_SLEEP, _SLEEP, _ATTN, _LOYAL, _LOYAL),
    (_PROM, _POT, _POT, _LOYAL, _LOYAL),
    (_NEW, _POT, _POT, _CHAMP, _CHAMP),
)


# ---------------------------------------------------------------- reading


def read_transactions(
    source: str | Path | pd.DataFrame | pa.Table | Table,
    *,
    delimiter: str | None = None,
    encoding: str | None = None,
    columns: dict[str, str | None] | None = None,
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
        return _arrow_from_pandas(source), notes
    path = Path(source)
    if not path.exists():
        raise SourceError(f"No such file or folder: '{path}'; check the path")
    suffix = path.suffix.lower()
    if path.is_dir() or suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        try:
            return pq.read_table(path), notes
        except Exception as exc:  # pyarrow raises its own family on damaged files
            raise SourceError(f"Could not read '{path}' as Parquet: {error_text(exc)}") from exc
    if suffix in (".xlsx", ".xlsm", ".xls", ".json", ".jsonl", ".ndjson"):
        from custseg.read import load

        table = load(path)
        return _arrow_from_pandas(table.frame), notes + table.notes
    return _read_text(path, delimiter, encoding, columns or {}, notes), notes


def _arrow_from_pandas(frame: pd.DataFrame) -> pa.Table:
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


_NUMBER = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")
_DATE_TOKEN = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?:[T ].*)?$|^\d{8}$")


def _looks_value(token: str) -> bool:
    token = token.strip().strip('"').strip()
    return bool(token) and bool(_NUMBER.match(token.replace(",", "")) or _DATE_TOKEN.match(token))


def _read_text(path: Path, delimiter, encoding, columns: dict, notes: list[str]) -> pa.Table:
    raw, encoding = text_sample(path, encoding, if_empty="there are no transactions")
    lines = raw.decode(encoding, errors="replace").splitlines()
    if len(raw) == SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the sample may cut the last line
    lines = [ln for ln in lines if ln.strip()][:200]
    if delimiter is None:
        delimiter = sniff_delimiter(lines, path)
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
            return _arrow_from_pandas(frame)
        from pyarrow import csv as pacsv

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


def sniff_delimiter(lines: list[str], path: Path) -> str:
    if path.suffix.lower() == ".tsv":
        return "\t"
    for cand in (",", "\t", ";", "|"):  # quote-aware: "SET OF 3, RED" is one field
        widths = {len(row) for row in csv.reader(lines, delimiter=cand)}
        if len(widths) == 1 and widths.pop() > 1:
            return cand
    widths = {len(ln.split()) for ln in lines}
    if len(widths) == 1 and widths.pop() > 1:
        return r"\s+"
    raise SourceError(
        f"Could not tell how the fields of '{path}' are separated (no consistent comma, tab, "
        "semicolon, bar or whitespace); export it as CSV"
    )


def _headerless_names(rows: list[list[str]], columns: dict) -> list[str]:
    """Name headerless columns by content: the date column, the customer (first other column),
    the amount (last numeric column) and a whole-number quantity column before it."""
    width = len(rows[0])
    cols = [[r[i] for r in rows if len(r) == width] for i in range(width)]
    names = [f"column_{i + 1}" for i in range(width)]
    positions = {role: _position(columns.get(role), width) for role in ROLES_ORDER}
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


def _position(value: str | None, width: int) -> int | None:
    if value is None:
        return None
    text = value.strip().lower().removeprefix("column_").removeprefix("column ")
    if text.isdigit() and 1 <= int(text) <= width:
        return int(text) - 1
    return None


def _text_columns(names: list[str], columns: dict) -> list[str]:
    """Columns to read as text: the customer, invoice and date columns (given or recognised)."""
    out = []
    for role in ("customer", "invoice", "date"):
        given = columns.get(role)
        col = _match_name(given, names) if given else None
        if col is None:
            col = next(
                (n for n in names if n == role or COLUMN_PATTERNS[role].match(normalise_name(n))),
                None,
            )
        if col is not None:
            out.append(col)
    return out


def _match_name(name: str, names: Sequence[str]) -> str | None:
    if name in names:
        return name
    norm = normalise_name(name)
    by_norm = {normalise_name(n): n for n in names}
    if norm in by_norm:
        return by_norm[norm]
    pos = _position(name, len(names))
    return names[pos] if pos is not None else None


# ---------------------------------------------------------------- columns


@dataclass(frozen=True)
class TransactionColumns:
    """Which column of the transactions plays which part."""

    customer: str
    date: str
    amount: str | None = None
    quantity: str | None = None
    price: str | None = None
    invoice: str | None = None

    def describe(self) -> str:
        return ", ".join(
            f"{role}={getattr(self, role)!r}" for role in ROLES_ORDER if getattr(self, role)
        )


def recognise_columns(
    names: Sequence[str],
    *,
    customer: str | None = None,
    date: str | None = None,
    amount: str | None = None,
    quantity: str | None = None,
    price: str | None = None,
    invoice: str | None = None,
) -> TransactionColumns:
    """Map the given column names (or positions ``1..n``) and recognise the rest by name.

    Raises
    ------
    ConfigError
        When a given column does not exist, or the customer, date or amount (or quantity and
        price) cannot be found; the message lists the columns.
    """
    names = [str(n) for n in names]
    given = {
        "customer": customer,
        "date": date,
        "amount": amount,
        "quantity": quantity,
        "price": price,
        "invoice": invoice,
    }
    found: dict[str, str | None] = {}
    problems = []
    for role, name in given.items():
        if name is None:
            continue
        col = _match_name(name, names)
        if col is None:
            problems.append(unknown_column(f"--{role}", name, names))
        found[role] = col
    if problems:
        raise ConfigError("\n".join(problems))
    used = {c for c in found.values() if c}
    for role in ROLES_ORDER:
        if role in found:
            continue
        col = next(
            (
                n
                for n in names
                if n not in used and (n == role or COLUMN_PATTERNS[role].match(normalise_name(n)))
            ),
            None,
        )
        found[role] = col
        if col:
            used.add(col)
    if found["amount"] and found["price"] and given["amount"] is None and given["price"]:
        found["amount"] = None  # --price given: the amount is quantity x price
    if found["amount"] and found["price"] and given["price"] is None:
        found["price"] = None  # an amount column wins over a recognised unit price
    missing = []
    if not found["customer"]:
        missing.append("the customer id (--customer COL)")
    if not found["date"]:
        missing.append("the purchase date (--date COL)")
    if not found["amount"] and not (found["quantity"] and found["price"]):
        if found["price"]:
            missing.append("the quantity to multiply the unit price by (--quantity COL)")
        else:
            missing.append("the amount spent (--amount COL, or --quantity COL --price COL)")
    if missing:
        shown = ", ".join(map(repr, names[:30])) + (", ..." if len(names) > 30 else "")
        raise ConfigError(
            f"Could not find {' and '.join(missing)} among the columns {shown}; name them "
            "with the options shown"
        )
    return TransactionColumns(**found)


# ---------------------------------------------------------------- values


def _combined(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    if pa.types.is_dictionary(col.type):
        col = col.dictionary_decode()
    return col


def _to_text(arr: pa.Array) -> pa.Array:
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        if pa.types.is_floating(arr.type):
            arr = _integral_floats(arr)
        arr = pc.cast(arr, pa.string())
    arr = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr)


def _integral_floats(arr: pa.Array) -> pa.Array:
    """Floats that are whole numbers (ids read as float because of gaps) as integers."""
    values = arr.to_numpy(zero_copy_only=False)
    finite = np.isfinite(values)
    whole = values[finite]
    if len(whole) and np.all(whole == np.round(whole)) and np.abs(whole).max() < 2**62:
        return pa.array(np.where(finite, values, 0).astype(np.int64), mask=~finite)
    return arr


def factorize(arr: pa.Array, *, text: bool = True) -> tuple[np.ndarray, pa.Array]:
    """Codes (``-1`` where missing) and distinct values of a column, cleaned once per value.

    Text is trimmed and blanks count as missing; whole floats (ids read as float because of gaps)
    become integers. Cleaning the distinct values only keeps this fast on millions of rows.
    """
    if pa.types.is_floating(arr.type):
        arr = _integral_floats(arr)
    encoded = pc.dictionary_encode(arr)
    values = encoded.dictionary
    if text and (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        # " A" and "A" are one customer, and so are "17850.0" and "17850" (float exports).
        tidy = pc.replace_substring_regex(_to_text(values), r"^([+-]?\d+)\.0+$", r"\1")
        clean = pc.dictionary_encode(tidy)
        indices = clean.indices.take(encoded.indices)
        values = clean.dictionary
    else:
        indices = encoded.indices
    codes = pc.fill_null(indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, values


def to_numbers(arr: pa.Array, column: str) -> np.ndarray:
    """A column as float numbers (missing -> NaN); text that is not a number is an error."""
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
        return arr.to_numpy(zero_copy_only=False).astype(float)
    if pa.types.is_boolean(arr.type) or pa.types.is_decimal(arr.type):
        return pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
    text = _to_text(arr)
    # Currency signs and thousands separators are common in exports: "$1,234.50".
    clean = pc.replace_substring_regex(text, r"[\s$€£¥_]", "")
    clean = pc.replace_substring_regex(clean, r",(\d{3})\b", r"\1")
    try:
        return pc.cast(clean, pa.float64()).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:
        values = pd.to_numeric(pd.Series(clean.to_numpy(zero_copy_only=False)), errors="coerce")
        bad = values.isna().to_numpy() & ~np.asarray(pc.is_null(clean))
        positions = np.flatnonzero(bad)
        raw = text.to_pylist() if len(text) < 1000 else None
        examples = ", ".join(
            f"{(raw[p] if raw else text[int(p)].as_py())!r} in row {p + 1}" for p in positions[:3]
        )
        raise DataError(
            f"Column {column!r} has {len(positions):,} values that are not numbers (e.g. "
            f"{examples}); clean them or point the option at another column"
        ) from None


_WITH_TIME = r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{8})[T ].*$"
_ISO = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$")
_COMPACT = re.compile(r"^\d{8}$")
_SLASHED = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})$")


def parse_dates(
    arr: pa.Array, *, dayfirst: bool = False, column: str = "date", notes: list[str] | None = None
) -> np.ndarray:
    """Dates as day numbers (days since 1970-01-01, float with NaN where missing).

    Accepts date/timestamp columns, ``YYYYMMDD`` integers or text, ISO ``YYYY-MM-DD``, and
    ``mm/dd/yyyy`` (``dd/mm/yyyy`` with ``dayfirst``); a time of day after the date is ignored.
    Raises :class:`DataError` on values that are not dates, naming examples.
    """
    notes = notes if notes is not None else []
    if pa.types.is_timestamp(arr.type) or pa.types.is_date(arr.type):
        if pa.types.is_timestamp(arr.type) and arr.type.tz is not None:
            arr = pc.local_timestamp(arr)
        days = pc.cast(pc.cast(arr, pa.date32()), pa.int32())
        return days.to_numpy(zero_copy_only=False).astype(float)
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
        values = arr.to_numpy(zero_copy_only=False).astype(float)
        finite = values[np.isfinite(values)]
        if len(finite) and not (
            np.all(finite == np.round(finite))
            and finite.min() >= 1000_01_01
            and finite.max() <= 9999_12_31
        ):
            example = finite[(finite < 1000_01_01) | (finite != np.round(finite))][:1]
            raise DataError(
                f"Column {column!r} holds numbers (e.g. {example.tolist() or finite[:1].tolist()})"
                " that are not dates written as YYYYMMDD; point --date at the date column"
            )
        arr = pc.cast(pa.array(values, mask=~np.isfinite(values)), pa.int64())
    codes, uniques = factorize(arr)
    # Keep the date part only: "2010-12-01 08:26:00", "2010-12-01T08:26", "12/1/2010 8:26".
    uniques = pc.replace_substring_regex(_to_text(uniques), _WITH_TIME, r"\1")
    parsed = _parse_unique_dates(
        np.asarray(uniques.to_pylist(), dtype=object), dayfirst=dayfirst, column=column, notes=notes
    )
    out = np.full(len(codes), np.nan)
    valid = codes >= 0
    out[valid] = parsed[codes[valid]]
    return out


def _parse_unique_dates(uniques: np.ndarray, *, dayfirst: bool, column: str, notes) -> np.ndarray:
    out = np.full(len(uniques), np.nan)
    values = pd.Series(uniques, dtype="string")
    iso = values.str.match(_ISO).fillna(False).to_numpy()
    compact = values.str.match(_COMPACT).fillna(False).to_numpy()
    parts = values.str.extract(_SLASHED)
    slashed = parts[0].notna().to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if iso.any():
            iso_text = values[iso].str.replace(r"[/.]", "-", regex=True)
            out[iso] = _days(pd.to_datetime(iso_text, format="%Y-%m-%d", errors="coerce"))
        if compact.any():
            out[compact] = _days(pd.to_datetime(values[compact], format="%Y%m%d", errors="coerce"))
    if slashed.any():
        first = parts[0][slashed].astype(int).to_numpy()
        second = parts[1][slashed].astype(int).to_numpy()
        year = parts[2][slashed].astype(int).to_numpy()
        if not dayfirst and (first > 12).any() and not (second > 12).any():
            example = values[slashed][first > 12].iloc[0]
            raise DataError(
                f"Column {column!r} has dates such as {example!r} with the day first; pass "
                "--dayfirst (dayfirst=True) to read them as dd/mm/yyyy"
            )
        if dayfirst and (second > 12).any() and not (first > 12).any():
            example = values[slashed][second > 12].iloc[0]
            raise DataError(
                f"Column {column!r} has dates such as {example!r} with the month first; drop "
                "--dayfirst to read them as mm/dd/yyyy"
            )
        day, month = (first, second) if dayfirst else (second, first)
        year = np.where(year < 100, np.where(year < 70, 2000 + year, 1900 + year), year)
        stamps = pd.to_datetime(
            pd.DataFrame({"year": year, "month": month, "day": day}), errors="coerce"
        )
        out[slashed] = _days(stamps)
        if not dayfirst and not (first > 12).any():
            notes.append(
                f"read dates in {column!r} such as {values[slashed].iloc[0]!r} as mm/dd/yyyy; "
                "pass --dayfirst if they are dd/mm/yyyy"
            )
    bad = np.isnan(out) & values.notna().to_numpy()
    if bad.any():
        examples = ", ".join(repr(v) for v in uniques[bad][:3])
        raise DataError(
            f"Column {column!r} has {int(bad.sum())} distinct values that are not dates "
            f"(e.g. {examples}); dates must be YYYYMMDD, YYYY-MM-DD or mm/dd/yyyy "
            "(dd/mm/yyyy with --dayfirst)"
        )
    return out


def _days(stamps) -> np.ndarray:
    stamps = pd.DatetimeIndex(stamps)
    days = (stamps - pd.Timestamp("1970-01-01")).days.to_numpy(dtype=float, na_value=np.nan)
    return np.where(stamps.isna(), np.nan, days)


def _date_column(days: np.ndarray) -> pd.Series:
    """Day numbers as a date column (Arrow ``date32``: written as ``1997-01-01`` in CSV)."""
    return pd.Series(pd.arrays.ArrowExtensionArray(pa.array(days.astype(np.int32), pa.date32())))


def _to_date(day: int) -> Date:
    return EPOCH + timedelta(days=int(day))


def _as_of_day(as_of, dayfirst: bool) -> int:
    if isinstance(as_of, pd.Timestamp | Date):
        return (pd.Timestamp(as_of).normalize() - pd.Timestamp("1970-01-01")).days
    days = parse_dates(pa.array([str(as_of)]), dayfirst=dayfirst, column="--as-of")[0]
    if np.isnan(days):
        raise ConfigError(f"--as-of must be a date such as 1998-07-01, not {as_of!r}")
    return int(days)


# ---------------------------------------------------------------- features


def rfm_features(
    transactions: str | Path | pd.DataFrame | pa.Table | Table,
    *,
    customer: str | None = None,
    date: str | None = None,
    amount: str | None = None,
    quantity: str | None = None,
    price: str | None = None,
    invoice: str | None = None,
    as_of: str | Date | None = None,
    dayfirst: bool = False,
    returns: str = "net",
) -> tuple[pd.DataFrame, dict]:
    """Per-customer RFM features from transactions.

    Parameters
    ----------
    transactions : path, DataFrame, pyarrow.Table or Table
        One row per transaction or order line (see :func:`read_transactions` for the formats).
    customer, date, amount, quantity, price, invoice : str, optional
        Column names (or 1-based positions for headerless files). Recognised by name when not
        given (e.g. ``CustomerID``, ``InvoiceDate``, ``Quantity``, ``UnitPrice``, ``InvoiceNo``).
        The amount spent is ``amount``, or ``quantity x price`` when there is no amount column.
    as_of : date or str, optional
        The day recency and tenure are measured to; later rows are ignored. Default: the day
        after the last transaction.
    dayfirst : bool
        Read ``01/02/1997`` as 1 February (dd/mm/yyyy) rather than 2 January.
    returns : {"net", "exclude"}
        Returns and cancellations netted against monetary value (default) or dropped.

    Returns
    -------
    (DataFrame, dict)
        One row per customer, sorted by id: ``customer``, ``first_purchase``, ``last_purchase``,
        ``recency`` (days from the last purchase to ``as_of``), ``frequency`` (distinct invoices,
        or purchase days), ``monetary`` (net spend), ``tenure`` (days from the first purchase to
        ``as_of``), ``avg_order_value``; and a report of what was dropped, netted and found.
    """
    if returns not in RETURNS:
        raise ConfigError(f"--returns must be net or exclude, not {returns!r}")
    given = {
        "customer": customer,
        "date": date,
        "amount": amount,
        "quantity": quantity,
        "price": price,
        "invoice": invoice,
    }
    table, notes = read_transactions(transactions, columns=given)
    if table.num_rows == 0:
        raise DataError("The transactions table has no rows; there are no customers to segment")
    cols = recognise_columns(table.column_names, **given)
    if any(getattr(cols, r) not in (None, r) and given[r] is None for r in ROLES_ORDER):
        notes.append(f"columns used: {cols.describe()}")
    source = "DataFrame" if not isinstance(transactions, str | Path) else str(transactions)
    report: dict = {"source": source, "columns": asdict(cols), "rows_read": table.num_rows}
    n = table.num_rows

    key, ids = factorize(_combined(table[cols.customer]))
    day = parse_dates(_combined(table[cols.date]), dayfirst=dayfirst, column=cols.date, notes=notes)
    qty = to_numbers(_combined(table[cols.quantity]), cols.quantity) if cols.quantity else None
    if cols.amount:
        money = to_numbers(_combined(table[cols.amount]), cols.amount)
    else:
        money = qty * to_numbers(_combined(table[cols.price]), cols.price)
    is_return = money < 0
    if qty is not None:
        is_return |= qty < 0
    invoice = None
    if cols.invoice:
        invoice, numbers = factorize(_combined(table[cols.invoice]))
        cancelled = pc.fill_null(pc.match_substring_regex(_to_text(numbers), r"^[cC]"), False)
        cancelled = np.asarray(cancelled.to_numpy(zero_copy_only=False), dtype=bool)
        is_return |= (invoice >= 0) & cancelled[np.maximum(invoice, 0)]
    del table

    keep = np.ones(n, dtype=bool)
    dropped = {}
    for label, bad in (
        ("missing customer id", key < 0),
        ("missing date", np.isnan(day)),
        ("missing amount", np.isnan(money)),
    ):
        dropped[label] = int((bad & keep).sum())
        keep &= ~bad
    if not keep.any():
        raise DataError(
            f"No usable transactions: every row lacks a customer id, a date or an amount "
            f"({', '.join(f'{v:,} {k}' for k, v in dropped.items() if v)})"
        )
    last_day = int(np.nanmax(day[keep]))
    as_of_day = last_day + 1 if as_of is None else _as_of_day(as_of, dayfirst)
    later = keep & (day > as_of_day)
    dropped["after as-of date"] = int(later.sum())
    keep &= ~later
    n_returns = int((is_return & keep).sum())
    if returns == "exclude":
        dropped["returns and cancellations (excluded)"] = n_returns
        keep &= ~is_return
    money = np.where(is_return, -np.abs(money), money)
    returned = float(money[keep & is_return].sum())
    if not (keep & ~is_return).any():
        raise DataError(
            "No purchases are left: every usable row is a return or cancellation"
            + (" or dated after --as-of" if dropped["after as-of date"] else "")
        )

    rows = np.flatnonzero(keep)
    code, day, money, is_return = (
        key[rows],
        day[rows].astype(np.int64),
        money[rows],
        is_return[rows],
    )
    m = len(ids)
    buy = ~is_return
    first = np.full(m, np.iinfo(np.int64).max)
    last = np.full(m, np.iinfo(np.int64).min)
    np.minimum.at(first, code[buy], day[buy])
    np.maximum.at(last, code[buy], day[buy])
    monetary = np.bincount(code, weights=money, minlength=m)
    has_row = np.bincount(code, minlength=m) > 0
    has_purchase = np.bincount(code[buy], minlength=m) > 0
    orders = invoice[rows][buy] if invoice is not None else None
    frequency = _count_orders(code[buy], day[buy], orders, m)
    order = np.asarray(pc.sort_indices(ids).to_numpy(zero_copy_only=False))
    order = order[has_purchase[order]]
    ids = ids.take(pa.array(order)).to_pandas()
    net = monetary[order]
    tiny = np.abs(net) <= 1e-9  # returns that cancel purchases exactly leave rounding dust
    negative, zero = int((net < 0).sum() - (tiny & (net < 0)).sum()), int(tiny.sum())
    spend = np.where(tiny, 0.0, np.clip(net, 0, None))
    freq = frequency[order]
    features = pd.DataFrame(
        {
            "customer": ids.to_numpy(),
            "first_purchase": _date_column(first[order]),
            "last_purchase": _date_column(last[order]),
            "recency": (as_of_day - last[order]).astype(np.int64),
            "frequency": freq.astype(np.int64),
            "monetary": np.round(spend, 6),  # sums of floats leave dust (0.1 + 0.2)
            "tenure": (as_of_day - first[order]).astype(np.int64),
            "avg_order_value": np.round(spend / freq, 6),
        }
    )
    report.update(
        {
            "rows_used": int(len(rows)),
            "dropped_rows": dropped,
            "returns": {
                "rule": returns,
                "rows": n_returns,
                "amount_netted": returned if returns == "net" else 0.0,
            },
            "customers": int(len(features)),
            "customers_only_returns": int((has_row & ~has_purchase).sum()),
            "customers_negative_net": negative,
            "customers_zero_spend": zero,
            "total_spend": round(float(money.sum()), 6),
            "first_date": _to_date(int(day.min())).isoformat(),
            "last_date": _to_date(int(day.max())).isoformat(),
            "as_of": _to_date(as_of_day).isoformat(),
            "frequency_counts": "invoices" if cols.invoice else "purchase days",
            "notes": notes
            + _report_notes(dropped, n_returns, returns, has_row & ~has_purchase, negative),
        }
    )
    return features, report


def _count_orders(code: np.ndarray, day: np.ndarray, invoice: np.ndarray | None, m: int):
    """Distinct orders per customer: (customer, invoice) pairs, or (customer, day) pairs."""
    part = day - day.min()
    if invoice is not None:
        # An empty invoice number counts as one order per customer and day.
        part = np.where(invoice < 0, invoice.max() + 1 + part, invoice)
    width = int(part.max()) + 1
    pairs = pc.unique(pa.array(code * width + part)).to_numpy(zero_copy_only=False)
    return np.bincount(pairs // width, minlength=m)


def _report_notes(dropped: dict, n_returns: int, rule: str, only_returns, negative: int):
    notes = [f"dropped {v:,} rows with {k}" for k, v in dropped.items() if v and "returns" not in k]
    if n_returns:
        verb = "netted against monetary value" if rule == "net" else "excluded"
        notes.append(f"{n_returns:,} return/cancellation rows {verb}")
    only = int(only_returns.sum())
    if only:
        notes.append(f"dropped {only:,} customers with returns but no purchase")
    if negative:
        notes.append(f"{negative:,} customers returned more than they bought; monetary set to 0")
    return notes


# ---------------------------------------------------------------- scores


def quintile_scores(values: pd.Series, *, higher_is_better: bool = True) -> pd.Series:
    """Scores 1..5 by population quintile; tied values share the score of their lowest rank."""
    ranks = (values if higher_is_better else -values).rank(method="min")
    n = len(values)
    return (1 + np.floor(5 * (ranks - 1) / max(n, 1))).astype("int64").rename(values.name)


def rfm_scores(features: pd.DataFrame) -> pd.DataFrame:
    """Classic RFM scores: R, F, M from 1 to 5 (R higher = more recent), the ``RFM`` code and the
    classic segment of the R x F grid (Champions, Loyal, At risk, Hibernating, ...)."""
    r = quintile_scores(features["recency"], higher_is_better=False)
    f = quintile_scores(features["frequency"])
    m = quintile_scores(features["monetary"])
    grid = np.asarray(RF_GRID, dtype=object)
    return pd.DataFrame(
        {
            "R": r.to_numpy(),
            "F": f.to_numpy(),
            "M": m.to_numpy(),
            "RFM": (r.astype(str) + f.astype(str) + m.astype(str)).to_numpy(),
            "rfm_segment": grid[r.to_numpy() - 1, f.to_numpy() - 1],
        },
        index=features.index,
    )


# ---------------------------------------------------------------- segmentation


@dataclass(frozen=True)
class RFMSegmentation(Segmentation):
    """A :class:`Segmentation` of RFM features, with the RFM report and score comparison."""

    rfm_report: dict = field(default_factory=dict)

    @property
    def rfm_table(self) -> pd.DataFrame:
        """Per-customer RFM features and classic scores (what ``rfm_features.csv`` holds)."""
        return self.table.frame

    def comparison(self) -> pd.DataFrame:
        """K-Means segment x classic RFM segment: number of customers in each pair."""
        frame = self.assignments().loc[self.used]
        return pd.crosstab(frame["segment_name"], frame["rfm_segment"])

    def score_means(self) -> pd.DataFrame:
        """Mean R, F and M score of each K-Means segment."""
        frame = self.assignments().loc[self.used]
        means = frame.groupby("segment")[["R", "F", "M"]].mean().round(2)
        means.insert(0, "name", means.index.map(self.names))
        return means

    def summary(self) -> dict:
        from custseg.outputs.summary import json_ready

        summary = super().summary()
        crosstab = self.comparison()
        summary["rfm"] = json_ready(
            {
                **self.rfm_report,
                "scores": "quintiles 1..5; R higher = more recent; ties share a score",
                "score_means": self.score_means().reset_index().to_dict(orient="records"),
                "crosstab": {
                    name: {k: int(v) for k, v in row.items() if v}
                    for name, row in crosstab.iterrows()
                },
            }
        )
        return summary


def rfm_rules_path() -> Path:
    """The shipped RFM naming rules (``custseg/data/rfm_rules.toml``)."""
    return Path(str(resources.files("custseg").joinpath("data/rfm_rules.toml")))


def segment_rfm(
    transactions: str | Path | pd.DataFrame | pa.Table | Table,
    *,
    customer: str | None = None,
    date: str | None = None,
    amount: str | None = None,
    quantity: str | None = None,
    price: str | None = None,
    invoice: str | None = None,
    as_of: str | Date | None = None,
    dayfirst: bool = False,
    returns: str = "net",
    features: Sequence[str] | str | None = None,
    k: int | str = "auto",
    k_range: str | Sequence[int] | None = None,
    log: bool | str | Sequence[str] | None = None,
    scale: str = "standard",
    rules: str | Path | None = None,
    n_init: int = 10,
    seed: int = 0,
    engine: str = "auto",
    progress: Progress | None = None,
) -> RFMSegmentation:
    """Segment customers from their transactions: RFM features, then :func:`custseg.segment`.

    Parameters
    ----------
    transactions, customer, date, amount, quantity, price, invoice, as_of, dayfirst, returns
        As for :func:`rfm_features`.
    features : list of str, optional
        Among ``recency, frequency, monetary, tenure, avg_order_value``; default the first three.
    log : bool, "auto" or list, optional
        Log-transformed features; default the skewed-by-nature ``frequency``, ``monetary`` and
        ``avg_order_value`` among the features (``"none"`` for none).
    rules : path, optional
        Naming rules; default the shipped ``rfm_rules.toml`` (Champions, Loyal, At risk, ...).
    k, k_range, scale, n_init, seed, engine, progress
        As for :func:`custseg.segment`.

    Returns
    -------
    RFMSegmentation
        Its table holds the RFM features and classic R, F, M scores of every customer.
    """
    step: Callable[[str, int, int], None] = progress or (lambda *_: None)
    step("RFM features", 0, 1)
    rfm, report = rfm_features(
        transactions,
        customer=customer,
        date=date,
        amount=amount,
        quantity=quantity,
        price=price,
        invoice=invoice,
        as_of=as_of,
        dayfirst=dayfirst,
        returns=returns,
    )
    step("RFM features", 1, 1)
    chosen = _choose_features(features)
    if log is None:
        log = [c for c in chosen if c in LOG_FEATURES] or "none"
    frame = pd.concat([rfm, rfm_scores(rfm)], axis=1)
    roles = {c: "numeric" for c in frame.columns}
    roles |= {"customer": "id", "first_purchase": "date", "last_purchase": "date"}
    roles |= {"RFM": "text", "rfm_segment": "categorical", **FEATURE_ROLES}
    table = Table(frame=frame, roles=roles, source=report["source"], notes=list(report["notes"]))
    table.notes.insert(
        0,
        f"{report['customers']:,} customers from {report['rows_used']:,} transactions "
        f"({report['first_date']} to {report['last_date']}), as of {report['as_of']}",
    )
    seg = segment(
        table,
        features=chosen,
        k=k,
        k_range=k_range,
        log=log,
        scale=scale,
        rules=rules or rfm_rules_path(),
        n_init=n_init,
        seed=seed,
        engine=engine,
        progress=progress,
    )
    params = dict(seg.params) | {"rules": str(rules) if rules else "built-in RFM rules"}
    params |= {"returns": returns, "as_of": report["as_of"], "dayfirst": dayfirst}
    values = {f.name: getattr(seg, f.name) for f in fields(seg)}
    values["params"] = params
    result = RFMSegmentation(**values, rfm_report=report)
    for key, cached in vars(seg).items():  # cached views (e.g. feature values) carry over
        if key not in values:
            vars(result)[key] = cached
    return result


def _choose_features(features: Sequence[str] | str | None) -> list[str]:
    if features is None:
        return list(DEFAULT_FEATURES)
    if isinstance(features, str):
        features = features.split(",")
    chosen, unknown = [], []
    for name in features:
        norm = normalise_name(name).replace(" ", "_")
        norm = {"aov": "avg_order_value", "average_order_value": "avg_order_value"}.get(norm, norm)
        if norm in FEATURES:
            chosen.append(norm)
        elif norm:
            unknown.append(name)
    if unknown or not chosen:
        raise ConfigError(
            f"--features: {', '.join(map(repr, unknown)) or 'none given'}; RFM features are "
            f"{', '.join(FEATURES)}"
        )
    return list(dict.fromkeys(chosen))
