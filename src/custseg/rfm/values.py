"""Transaction values as numbers: customer codes, amounts and day numbers, from Arrow columns.

Each column is cleaned once per distinct value, which keeps millions of rows fast.
"""

from __future__ import annotations

import re
import warnings
from datetime import date as Date
from datetime import timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from custseg.exceptions import DataError
from custseg.text import plural

EPOCH = Date(1970, 1, 1)


def combined(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    """One plain array from a table column (chunks joined, dictionaries decoded)."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    if pa.types.is_dictionary(col.type):
        col = col.dictionary_decode()
    return col


def to_text(arr: pa.Array) -> pa.Array:
    """Values as trimmed text, blanks as missing."""
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
        tidy = pc.replace_substring_regex(to_text(values), r"^([+-]?\d+)\.0+$", r"\1")
        clean = pc.dictionary_encode(tidy)
        indices = clean.indices.take(encoded.indices)
        values = clean.dictionary
    else:
        indices = encoded.indices
    codes = pc.fill_null(indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, values


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
    uniques = pc.replace_substring_regex(to_text(uniques), _WITH_TIME, r"\1")
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
        what = plural(
            int(bad.sum()),
            "distinct value that is not a date",
            "distinct values that are not dates",
        )
        raise DataError(
            f"Column {column!r} has {what} "
            f"(e.g. {examples}); dates must be YYYYMMDD, YYYY-MM-DD or mm/dd/yyyy "
            "(dd/mm/yyyy with --dayfirst)"
        )
    return out


def _days(stamps) -> np.ndarray:
    stamps = pd.DatetimeIndex(stamps)
    days = (stamps - pd.Timestamp("1970-01-01")).days.to_numpy(dtype=float, na_value=np.nan)
    return np.where(stamps.isna(), np.nan, days)


def date_column(days: np.ndarray) -> pd.Series:
    """Day numbers as a date column (Arrow ``date32``: written as ``1997-01-01`` in CSV)."""
    return pd.Series(pd.arrays.ArrowExtensionArray(pa.array(days.astype(np.int32), pa.date32())))


def to_date(day: int) -> Date:
    """The date of a day number."""
    return EPOCH + timedelta(days=int(day))


def day_number(day: Date) -> int:
    """The day number of a date (or a timestamp: its day)."""
    return (pd.Timestamp(day).normalize() - pd.Timestamp("1970-01-01")).days
