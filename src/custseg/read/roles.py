"""What each column is: roles from names first, then from content; naming columns by hand."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import pandas as pd

from custseg.exceptions import ConfigError, DataError
from custseg.read.dates import date_note, date_order
from custseg.read.numeric import Numbers, converted_note, parse_numbers
from custseg.read.table import (
    NUMERIC_ROLES,
    ROLE_ALIASES,
    SETTABLE_ROLES,
    Table,
    normalise_name,
    unknown_column,
)

# Name patterns on the normalised column name (lower case, words separated by one space).
_NAME_RULES: list[tuple[str, re.Pattern[str]]] = [
    (
        "id",
        re.compile(
            r"^(?:(?:customer|cust|client|member|user|account|shopper|row)\s?)?"
            r"(?:id|no|nr|num|number|key|code|identifier)$|^(?:customer|cust|client)$"
        ),
    ),
    ("gender", re.compile(r"^(?:gender|genre|sex)$")),
    ("age", re.compile(r"^(?:customer\s)?age(?:\s(?:years?|yrs))?$")),
    ("income", re.compile(r"\b(?:income|salary|earnings|wage)\b")),
    ("spending", re.compile(r"\b(?:spending|spend|spendings)\b|^score$|\bspending score\b")),
    ("date", re.compile(r"\b(?:date|time|timestamp|since|joined)\b")),
]
MAX_CATEGORIES = 20
# Small integer codes under these names are categories, not quantities (e.g. Channel 1/2).
_CODE_NAME = re.compile(
    r"\b(?:channel|region|type|category|class|group|status|code|segment|area|zone|store|"
    r"country|city|state|branch|tier)\b"
)
# Whole numbers under these names count something (NumStorePurchases, visits_count): quantities
# even when the name also holds a code word such as "store".
_COUNT_NAME = re.compile(
    r"^(?:num|n|no|number|count|nb|total|qty)\b|\b(?:count|counts|number of|purchases|visits|"
    r"orders|transactions|trx|items|quantity|qty|times|days|weeks|months|years|tenure|kids|"
    r"children|frequency|recency)\b"
)
NUMERIC_SHARE = 0.5  # a column whose non-missing values are mostly numbers is numeric


def role_from_name(name: str) -> str | None:
    norm = normalise_name(name)
    for role, pattern in _NAME_RULES:
        if pattern.search(norm):
            return role
    return None


def recognise_roles(
    frame: pd.DataFrame, *, id_column: str | None = None, notes: list[str] | None = None
) -> dict[str, str]:
    """Give each column a role from its name first, then from its content."""
    notes = notes if notes is not None else []
    if id_column is not None and id_column.lower() != "none" and id_column not in frame.columns:
        raise ConfigError(unknown_column("--id-column", id_column, frame.columns))
    roles: dict[str, str] = {}
    taken: set[str] = set()
    for col in frame.columns:
        series = frame[col]
        by_name = role_from_name(col)
        non_missing = series.notna().sum()
        if non_missing == 0:
            roles[col] = "empty"
            continue
        if id_column is not None:
            if col == id_column:
                roles[col] = "id"
                continue
            if by_name == "id":
                by_name = None
        if by_name in ("id", "gender") and by_name not in taken:
            roles[col] = by_name
            taken.add(by_name)
            continue
        if pd.api.types.is_datetime64_any_dtype(series) or (
            by_name == "date" and not pd.api.types.is_numeric_dtype(series)
        ):
            roles[col] = "date"
            continue
        numbers = parse_numbers(series)
        values = pd.Series(numbers.values, index=series.index, copy=False)
        is_numeric = values.notna().sum() >= NUMERIC_SHARE * non_missing
        if is_numeric:
            notes.extend(_number_notes(col, series, numbers))
            if by_name in ("age", "income", "spending") and by_name not in taken:
                roles[col] = by_name
                taken.add(by_name)
            elif values.nunique() <= 1:
                roles[col] = "constant"
            elif _is_code(values, col):
                roles[col] = "categorical"
                notes.append(f"treated '{col}' as categorical (a small set of codes)")
            else:
                roles[col] = "numeric"
            continue
        order = date_order(series)
        if order is not None:
            roles[col] = "date"
            notes.append(date_note(col, order))
            continue
        n_unique = series.nunique()
        if n_unique <= 1:
            roles[col] = "constant"
        elif n_unique <= max(MAX_CATEGORIES, 0.05 * non_missing) and n_unique < non_missing:
            roles[col] = "categorical"
        else:
            roles[col] = "text"
    if id_column is None and "id" not in roles.values():
        _guess_id_from_content(frame, roles, notes)
    return roles


def _number_notes(col: str, series: pd.Series, numbers: Numbers) -> list[str]:
    """Say how a numeric column was read: what formatting was taken off, and which values are
    not numbers (statistics leave them out, so that must never go unsaid)."""
    notes = [converted_note(col, numbers.removed)] if numbers.removed else []
    n = len(numbers.bad)
    if n:
        shown = ", ".join(repr(series.iloc[p]) for p in numbers.bad[:3])
        notes.append(
            f"{col!r} has {n:,} value{'s' if n > 1 else ''} that {'are' if n > 1 else 'is'} "
            f"not a number (e.g. {shown}): statistics leave {'them' if n > 1 else 'it'} out, "
            f"and {col!r} can be a feature only once {'they are' if n > 1 else 'it is'} fixed"
        )
    return notes


def _is_code(values: pd.Series, name: str) -> bool:
    """Whole numbers named like a code (Channel, Region) with few values, unless named a count."""
    norm = normalise_name(name)
    if not _CODE_NAME.search(norm) or _COUNT_NAME.search(norm):
        return False
    if values.nunique() > MAX_CATEGORIES:
        return False
    finite = values.dropna()
    return bool((finite == finite.round()).all())


def _guess_id_from_content(frame: pd.DataFrame, roles: dict[str, str], notes: list[str]) -> None:
    """A first column of unique codes like '0001' or 1..n is an id even when not named so."""
    col = frame.columns[0]
    series = frame[col]
    if len(series) < 3 or series.isna().any() or not series.is_unique:
        return
    codes = not pd.api.types.is_numeric_dtype(series) and bool(
        series.astype(str).str.fullmatch(r"[A-Za-z]*\d+").all()
    )
    sequence = (
        pd.api.types.is_integer_dtype(series) and series.max() - series.min() == len(series) - 1
    )
    if codes or sequence:
        roles[col] = "id"
    if roles[col] == "id":
        notes.append(f"treated '{col}' as the customer id (unique codes); see --id-column")


def resolve_columns(table: Table, names: Sequence[str], option: str = "--features") -> list[str]:
    """Map user-given names (exact, case/format-insensitive, or a role like 'income') to columns."""
    by_norm = {normalise_name(c): c for c in table.frame.columns}
    resolved, problems = [], []
    for name in names:
        name = name.strip()
        if not name:
            continue
        if name in table.roles:
            col = name
        elif normalise_name(name) in by_norm:
            col = by_norm[normalise_name(name)]
        elif name.lower() in ROLE_ALIASES and name.lower() in table.roles.values():
            col = table.columns_with(name.lower())[0]
        else:
            problems.append(unknown_column(option, name, table.frame.columns, table.roles))
            continue
        if col not in resolved:
            resolved.append(col)
    if problems:
        raise DataError(problems)
    return resolved


def auto_features(table: Table) -> tuple[list[str], list[str]]:
    """Default features (all numeric non-id columns) and notes on the columns left out."""
    features = table.columns_with(*NUMERIC_ROLES)
    why = {
        "id": "an identifier",
        "empty": "all values are missing",
        "constant": "it has a single value",
        "text": "free text",
        "date": "a date",
        "categorical": "categorical (use --one-hot to include it)",
        "gender": "categorical (use --one-hot to include it)",
        "ignore": "its role was set to ignore",
    }
    notes = [f"left out '{col}': {why[role]}" for col, role in table.roles.items() if role in why]
    if not features:
        raise DataError(
            f"'{table.source}' has no numeric columns to segment on (roles found: "
            + ", ".join(f"{c!r}={r}" for c, r in table.roles.items())
            + "); add numeric columns such as age, income or spending"
        )
    return features, notes


def set_roles(table: Table, given: Mapping[str, str] | Sequence[tuple[str, str]] | None) -> Table:
    """The table with the roles a person set (``--role``, the dashboard's role editor).

    Column names are matched like ``--features`` (exact, then case and format-insensitive). A
    column set to ``"id"`` becomes the only id; the column recognised as the id before is then
    left out (role ``"ignore"``). Returns ``table`` itself when nothing changes.
    """
    pairs = list(given.items()) if isinstance(given, Mapping) else list(given or ())
    if not pairs:
        return table
    by_norm = {normalise_name(c): c for c in table.frame.columns}
    roles, notes, problems = dict(table.roles), list(table.notes), []
    for name, role in pairs:
        col = name if name in roles else by_norm.get(normalise_name(name))
        if col is None:
            problems.append(unknown_column("--role", name, table.frame.columns))
        elif role not in SETTABLE_ROLES:
            problems.append(
                f"--role: {role!r} is not a role; use one of {', '.join(SETTABLE_ROLES)}"
            )
        elif roles[col] != role:
            if role in ("id", "gender"):
                for other in table.columns_with(role):
                    if other != col:
                        roles[other] = "ignore" if role == "id" else "categorical"
                        notes = [n for n in notes if not n.startswith(f"treated '{other}' as")]
            # The recognised role's note no longer holds.
            notes = [n for n in notes if not n.startswith(f"treated '{col}' as")]
            notes.append(f"'{col}': role set to {role} (it was recognised as {roles[col]})")
            roles[col] = role
    if problems:
        raise ConfigError("\n".join(problems))
    if roles == table.roles:
        return table
    return Table(table.frame, roles, table.source, table.first_line, notes)
