"""Helpers shared by the HTML and PNG reports: colours, sampling, axis choice."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from custseg.exceptions import ConfigError
from custseg.features import feature_frame

if TYPE_CHECKING:
    from custseg.segmentation import Segmentation

SEED = 0  # sampling for charts is seeded: the same run always draws the same points
SILHOUETTE_SAMPLE_MAX = 3000

# Tableau 10 then a second, softer set: distinct, colour-blind friendly first colours.
PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip


def segment_colors(seg: Segmentation) -> dict[int, str]:
    """One colour per segment id, the same in every chart (HTML and PNG)."""
    return {p.id: PALETTE[i % len(PALETTE)] for i, p in enumerate(seg.profiles)}


def check_max_points(max_points: int) -> int:
    if isinstance(max_points, bool) or not isinstance(max_points, int | np.integer):
        raise ConfigError(f"max_points must be a whole number, not {max_points!r}")
    if max_points < 1:
        raise ConfigError(f"max_points must be at least 1, got {max_points!r}")
    return int(max_points)


def sample_positions(seg: Segmentation, size: int, seed: int = SEED) -> np.ndarray:
    """Sorted positions of at most ``size`` segmented rows, drawn with a seeded RNG."""
    used = np.flatnonzero(seg.used)
    if len(used) <= size:
        return used
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(used, size, replace=False))


def sample_note(shown: int, total: int) -> str:
    """``"sample of 5,000 of 60,000 customers"`` or ``"all 300 customers"``."""
    if shown < total:
        return f"random sample of {shown:,} of {total:,} customers"
    return f"all {total:,} customers"


def pick_axes(seg: Segmentation, n: int) -> list[str]:
    """``n`` numeric features to plot: income x spending (and age for 3D) when present."""
    numeric = list(seg.plan.numeric)
    if len(numeric) < n:
        return []
    roles = seg.table.roles
    preferred = ("income", "spending") if n == 2 else ("age", "income", "spending")
    chosen = []
    for role in preferred:
        col = next((c for c in numeric if roles.get(c) == role and c not in chosen), None)
        if col is not None:
            chosen.append(col)
    chosen += [c for c in numeric if c not in chosen]
    return chosen[:n]


def profile_matrix(seg: Segmentation, attribute: str, features: list[str]) -> np.ndarray:
    """Segments x features array of a profile statistic (``"index"``, ``"means"``), NaN for None."""
    rows = []
    for p in seg.profiles:
        stats = getattr(p, attribute)
        rows.append([np.nan if stats.get(f) is None else stats[f] for f in features])
    return np.array(rows, dtype=float).reshape(len(seg.profiles), len(features))


INDEX_OCTAVES = 2  # profile heatmap colours saturate at a quarter and four times the average


def index_colour(index: np.ndarray) -> np.ndarray:
    """Index (100 = average) on a symmetric ratio scale: log2(index / 100), clipped; NaN if <= 0."""
    with np.errstate(all="ignore"):
        ratio = np.log2(np.where(index > 0, index, np.nan) / 100)
    return np.clip(ratio, -INDEX_OCTAVES, INDEX_OCTAVES)


def model_space_rows(seg: Segmentation, positions: np.ndarray) -> np.ndarray:
    """Rows at ``positions`` (all segmented) as the model sees them."""
    X = feature_frame(seg.table.frame.iloc[positions], seg.plan)
    with np.errstate(all="ignore"):
        return np.asarray(seg.preprocessor.transform(X), dtype=float)
