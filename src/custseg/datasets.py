"""The built-in sample customers: generated, deterministic, shaped like a mall's customer table."""

from __future__ import annotations

import numpy as np
import pandas as pd

# Five income/spending groups, ages differing by group:
# (share, income mean, income sd, spending mean, spending sd, age mean, age sd)
_GROUPS = [
    (0.115, 26, 7, 20, 9, 47, 8),  # low income, low spending, older
    (0.110, 25, 7, 79, 10, 25, 5),  # low income, high spending, young
    (0.405, 55, 7, 50, 6, 46, 7),  # average income, average spending
    (0.195, 87, 12, 82, 9, 33, 4),  # high income, high spending
    (0.175, 88, 11, 17, 9, 40, 7),  # high income, low spending
]


def sample_customers(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """Generate a customer table with a known five-segment structure.

    Parameters
    ----------
    n : int
        Number of customers (at least 5).
    seed : int
        Random seed; the same ``n`` and ``seed`` always give the same table.

    Returns
    -------
    pandas.DataFrame
        Columns ``CustomerID, Gender, Age, Annual Income (k$), Spending Score (1-100)``.
    """
    if n < 5:
        raise ValueError(f"n must be at least 5 (one customer per group), got {n!r}")
    rng = np.random.default_rng(seed)
    shares = np.array([g[0] for g in _GROUPS])
    counts = np.floor(shares / shares.sum() * n).astype(int)
    counts[2] += n - counts.sum()
    group = np.repeat(np.arange(len(_GROUPS)), counts)
    rng.shuffle(group)
    params = np.array([g[1:] for g in _GROUPS], dtype=float)[group]
    income = np.clip(rng.normal(params[:, 0], params[:, 1]), 15, 140)
    spending = np.clip(rng.normal(params[:, 2], params[:, 3]), 1, 99)
    age = np.clip(rng.normal(params[:, 4], params[:, 5]), 18, 70)
    width = max(4, len(str(n)))
    return pd.DataFrame(
        {
            "CustomerID": [str(i).zfill(width) for i in range(1, n + 1)],
            "Gender": np.where(rng.random(n) < 0.56, "Female", "Male"),
            "Age": np.round(age).astype(int),
            "Annual Income (k$)": np.round(income).astype(int),
            "Spending Score (1-100)": np.round(spending).astype(int),
        }
    )
