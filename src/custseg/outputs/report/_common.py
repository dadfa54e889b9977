"""Helpers shared by the HTML and PNG reports: colours, sampling, axis choice, profile tables.

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

# The criteria compared by k: summary key, chart title, whether lower is better.
METRICS = (
    ("silhouette", "Silhouette (higher is better)", False),
    ("calinski_harabasz", "Calinski-Harabasz (higher is better)", False),
    ("davies_bouldin", "Davies-Bouldin (lower is better)", True),
)


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


def separation(summary: dict, feature: str) -> float:
    """How much of ``feature``'s spread lies between the segments (0..1): the size-weighted mean
    of each segment's squared z-score, which is the between-segment share of the variance."""
    return sum(p["share"] * (p["zscores"].get(feature) or 0.0) ** 2 for p in summary["segments"])


def pick_axes(summary: dict, n: int) -> list[str]:
    """``n`` numeric features to plot: income x spending (and age for 3D) when present, then
    the features that separate the segments best (not simply the first columns)."""
    numeric = list(summary["numeric_features"])
    if len(numeric) < n:
        return []
    roles = summary["roles"]
    preferred = ("income", "spending") if n == 2 else ("age", "income", "spending")
    chosen = []
    for role in preferred:
        col = next((c for c in numeric if roles.get(c) == role and c not in chosen), None)
        if col is not None:
            chosen.append(col)
    rest = [c for c in numeric if c not in chosen]
    chosen += sorted(rest, key=lambda c: -separation(summary, c))
    return chosen[:n]


def centre_matrix(summary: dict, features: list[str]) -> np.ndarray:
    """Segments x features array of the segment centres in original units (row = segment id)."""
    return np.array([[c[f] for f in features] for c in summary["centers"]], dtype=float).reshape(
        len(summary["centers"]), len(features)
    )


def profile_matrix(segments: list[dict], attribute: str, features: list[str]) -> np.ndarray:
    """Segments x features array of a profile statistic (``"index"``, ``"means"``), NaN for None."""
    rows = []
    for p in segments:
        stats = p[attribute]
        rows.append([np.nan if stats.get(f) is None else stats[f] for f in features])
    return np.array(rows, dtype=float).reshape(len(segments), len(features))


INDEX_OCTAVES = 2  # profile heatmap colours saturate at a quarter and four times the average


def index_colour(index: np.ndarray) -> np.ndarray:
    """Index (100 = average) on a symmetric ratio scale: log2(index / 100), clipped; NaN if <= 0."""
    with np.errstate(all="ignore"):
        ratio = np.log2(np.where(index > 0, index, np.nan) / 100)
    return np.clip(ratio, -INDEX_OCTAVES, INDEX_OCTAVES)


def k_metric(summary: dict, name: str) -> tuple[list[int], list]:
    """The candidate ks and one criterion's value at each, from the summary's ``metrics``."""
    metrics = summary["metrics"]
    return [m["k"] for m in metrics], [m[name] for m in metrics]
