"""Which column of a transactions table is the customer, the date, the amount, ...

Transactions have their own column roles (customer, invoice, date, quantity, price, amount), so
they are recognised here rather than by the customer-table roles of :mod:`custseg.read`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from custseg.exceptions import ConfigError
from custseg.read import normalise_name, unknown_column

ROLES_ORDER = ("customer", "date", "amount", "quantity", "price", "invoice")

# Column names recognised automatically (on read.normalise_name: lower-case words).
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


def named_like(role: str, name: str) -> bool:
    """Whether a column name says it plays ``role`` (``InvoiceDate`` is a date, ...)."""
    return name == role or bool(COLUMN_PATTERNS[role].match(normalise_name(name)))


def column_position(value: str | None, width: int) -> int | None:
    """The 0-based position a user meant by ``"3"`` or ``"column_3"``, if it is one."""
    if value is None:
        return None
    text = value.strip().lower().removeprefix("column_").removeprefix("column ")
    if text.isdigit() and 1 <= int(text) <= width:
        return int(text) - 1
    return None


def match_name(name: str, names: Sequence[str]) -> str | None:
    """The column a user meant: exact, case/format-insensitive, or a 1-based position."""
    if name in names:
        return name
    by_norm = {normalise_name(n): n for n in names}
    norm = normalise_name(name)
    if norm in by_norm:
        return by_norm[norm]
    pos = column_position(name, len(names))
    return names[pos] if pos is not None else None


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
        col = match_name(name, names)
        if col is None:
            problems.append(unknown_column(f"--{role}", name, names))
        found[role] = col
    if problems:
        raise ConfigError("\n".join(problems))
    used = {c for c in found.values() if c}
    for role in ROLES_ORDER:
        if role in found:
            continue
        col = next((n for n in names if n not in used and named_like(role, n)), None)
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
