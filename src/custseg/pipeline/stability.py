"""Per-segment stability: would each segment come back if the customers were resampled?

The method is Hennig's ``clusterboot`` (R package fpc), with the nonparametric bootstrap:

- draw the rows with replacement, as many as there are, and refit K-Means with the same k;
- match each of the run's segments to the resample's most similar segment by the Jaccard
  coefficient of their customers (counted on the resampled rows, a customer drawn twice
  counting twice, as in fpc);
- a segment's stability is its mean Jaccard over the resamples (0..1).

Why the bootstrap rather than subsamples: Hennig's thresholds below were calibrated on it, every
resample keeps the table's size (so K-Means sees segments of the same size as the run did), and
there is no subsample fraction to choose. A customer drawn several times enters the refit once,
weighted by its count, which is exactly K-Means on the resample.

Hennig's reading of the mean Jaccard, in plain words:

=================  =========  ==============================================================
label              stability  reading
=================  =========  ==============================================================
very stable        >= 0.85    the segment comes back almost unchanged
stable             >= 0.75    a real, reproducible segment
doubtful           >= 0.60    a real pattern, but which customers belong to it is uncertain
unstable           >  0.50    not to be trusted
dissolves          <= 0.50    it usually falls apart when the data are resampled
=================  =========  ==============================================================

The whole segmentation also gets the mean adjusted Rand index (ARI) between resamples: each
resample's segments are extended to every row (nearest centre) and compared with the others'.

Large tables are resampled on a seeded sample of ``STABILITY_ROWS`` rows (stated in the result).
Resamples are refitted in parallel threads, one per core; each has its own seed, so the result
does not depend on the number of cores.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from custseg.model import Segmenter

RESAMPLES = 50  # fpc's default is 100; 50 gives each mean Jaccard to about +-0.02
STABILITY_ROWS = 5_000  # larger tables are resampled on a seeded sample of this many rows
# Restarts per refit: the run's own (10 by default). clusterboot refits with the method the run
# used; with fewer restarts a refit at larger k often lands in a worse local optimum that merges
# a small segment into a neighbour, and a real segment looks unstable (seen on 8 groups of sizes
# up to 10:1: the smallest at 0.59 with 3 restarts, 0.82 with 10).
STABILITY_N_INIT = 10

# (lower bound, label), highest first: Hennig's thresholds (fpc::clusterboot's documentation).
THRESHOLDS = ((0.85, "very stable"), (0.75, "stable"), (0.6, "doubtful"))
STABLE, DOUBTFUL = 0.75, 0.6
UNSTABLE, DISSOLVES = "unstable", "dissolves"


def stability_label(jaccard: float) -> str:
    """The plain label of a mean Jaccard (see the module's table)."""
    for bound, label in THRESHOLDS:
        if jaccard >= bound:
            return label
    return UNSTABLE if jaccard > 0.5 else DISSOLVES


@dataclass(frozen=True)
class Stability:
    """Bootstrap stability of one segmentation.

    Attributes
    ----------
    segments : tuple of float
        Mean Jaccard of each segment (by segment id), 0..1.
    ari : float
        Mean adjusted Rand index between resamples, 0..1 (1: every resample agrees).
    resamples : int
    rows : int
        Rows resampled: every row, or a seeded sample of ``STABILITY_ROWS`` of ``n_rows``.
    n_rows : int
        Rows of the segmentation.
    """

    segments: tuple[float, ...]
    ari: float
    resamples: int
    rows: int
    n_rows: int
    method: str = "bootstrap"

    @property
    def labels(self) -> list[str]:
        return [stability_label(j) for j in self.segments]

    @property
    def weakest(self) -> float:
        return min(self.segments)

    @property
    def sampled(self) -> bool:
        return self.rows < self.n_rows

    def segment(self, i: int) -> dict:
        """``stability`` and ``stability_label`` of segment ``i``, for its summary entry."""
        return {"stability": self.segments[i], "stability_label": self.labels[i]}

    def to_dict(self) -> dict:
        """The top-level ``stability`` entry of ``summary.json``."""
        return {
            "method": self.method,
            "resamples": self.resamples,
            "sample_size": self.rows,
            "n_rows": self.n_rows,
            "ari": self.ari,
            "segments": [self.segment(i) | {"segment": i} for i in range(len(self.segments))],
        }


def stability_rows(n_rows: int, seed: int, size: int = STABILITY_ROWS) -> np.ndarray | None:
    """Row positions resampled: ``None`` (every row) up to ``size`` rows, else a seeded sample."""
    if n_rows <= size:
        return None
    return np.sort(np.random.default_rng([seed, 1]).choice(n_rows, size, replace=False))


def segment_stability(
    Z: np.ndarray,
    labels: np.ndarray,
    *,
    resamples: int = RESAMPLES,
    seed: int = 0,
    max_rows: int = STABILITY_ROWS,
    n_init: int = STABILITY_N_INIT,
    engine: str = "auto",
) -> Stability:
    """Bootstrap stability of the segments ``labels`` (ids 0..k-1) of the rows of ``Z``.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_features)
        The rows as the model sees them (scaled).
    labels : ndarray of shape (n_samples,)
        Each row's segment.
    resamples : int
        Bootstrap resamples.
    seed : int
        The same data and seed give the same result.
    max_rows : int
        Larger tables are resampled on a seeded sample of this many rows.
    n_init : int
        K-Means restarts per refit: pass the run's own, so a refit is the run's method.

    Returns
    -------
    Stability
    """
    labels = np.asarray(labels)
    k = int(labels.max()) + 1
    rows = stability_rows(len(Z), seed, max_rows)
    Zs = np.asarray(Z if rows is None else Z[rows], dtype=np.float64)
    ls = labels if rows is None else labels[rows]
    m = len(Zs)

    def refit(b: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([seed, 2, b])
        counts = np.bincount(rng.integers(0, m, m), minlength=m)
        drawn = counts > 0
        # A tiny table's resample may hold fewer distinct rows than k: fewer segments come back.
        fitted = min(k, int(drawn.sum()))
        model = Segmenter(fitted, n_init=n_init, random_state=seed + b, engine=engine)
        model.fit(Zs[drawn], sample_weight=counts[drawn].astype(np.float64))
        return _best_jaccard(ls[drawn], model.labels_, counts[drawn], k), model.predict(Zs)

    workers = min(resamples, os.cpu_count() or 1)
    with threadpool_limits(limits=1), ThreadPoolExecutor(workers) as pool:
        done = list(pool.map(refit, range(resamples)))
    jaccard = np.mean([j for j, _ in done], axis=0)
    ari = mean_pairwise_ari(np.array([p for _, p in done]), k)
    return Stability(tuple(float(j) for j in jaccard), ari, resamples, m, len(Z))


def _best_jaccard(run: np.ndarray, boot: np.ndarray, weight: np.ndarray, k: int) -> np.ndarray:
    """For each of the run's segments, the Jaccard of its best match among the resample's."""
    both = np.bincount(run * k + boot, weights=weight, minlength=k * k).reshape(k, k)
    union = both.sum(axis=1)[:, None] + both.sum(axis=0)[None, :] - both
    with np.errstate(invalid="ignore", divide="ignore"):
        jaccard = np.where(union > 0, both / union, 0.0)
    return jaccard.max(axis=1)


def mean_pairwise_ari(partitions: np.ndarray, k: int) -> float:
    """Mean adjusted Rand index over every pair of rows of ``partitions`` (ids below ``k``)."""
    n = partitions.shape[1]
    pairs = [(i, j) for i in range(len(partitions)) for j in range(i + 1, len(partitions))]
    if not pairs or n < 2:
        return 1.0
    total = n * (n - 1) / 2
    scores = []
    for i, j in pairs:
        table = np.bincount(partitions[i] * k + partitions[j], minlength=k * k).reshape(k, k)
        index = (table * (table - 1)).sum() / 2
        a = (table.sum(1) * (table.sum(1) - 1)).sum() / 2
        b = (table.sum(0) * (table.sum(0) - 1)).sum() / 2
        expected = a * b / total
        top = (a + b) / 2 - expected
        scores.append(1.0 if top == 0 else (index - expected) / top)
    return float(np.mean(scores))
