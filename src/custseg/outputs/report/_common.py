"""Helpers shared by the HTML and PNG reports: colours, sampling, axis choice, centres.

They read the run summary (``summary.json``'s dict) and plain arrays, never the result itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from custseg.exceptions import ConfigError
from custseg.text import plural

SEED = 0  # sampling for charts is seeded: the same run always draws the same points
SILHOUETTE_SAMPLE_MAX = 3000

# Tableau 10 then a second, softer set: distinct, colour-blind friendly first colours.
PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip


def colors_for(ids: Iterable[int]) -> dict[int, str]:
    """One colour per segment id, in the order the segments are listed."""
    return {i: PALETTE[n % len(PALETTE)] for n, i in enumerate(ids)}


def summary_colors(summary: dict) -> dict[int, str]:
    """The colour of each segment of a run summary, the same in every chart (HTML and PNG)."""
    return colors_for(s["id"] for s in summary["segments"])


def segment_colors(seg: Any) -> dict[int, str]:
    """The same colours from a result's profiles (for the dashboard's cards)."""
    return colors_for(p.id for p in seg.profiles)


def check_max_points(max_points: int) -> int:
    if isinstance(max_points, bool) or not isinstance(max_points, int | np.integer):
        raise ConfigError(f"max_points must be a whole number, not {max_points!r}")
    if max_points < 1:
        raise ConfigError(f"max_points must be at least 1, got {max_points!r}")
    return int(max_points)


def sample_positions(candidates: np.ndarray, size: int, seed: int = SEED) -> np.ndarray:
    """Sorted positions, at most ``size`` of ``candidates``, drawn with a seeded RNG."""
    if len(candidates) <= size:
        return candidates
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(candidates, size, replace=False))


def sample_note(shown: int, total: int) -> str:
    """``"sample of 5,000 of 60,000 customers"`` or ``"all 300 customers"``."""
    if shown < total:
        return f"random sample of {shown:,} of {plural(total, 'customer')}"
    return f"all {plural(total, 'customer')}"


def by_separation(summary: dict, data: Any) -> list[str]:
    """The numeric features, the one that separates the segments best first.

    "Best" is the share of a feature's variance that the segments explain (eta squared: the
    variance of the segment means over the variance of the values), on the segmented rows; ties
    keep the column order. ``data`` is the run's :class:`ChartData`.
    """
    numeric = list(summary["numeric_features"])
    if not numeric:
        return []
    used = data.used
    frame = data.values.loc[used, numeric].astype(float)
    means = frame.groupby(data.labels[used]).transform("mean").where(frame.notna())
    with np.errstate(all="ignore"):
        explained = (means.var(ddof=0) / frame.var(ddof=0)).to_numpy(dtype=float)
    explained = np.where(np.isfinite(explained), explained, 0.0)
    return [numeric[j] for j in sorted(range(len(numeric)), key=lambda j: (-explained[j], j))]


def separating_features(summary: dict, data: Any, n: int) -> list[str]:
    """The ``n`` numeric features that separate the segments best, in the table's order."""
    numeric = list(summary["numeric_features"])
    if len(numeric) < n:
        return []
    best = set(by_separation(summary, data)[:n])
    return [f for f in numeric if f in best]


def centre_matrix(summary: dict, features: list[str]) -> np.ndarray:
    """Segments x features array of the segment centres in original units (row = segment id)."""
    return np.array([[c[f] for f in features] for c in summary["centers"]], dtype=float).reshape(
        len(summary["centers"]), len(features)
    )
