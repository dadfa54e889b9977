"""Fit: the chosen k on every used row, and each row's distance to its segment centre."""

from __future__ import annotations

import numpy as np

from custseg.model import Segmenter
from custseg.pipeline.options import SegmentOptions


def fit(
    Z: np.ndarray, k: int, searched: Segmenter | None, sampled: bool, options: SegmentOptions
) -> Segmenter:
    """The model for ``k``: the search's own when it saw every row; else a fit on every row,
    warm-started from the search's centres (one Lloyd run, not n_init)."""
    if searched is not None and not sampled:
        return searched
    init = searched.cluster_centers_ if searched is not None else "k-means++"
    return Segmenter(
        k, init=init, n_init=options.n_init, random_state=options.seed, engine=options.engine
    ).fit(Z)


def distance_to_centre(
    Z: np.ndarray, centers: np.ndarray, labels: np.ndarray, chunk: int = 1 << 20
) -> np.ndarray:
    """Euclidean distance from each row of ``Z`` to its segment's centre, in float64.

    Chunked, so the temporaries stay small whatever the row count.
    """
    out = np.empty(len(Z))
    for start in range(0, len(Z), chunk):
        diff = Z[start : start + chunk] - centers[labels[start : start + chunk]]
        out[start : start + chunk] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    return out
