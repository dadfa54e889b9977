"""Numbers as people write them in exports: ``3,202.47``, ``$1,234.50``, ``(75.00)``, ``12.5%``,
and ``1.234,50`` in files with decimal commas.

:func:`parse_numbers` is the one place text becomes numbers: column roles, validation, features,
statistics and RFM amounts all read numbers through it. A value that is not a number is never
dropped silently: it is reported in :attr:`Numbers.bad`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from custseg.exceptions import DataError
from custseg.text import plural

_SYMBOLS = "$€£¥₹₩₽₺₪₫₴₦฿¢"
_CODES = (
    "USD", "EUR", "GBP", "CHF", "JPY", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK", "PLN", "CZK",
    "HUF", "INR", "CNY", "BRL", "MXN", "ZAR", "US$", "C$", "A$", "R$", "kr",
)  # fmt: skip
_CURRENCY = "[" + re.escape(_SYMBOLS) + "]|" + "|".join(re.escape(c) for c in _CODES)
_SPACES = " \u00a0\u202f"  # space, no-break space, narrow no-break space


def _number(decimal: str, *, money: bool) -> str:
    """Digits with an optional decimal part; whole digits may be grouped by 3 with one kind of
    separator: the other mark, an apostrophe, a no-break space, or a space. Space-grouped whole
    numbers (``612 345 678``) count only next to a currency sign (``1 234 €``): without one they
    are more often phone numbers than amounts."""
    group, point = ("," if decimal == "." else "."), re.escape(decimal)
    frac = f"(?:{point}\\d*)?"
    separators = (re.escape(group), "'", "’", "[\u00a0\u202f]")
    grouped = [f"\\d{{1,3}}(?:{sep}\\d{{3}})+{frac}" for sep in separators]
    spaced = f"\\d{{1,3}}(?:[{_SPACES}]\\d{{3}})+" + (frac if money else f"{point}\\d+")
    return "|".join([*grouped, spaced, f"\\d+{frac}", f"{point}\\d+"])


def _pattern(decimal: str) -> str:
    """A whole formatted amount: one sign, one currency (before or after) or a percent sign, or
    brackets around an unsigned amount for a negative one."""
    cur, sign = f"(?:{_CURRENCY})", "[-+−]"
    num, money = (f"(?:{_number(decimal, money=m)})" for m in (False, True))
    gap = f"[\\s{_SPACES}]*"  # RE2's \\s is ASCII only, and exports use no-break spaces
    signed = [
        f"(?:{sign}{gap})?{cur}{gap}{money}",
        f"{cur}{gap}{sign}{gap}{money}",
        f"(?:{sign}{gap})?{money}{gap}{cur}",
        f"(?:{sign}{gap})?{num}{gap}%?",
    ]
    bracketed = f"\\({gap}(?:{cur}{gap}{money}|{money}{gap}{cur}|{num}{gap}%?){gap}\\)"
    return "^(?:" + "|".join([*signed, bracketed]) + ")$"


_PATTERNS = {mark: _pattern(mark) for mark in ".,"}
_GROUPED = {".": f"\\d[,'’{_SPACES}]\\d", ",": f"\\d[.'’{_SPACES}]\\d"}
_SEPARATORS = {".": [",", "'", "’", *_SPACES], ",": [".", "'", "’", *_SPACES]}
# A well-formed amount is its number between these: trimming them off leaves the number.
_AROUND = "".join(sorted({*_SYMBOLS, *"".join(_CODES), *"+-−()%", *_SPACES, *"\t\n\f\r"}))
# ... and trimming these off leaves its currency.
_NUMBER_CHARS = "0123456789.,'’+-−()%\t\n\f\r" + _SPACES


@dataclass(frozen=True, eq=False)
class Numbers:
    """A column read as numbers.

    Attributes
    ----------
    values : numpy.ndarray
        Float numbers; NaN where the cell is missing, blank or not a number.
    bad : numpy.ndarray
        Positions of the cells that hold something other than a number or a blank.
    removed : tuple of str
        The formatting taken off to read the numbers, for notes: ``"thousands separators"``,
        ``"'$'"``, ``"'%'"``, ``"brackets around negative amounts"``.
    """

    values: np.ndarray
    bad: np.ndarray
    removed: tuple[str, ...] = ()


def parse_numbers(values: pd.Series | pa.Array | pa.ChunkedArray, *, decimal: str = ".") -> Numbers:
    """Read a column as numbers, taking off thousands separators and currency and percent signs.

    Parameters
    ----------
    values : Series or pyarrow array
        The column as loaded.
    decimal : {".", ","}
        The file's decimal mark. With ``","``, ``1.234,50`` is 1234.5 and ``1.234`` is 1234.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        if pa.types.is_dictionary(values.type):
            values = values.dictionary_decode()
        if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
            return Numbers(values.to_numpy(zero_copy_only=False).astype(float), _none())
        if pa.types.is_boolean(values.type) or pa.types.is_decimal(values.type):
            return Numbers(pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False), _none())
        text = pc.utf8_trim_whitespace(pc.cast(values, pa.large_string()))
        return _read_text(text, np.full(len(text), np.nan), decimal, plain_later=decimal == ".")
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return Numbers(values.astype(float).to_numpy(), _none())  # float columns: no copy
    text = values.astype("string").str.strip()
    if decimal == ".":
        # Plain numbers first, exactly as pandas reads them; formatting is looked for in the rest.
        numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        if not np.isnan(numbers).any():
            return Numbers(numbers, _none())
    else:
        numbers = np.full(len(text), np.nan)
    arr = pa.array(text, type=pa.large_string(), from_pandas=True)
    return _read_text(arr, numbers, decimal, plain_later=False)


