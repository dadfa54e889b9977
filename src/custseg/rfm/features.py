"""``rfm_features``: one row per customer (recency, frequency, monetary, ...) from transactions."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from custseg.exceptions import DataError
from custseg.read import Table, to_numbers
from custseg.rfm.columns import ROLES_ORDER, recognise_columns
from custseg.rfm.options import RFMOptions
from custseg.rfm.source import read_transactions
from custseg.rfm.values import (
    combined,
    date_column,
    factorize,
    parse_dates,
    to_date,
    to_text,
)
from custseg.text import plural


def rfm_features(
    transactions: str | Path | pd.DataFrame | pa.Table | Table,
    options: RFMOptions | None = None,
    **settings: Any,
) -> tuple[pd.DataFrame, dict]:
    """Per-customer RFM features from transactions.

    Parameters
    ----------
    transactions : path, DataFrame, pyarrow.Table or Table
        One row per transaction or order line (see :func:`read_transactions` for the formats).
    options : RFMOptions, optional
        Which columns to use, ``as_of``, ``dayfirst`` and ``returns``; any of its fields may also
        be passed by name (``customer="CustomerID"``, ``returns="exclude"``), overriding it.

    Returns
    -------
    (DataFrame, dict)
        One row per customer, sorted by id: ``customer``, ``first_purchase``, ``last_purchase``,
        ``recency`` (days from the last purchase to ``as_of``), ``frequency`` (distinct invoices,
        or purchase days), ``monetary`` (net spend), ``tenure`` (days from the first purchase to
        ``as_of``), ``avg_order_value``; and a report of what was dropped, netted and found.
    """
    options = RFMOptions.build(options, **settings)
    given = options.columns()
    table, notes = read_transactions(transactions, columns=given, sheet=options.sheet)
    if table.num_rows == 0:
        raise DataError("The transactions table has no rows; there are no customers to segment")
    cols = recognise_columns(table.column_names, **given)
    if any(getattr(cols, r) not in (None, r) and given[r] is None for r in ROLES_ORDER):
        notes.append(f"columns used: {cols.describe()}")
    source = "DataFrame" if not isinstance(transactions, str | Path) else str(transactions)
    report: dict = {"source": source, "columns": asdict(cols), "rows_read": table.num_rows}
    n = table.num_rows

    key, ids = factorize(combined(table[cols.customer]))
    day = parse_dates(
        combined(table[cols.date]), dayfirst=options.dayfirst, column=cols.date, notes=notes
    )
    qty = to_numbers(combined(table[cols.quantity]), cols.quantity) if cols.quantity else None
    if cols.amount:
        money = to_numbers(combined(table[cols.amount]), cols.amount)
    else:
        money = qty * to_numbers(combined(table[cols.price]), cols.price)
    is_return = money < 0
    if qty is not None:
        is_return |= qty < 0
    invoice = None
    if cols.invoice:
        invoice, numbers = factorize(combined(table[cols.invoice]))
        cancelled = pc.fill_null(pc.match_substring_regex(to_text(numbers), r"^[cC]"), False)
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
    as_of_day = options.as_of_day()
    if as_of_day is None:
        as_of_day = last_day + 1
    later = keep & (day > as_of_day)
    dropped["after as-of date"] = int(later.sum())
    keep &= ~later
    n_returns = int((is_return & keep).sum())
    returns = options.returns
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
            "first_purchase": date_column(first[order]),
            "last_purchase": date_column(last[order]),
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
            "first_date": to_date(int(day.min())).isoformat(),
            "last_date": to_date(int(day.max())).isoformat(),
            "as_of": to_date(as_of_day).isoformat(),
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
    notes = [
        f"dropped {plural(v, 'row')} with {k}"
        for k, v in dropped.items()
        if v and "returns" not in k
    ]
    if n_returns:
        verb = "netted against monetary value" if rule == "net" else "excluded"
        notes.append(f"{n_returns:,} return/cancellation rows {verb}")
    only = int(only_returns.sum())
    if only:
        notes.append(f"dropped {plural(only, 'customer')} with returns but no purchase")
    if negative:
        notes.append(
            f"{plural(negative, 'customer')} returned more than they bought; monetary set to 0"
        )
    return notes
