"""Dates in customer tables: recognising them (year, day or month first) and days since them.

``04-09-2012`` may be 4 September or 9 April. The order is read from the values: a first number
above 12 can only be a day, a second one above 12 only a day too. When no value tells, the order is
:data:`DEFAULT_ORDER` and a note says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from custseg.exceptions import ConfigError
from custseg.read.table import Table, normalise_name, unknown_column

DEFAULT_ORDER = "day-first"  # most of the world writes 04-09-2012 for 4 September
DATE_SHARE = 0.9  # a column is dates when this share of its values look like one
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_ISO = re.compile(rf"^\s*(\d{{4}})[-/.](\d{{1,2}})[-/.](\d{{1,2}}){_TIME}\s*$")
_DMY = re.compile(rf"^\s*(\d{{1,2}})[-/.](\d{{1,2}})[-/.](\d{{4}}|\d{{2}}){_TIME}\s*$")


@dataclass(frozen=True)
class DateOrder:
    """How a column writes its dates: ``"year-first"``, ``"day-first"`` or ``"month-first"``,
    and whether no value told day and month apart (so :data:`DEFAULT_ORDER` was assumed)."""

    order: str
    ambiguous: bool = False
    example: str = ""


QUICK_LOOK = 200  # values looked at before every distinct value is


def _looks_like_dates(values: pd.Series) -> bool:
    dated = values.str.match(_ISO) | values.str.match(_DMY)
    return bool(dated.mean() >= DATE_SHARE)


def date_order(series: pd.Series) -> DateOrder | None:
    """The date order of a text column, or ``None`` when its values are not dates."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return DateOrder("year-first")
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return None
    present = series.dropna()
    if present.empty or not _looks_like_dates(present.iloc[:QUICK_LOOK].astype(str)):
        return None  # free text with millions of values is ruled out on its first few
    values = pd.Series(present.unique()).astype(str)
    example = values.iloc[0]
    iso = values.str.extract(_ISO).dropna().astype(int)
    if len(iso) >= DATE_SHARE * len(values) and iso[1].between(1, 12).all():
        return DateOrder("year-first", example=example)
    parts = values.str.extract(_DMY).dropna().astype(int)
    if len(parts) < DATE_SHARE * len(values) or not len(parts):
        return None
    first, second = parts[0], parts[1]
    if not (first.between(1, 31).all() and second.between(1, 31).all()):
        return None
    day_first, month_first = bool((first > 12).any()), bool((second > 12).any())
    if day_first and month_first:
        return None  # no order makes every value a date
    if day_first or month_first:
        order = "day-first" if day_first else "month-first"
        shown = values[(first if day_first else second).reindex(values.index) > 12]
        return DateOrder(order, example=str(shown.iloc[0]) if len(shown) else example)
    return DateOrder(DEFAULT_ORDER, ambiguous=True, example=example)


def parse_dates(series: pd.Series, order: DateOrder) -> pd.Series:
    """The column as datetimes (NaT where a value is missing or not a date in ``order``)."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return series
    text = series.astype("string")
    if order.order == "year-first":
        parts = text.str.extract(_ISO).astype("Float64")
        year, month, day = parts[0], parts[1], parts[2]
    else:
        parts = text.str.extract(_DMY).astype("Float64")
        day, month = (parts[0], parts[1]) if order.order == "day-first" else (parts[1], parts[0])
        year = parts[2].where(parts[2] >= 100, parts[2] + np.where(parts[2] < 70, 2000, 1900))
    frame = pd.DataFrame({"year": year, "month": month, "day": day}).astype(float)
    return pd.to_datetime(frame, errors="coerce")


def date_note(col: str, order: DateOrder) -> str:
    """How a date column was read, and that it is not a feature unless asked for."""
    tail = f"; it is not a feature: add the days since each date with --tenure {col!r}"
    if order.order == "year-first" or not order.example:
        return f"read {col!r} as dates{tail}"
    when = parse_dates(pd.Series([order.example]), order).iloc[0]
    read_as = f"{order.example!r} is {when.day} {when:%B %Y}" if pd.notna(when) else ""
    if order.ambiguous:
        return (
            f"read {col!r} as dates; no day or month above 12 tells their order, so they are "
            f"taken as day first ({read_as}); if they are month first, write them as "
            f"year-month-day{tail}"
        )
    return f"read {col!r} as dates, {order.order.replace('-', ' ')} ({read_as}){tail}"


def tenure_name(col: str) -> str:
    """The derived feature's name: ``'days since Dt_Customer'``."""
    return f"days since {col}"


def tenure_as_of(table: Table, features: Sequence[str]) -> dict[str, list[str]]:
    """Days-since feature -> [its date column, its "as of" day (ISO)], for the model file, so
    new customers are counted to the same day."""
    found = {}
    for col in table.columns_with("date"):
        if tenure_name(col) in features:
            order = date_order(table.frame[col])
            if order is not None:
                as_of = parse_dates(table.frame[col], order).max()
                found[tenure_name(col)] = [col, as_of.date().isoformat()]
    return found


def add_tenure(
    table: Table, columns: Sequence[str] | None, *, as_of: dict[str, str] | None = None
) -> Table:
    """The table with one derived column per date column: days from each date to the newest.

    The newest date in the column is the "as of" day, so the customers who joined first have
    the most days; ``as_of`` (column -> ISO day) sets it instead, as scoring does with the
    training's day. The input rows are left untouched (a new frame holds the added columns).
    """
    if not columns:
        return table
    by_norm = {normalise_name(c): c for c in table.frame.columns}
    added, notes, roles = {}, list(table.notes), dict(table.roles)
    given_as_of = as_of
    for name in columns:
        col = name if name in table.roles else by_norm.get(normalise_name(name))
        if col is None:
            raise ConfigError(unknown_column("--tenure", name, table.frame.columns))
        if tenure_name(col) in table.frame.columns:
            continue  # added already (a table given to segment() twice)
        order = date_order(table.frame[col])
        if order is None:
            raise ConfigError(
                f"--tenure: column {col!r} does not hold dates (e.g. "
                f"{table.frame[col].dropna().iloc[:1].tolist()!r}); name a column of dates "
                "such as 2012-09-04 or 04-09-2012"
            )
        dates = parse_dates(table.frame[col], order)
        given = (given_as_of or {}).get(col)
        as_of = pd.Timestamp(given) if given else dates.max()
        added[tenure_name(col)] = (as_of - dates).dt.days.astype(float)
        roles[tenure_name(col)] = "numeric"
        roles[col] = "date"
        # The hint to use --tenure has been taken.
        notes = [n.split("; it is not a feature")[0] for n in notes]
        to_day = f"{as_of.day} {as_of:%B %Y}"
        notes.append(
            f"added {tenure_name(col)!r}: the days from each date in {col!r} to "
            + (f"{to_day}, as in training" if given else f"the newest one, {to_day}")
        )
    if not added:
        return table
    frame = table.frame.assign(**added)
    return Table(frame, roles, table.source, table.first_line, notes)