def _read_text(text: pa.Array, numbers: np.ndarray, decimal: str, *, plain_later: bool) -> Numbers:
    """Fill in ``numbers`` (NaN where not read yet) from the trimmed ``text``.

    With ``plain_later`` (Arrow columns, read by Arrow as before), the pattern comes first and
    pandas reads only what it leaves (``1e5``, ``inf``): one fast pass over big columns.
    """
    filled = np.asarray(pc.fill_null(pc.not_equal(text, ""), False))
    unread = np.isnan(numbers) & filled
    # Only text with a digit can be a formatted number: free text skips the costly pattern.
    digits = np.asarray(pc.fill_null(pc.match_substring_regex(text, r"\d"), False))
    rest = np.flatnonzero(unread & digits)
    bad = unread & ~digits
    removed: tuple[str, ...] = ()
    if len(rest):
        parsed, removed = _formatted(text.take(rest) if len(rest) < len(text) else text, decimal)
        numbers[rest] = parsed
        bad[rest[np.isnan(parsed)]] = True
    if plain_later and bad.any():
        left = np.flatnonzero(bad)
        plain = pd.to_numeric(pd.Series(text.take(left).to_pandas()), errors="coerce")
        numbers[left] = plain.to_numpy(dtype=float, na_value=np.nan)
        bad[left] = np.isnan(numbers[left])
    return Numbers(numbers, np.flatnonzero(bad), removed)


def _none() -> np.ndarray:
    return np.empty(0, dtype=np.int64)


def _formatted(text: pa.Array, decimal: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Numbers from formatted text (NaN where it is not a number) and what was taken off.

    The whole-value pattern has no capture groups, so RE2 checks it with its fast automaton;
    the rest are plain trims and replacements, cheap on millions of values.
    """
    ok = pc.fill_null(pc.match_substring_regex(text, _PATTERNS[decimal]), False)
    digits = pc.utf8_trim(text, _AROUND)
    for separator in _SEPARATORS[decimal]:
        digits = pc.replace_substring(digits, separator, "")
    if decimal == ",":
        digits = pc.replace_substring(digits, ",", ".")
    digits = pc.if_else(ok, digits, pa.scalar(None, digits.type))
    numbers = pc.cast(digits, pa.float64()).to_numpy(zero_copy_only=False)
    brackets = pc.starts_with(text, "(")
    negative = _any(brackets, pc.match_substring(text, "-"), pc.match_substring(text, "−"))
    numbers = np.where(np.asarray(pc.fill_null(negative, False)), -numbers, numbers)
    return numbers, _what_was_removed(pc.filter(text, ok), decimal)


def _any(*conditions: pa.Array) -> pa.Array:
    result = conditions[0]
    for condition in conditions[1:]:
        result = pc.or_(result, condition)
    return result


def _what_was_removed(text: pa.Array, decimal: str) -> tuple[str, ...]:
    """What formatting the well-formed values in ``text`` carry, for the note."""
    removed = []
    if pc.any(pc.match_substring_regex(text, _GROUPED[decimal])).as_py():
        removed.append("thousands separators")
    signs = pc.unique(pc.utf8_trim(text, _NUMBER_CHARS)).to_pylist()
    removed += [repr(sign) for sign in sorted(s for s in signs if s)]
    if pc.any(pc.match_substring(text, "%")).as_py():
        removed.append("'%'")
    if pc.any(pc.starts_with(text, "(")).as_py():
        removed.append("brackets around negative amounts")
    return tuple(removed)


def numeric_view(series: pd.Series) -> pd.Series:
    """The column as float numbers (formatting such as ``$1,234.50`` taken off); values that are
    not numbers become NaN (see :func:`parse_numbers` for which)."""
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return series.astype(float)  # shares a float column's memory (copy-on-write)
    return pd.Series(parse_numbers(series).values, index=series.index, name=series.name)


def converted_note(column: str, removed: tuple[str, ...]) -> str:
    """``read 'Balance' as numbers: removed thousands separators and '$'``."""
    what = ", ".join(removed[:-1]) + (" and " if len(removed) > 1 else "") + removed[-1]
    return f"read {column!r} as numbers: removed {what}"


def to_numbers(arr: pa.Array | pa.ChunkedArray, column: str) -> np.ndarray:
    """A column as float numbers (missing -> NaN); text that is not a number is an error."""
    numbers = parse_numbers(arr)
    if len(numbers.bad):
        text = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        text = text.dictionary_decode() if pa.types.is_dictionary(text.type) else text
        examples = ", ".join(f"{text[int(p)].as_py()!r} in row {p + 1}" for p in numbers.bad[:3])
        bad = plural(len(numbers.bad), "value that is not a number", "values that are not numbers")
        raise DataError(
            f"Column {column!r} has {bad} (e.g. {examples}); "
            "clean them or point the option at another column"
        )
    return numbers.values


def read_decimal_commas(frame: pd.DataFrame, notes: list[str], keep: Iterable[str] = ()) -> None:
    """Turn the text columns of a decimal-comma file that hold only amounts (``1.234,50 €``) into
    numbers, in place, as the file reader already does for plain ones (``12,5``).

    Later reads of the frame assume a decimal point, so this is the one chance to read ``1.234``
    as 1234. Columns in ``keep`` (ids) and columns with any value that is not a number stay text.
    """
    for col in frame.columns:
        series = frame[col]
        text = pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)
        if col in keep or not text:
            continue
        numbers = parse_numbers(series, decimal=",")
        if len(numbers.bad) or np.isnan(numbers.values).all():
            continue
        frame[col] = numbers.values
        if numbers.removed:
            notes.append(converted_note(col, numbers.removed))
