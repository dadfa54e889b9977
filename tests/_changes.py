"""The changed customer table of issue #15: some customers dropped, some added, some moved.

Shared by the identity tests and ``benchmarks/identity.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

INCOME, SPENDING = "Annual Income (k$)", "Spending Score (1-100)"


def changed_table(
    frame: pd.DataFrame,
    labels: np.ndarray,
    *,
    drop: int = 20,
    add: int = 20,
    move: int = 30,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict[str, set[str]]]:
    """A copy of ``frame`` with ``drop`` customers removed, ``add`` new ones (copies of existing
    customers with a little noise and new ids), and ``move`` customers given the income and
    spending of a customer of another segment (``labels``: segment of each row of ``frame``).

    Returns the table (shuffled) and the ids dropped, added and moved.
    """
    rng = np.random.default_rng(seed)
    ids = frame["CustomerID"].astype(str).to_numpy()
    order = rng.permutation(len(frame))
    dropped, moved = order[:drop], order[drop : drop + move]
    out = frame.copy()
    for row in moved:
        donors = np.flatnonzero(labels != labels[row])
        donor = rng.choice(donors)
        out.iloc[row, out.columns.get_loc(INCOME)] = frame[INCOME].iloc[donor]
        out.iloc[row, out.columns.get_loc(SPENDING)] = frame[SPENDING].iloc[donor]
    kept = out.drop(index=out.index[dropped])
    new = frame.iloc[rng.choice(len(frame), add, replace=False)].copy()
    for col in ("Age", INCOME, SPENDING):
        new[col] = np.clip(new[col] + rng.integers(-2, 3, add), 1, None)
    start = max(int(i) for i in ids) + 1
    new_ids = np.arange(start, start + add)
    numeric = pd.api.types.is_numeric_dtype(frame["CustomerID"])
    new["CustomerID"] = new_ids if numeric else pd.array(new_ids.astype(str), dtype="string")
    changed = pd.concat([kept, new], ignore_index=True)
    changed = changed.iloc[rng.permutation(len(changed))].reset_index(drop=True)
    return changed, {
        "dropped": set(ids[dropped]),
        "added": set(new["CustomerID"].astype(str)),
        "moved": set(ids[moved]),
    }
