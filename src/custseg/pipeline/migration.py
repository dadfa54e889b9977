"""Migration: which customers moved between the segments of two runs.

Customers are matched by their id. Each gets a status: ``stayed`` (in the segment carried over
from the one they were in), ``moved`` (in another segment), ``new`` (not in the previous run)
or ``gone`` (not in this run). Customers in both runs also fill the transition matrix: previous
segment (rows) by new segment (columns), with counts and row shares.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from custseg.exceptions import DataError
from custseg.text import plural

MIGRATION_COLUMNS = (
    "previous_segment",
    "previous_segment_name",
    "segment",
    "segment_name",
    "status",
)
STATUSES = ("stayed", "moved", "new", "gone")
TOP_MOVES = 5  # the plain-words summary names the largest moves


@dataclass(frozen=True)
class Migration:
    """Who moved between the segments of a previous run and this one.

    Attributes
    ----------
    customers : DataFrame
        One row per customer of either run: the id, the previous segment and name, the new
        segment and name, and the status (``stayed``, ``moved``, ``new`` or ``gone``).
    counts : DataFrame
        Customers in both runs: previous segment (index) by new segment (columns).
    previous_names, names : dict
        Segment id -> name, in the previous run and in this one.
    carried : dict
        New id -> previous id of the segments that are the same segment in both runs.
    """

    customers: pd.DataFrame
    counts: pd.DataFrame
    previous_names: dict[int, str]
    names: dict[int, str]
    carried: dict[int, int]

    @property
    def shares(self) -> pd.DataFrame:
        """Row shares of ``counts``: where each previous segment's customers went."""
        totals = self.counts.sum(axis=1).replace(0, np.nan)
        return self.counts.div(totals, axis=0).fillna(0.0)

    def status_counts(self) -> dict[str, int]:
        found = self.customers["status"].value_counts()
        return {s: int(found.get(s, 0)) for s in STATUSES}

    def moves(self) -> list[dict]:
        """Each (previous, new) pair of different segments with customers, largest first."""
        both = int(self.counts.to_numpy().sum())
        out = []
        for old in self.counts.index:
            for new in self.counts.columns:
                n = int(self.counts.loc[old, new])
                if n and self.carried.get(int(new)) != int(old):
                    out.append(
                        {
                            "from": int(old),
                            "from_name": self.previous_names.get(int(old), f"Segment {old}"),
                            "to": int(new),
                            "to_name": self.names.get(int(new), f"Segment {new}"),
                            "customers": n,
                            "share": n / both if both else 0.0,
                        }
                    )
        return sorted(out, key=lambda m: (-m["customers"], m["from"], m["to"]))

    def sentences(self) -> list[str]:
        """The migration in plain words: how many stayed, the largest moves, new and gone."""
        c = self.status_counts()
        both = c["stayed"] + c["moved"]
        lines = []
        if both:
            lines.append(
                f"{c['stayed']:,} of the {plural(both, 'customer')} in both runs "
                f"({c['stayed'] / both:.0%}) stayed in their segment; "
                f"{c['moved']:,} ({c['moved'] / both:.0%}) moved"
            )
        for m in self.moves()[:TOP_MOVES]:
            lines.append(
                f"{plural(m['customers'], 'customer')} ({m['share']:.0%}) moved from "
                f"{m['from_name']} to {m['to_name']}"
            )
        lines.append(
            f"New since the last run: {plural(c['new'], 'customer')}; gone: "
            f"{plural(c['gone'], 'customer')}"
        )
        return lines

    def summary(self) -> dict:
        """The ``migration`` section of ``summary.json``."""
        return {
            "customers": self.status_counts(),
            "in_both_runs": int(self.counts.to_numpy().sum()),
            "matrix": {
                "previous_segments": [int(i) for i in self.counts.index],
                "previous_names": [self.previous_names.get(int(i), "") for i in self.counts.index],
                "segments": [int(i) for i in self.counts.columns],
                "names": [self.names.get(int(i), "") for i in self.counts.columns],
                "counts": self.counts.to_numpy().astype(int).tolist(),
                "row_shares": self.shares.to_numpy().tolist(),
            },
            "moves": self.moves(),
            "sentences": self.sentences(),
        }


def migrate(
    previous: pd.DataFrame,
    current: pd.DataFrame,
    *,
    id_column: str,
    previous_names: Mapping[int, str],
    names: Mapping[int, str],
    carried: Mapping[int, int] | None = None,
) -> Migration:
    """Compare two runs' assignments customer by customer.

    Parameters
    ----------
    previous, current : DataFrame
        Columns ``id`` (customer id), ``segment`` (int, missing when the customer was not
        segmented) for the previous run and this one.
    id_column : str
        Name of the id column in ``migration.csv``.
    previous_names, names : mapping
        Segment id -> name in each run.
    carried : mapping, optional
        New id -> previous id of the segments carried over; by default, the same id is the
        same segment.
    """
    if carried is None:
        carried = {int(i): int(i) for i in names if int(i) in previous_names}
    old = _by_id(previous, "previous")
    new = _by_id(current, "this")
    both = new.add_suffix("_new").join(old.add_suffix("_old"), how="outer", sort=False)
    # Keep this run's order, then the customers who are gone in the previous run's order.
    order = [*new.index, *old.index[~old.index.isin(new.index)]]
    both = both.reindex(order)
    old_seg = both["segment_old"].astype("Int64")
    new_seg = both["segment_new"].astype("Int64")
    same = pd.Series(
        [carried.get(int(n)) == int(o) if pd.notna(n) and pd.notna(o) else False
         for n, o in zip(new_seg, old_seg, strict=True)],
        index=both.index,
    )  # fmt: skip
    status = np.select(
        [old_seg.isna().to_numpy(), new_seg.isna().to_numpy(), same.to_numpy()],
        ["new", "gone", "stayed"],
        "moved",
    )
    customers = pd.DataFrame(
        {
            id_column: both.index.astype("string"),
            "previous_segment": old_seg.to_numpy(),
            "previous_segment_name": old_seg.map(dict(previous_names)).astype("string").to_numpy(),
            "segment": new_seg.to_numpy(),
            "segment_name": new_seg.map(dict(names)).astype("string").to_numpy(),
            "status": status,
        }
    )
    in_both = old_seg.notna() & new_seg.notna()
    counts = pd.crosstab(old_seg[in_both].astype(int), new_seg[in_both].astype(int))
    counts = counts.reindex(
        index=sorted(int(i) for i in previous_names),
        columns=sorted(int(i) for i in names),
        fill_value=0,
    )
    counts.index.name, counts.columns.name = "previous_segment", "segment"
    return Migration(
        customers.reset_index(drop=True),
        counts,
        {int(k): v for k, v in previous_names.items()},
        {int(k): v for k, v in names.items()},
        {int(k): int(v) for k, v in carried.items()},
    )


def _by_id(frame: pd.DataFrame, which: str) -> pd.DataFrame:
    ids = frame["id"].astype("string").str.strip()
    if ids.isna().any():
        raise DataError(
            f"{plural(int(ids.isna().sum()), 'customer')} of the {which} run without an id; "
            "migration needs an id for every customer"
        )
    dup = ids[ids.duplicated()]
    if len(dup):
        raise DataError(
            f"The {which} run has duplicate customer ids (e.g. {dup.iloc[0]!r}); migration "
            "needs one row per customer"
        )
    return pd.DataFrame({"segment": frame["segment"].astype("Int64").to_numpy()}, index=ids)
