"""The loaded table: raw rows plus the role of every column, and small helpers on names."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

NUMERIC_ROLES = ("age", "income", "spending", "numeric")
ROLES = (
    "id", "gender", *NUMERIC_ROLES, "categorical", "date", "text", "empty", "constant", "ignore",
)  # fmt: skip
# What a person may set a column to (``--role``, the dashboard's role editor); "ignore" leaves a
# column out of everything but the output rows.
SETTABLE_ROLES = ("numeric", "categorical", "id", "ignore", "date", "age", "income", "spending",
                  "gender")  # fmt: skip
ROLE_ALIASES = {"income": "income", "spending": "spending", "age": "age", "gender": "gender"}


def normalise_name(name: str) -> str:
    """Lower-case words: ``'AnnualIncome'`` and ``'annual_income'`` -> ``'annual income'``."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", str(name))
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


@dataclass
class Table:
    """A loaded customer table: the raw rows and what each column is.

    Attributes
    ----------
    frame : pandas.DataFrame
        The rows as read, values untouched (in a file with decimal commas, amounts such as
        ``1.234,50`` are read as numbers). Read a column's numbers with
        :func:`~custseg.read.numeric.numeric_view`.
    roles : dict
        Column name -> role (one of :data:`ROLES`).
    source : str
        Where the rows came from (for messages and the report).
    first_line : int or None
        File line of the first data row (for messages), ``None`` when lines don't apply.
    notes : list of str
        What loading noticed (encoding, delimiter, columns left out, ...).
    """

    frame: pd.DataFrame
    roles: dict[str, str]
    source: str = "DataFrame"
    first_line: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def id_column(self) -> str | None:
        return next((c for c, r in self.roles.items() if r == "id"), None)

    def columns_with(self, *roles: str) -> list[str]:
        return [c for c, r in self.roles.items() if r in roles]

    def where(self, position: int) -> str:
        """Human location of the row at ``position``: a file line or a row number."""
        if self.first_line is None:
            return f"row {position}"
        return f"line {position + self.first_line}"


def free_column_name(columns: Iterable[str], name: str) -> str:
    """``name``, or ``name_custseg`` (and so on) when the table already has such a column."""
    taken = set(columns)
    while name in taken:
        name = f"{name}_custseg"
    return name


def describe_roles(roles: Mapping[str, str]) -> str:
    return ", ".join(f"{c} ({r})" for c, r in roles.items())


def unknown_column(
    option: str, name: str, columns: Sequence[str], roles: Mapping[str, str] | None = None
) -> str:
    names = [str(c) for c in columns]
    keys = {n.lower(): n for n in names} | {normalise_name(n): n for n in names}
    for col, role in (roles or {}).items():
        if role in ROLE_ALIASES:
            keys.setdefault(role, col)
    close = difflib.get_close_matches(normalise_name(name) or name.lower(), list(keys), 3, 0.6)
    suggestions = list(dict.fromkeys(keys[c] for c in close))
    hint = f" Did you mean {' or '.join(map(repr, suggestions))}?" if suggestions else ""
    shown = ", ".join(map(repr, names[:30])) + (", ..." if len(names) > 30 else "")
    return f"{option}: there is no column {name!r}.{hint} The columns are: {shown}"
