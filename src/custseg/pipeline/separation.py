"""Natural groups: is there a valley of fewer customers between two neighbouring segments?

Two segments are natural groups when, walking from one centre to the other, the customers thin
out in the middle. A single continuous population (a Gaussian blob, a uniform spread, any
log-concave population) never thins out between two points: its density along any line has one
peak at most, so the middle of a segment between two centres is never emptier than both ends.
That gives a test with a known null, in the spirit of the gap statistic's null reference:

- take the customers in a tube around the line joining the two centres (its radius at each
  centre is the median distance from the line of that segment's customers, so other segments
  rarely enter);
- count the customers in three equal slices of the tube: around each centre and in the middle
  (each ``WINDOW`` of the distance between the centres, either side);
- a valley is significant when the middle holds fewer customers than the emptier end, by a
  one-sided binomial test (under one population the middle holds at least as many on average).

Every customer in the tube counts, whichever segment it is in: restricting to the two segments
would carve the tube with the other segments' borders and make valleys out of nothing.

Used twice by the k recommendation: between neighbouring segments (is the split natural?),
and inside each segment, between the two halves K-Means would split it into (does the segment
hide two groups?).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import bdtr

from custseg.model import Segmenter

WINDOW = 0.25  # half-width of each slice, as a fraction of the distance between the centres
# The slices tried, (half-width, middle): wide ones see shallow valleys in small tables, narrow
# ones see narrow valleys off the midpoint. The most valley-like is kept, and its p-value is
# multiplied by their number (Bonferroni).
SLICES = ((WINDOW, 0.5), (0.1, 0.35), (0.1, 0.5), (0.1, 0.65))
VALLEY_P = 1e-3  # a valley this unlikely under one continuous population is significant
# A real border between two groups leaves at most 3/4 as many customers in the middle as at
# the emptier end; a middle too full for that means K-Means cut through one group.
BORDER_RATIO = 0.75
RADIUS = 0.75  # the tube holds this share of each segment's customers near the line
SPLIT_N_INIT = 1  # restarts of the 2-means split inside a segment (an easy fit: one is enough)


@dataclass(frozen=True)
class Valley:
    """Customers around centre ``a``, in the middle, and around centre ``b`` (one tube)."""

    a: int
    b: int
    at_a: int
    middle: int
    at_b: int

    @property
    def ratio(self) -> float:
        """Middle over the emptier end: below 1 is a valley, 1 or more none."""
        return self.middle / max(min(self.at_a, self.at_b), 1)

    @property
    def p(self) -> float:
        """Chance of a middle this empty if the customers were one continuous population."""
        return min(1.0, _p_valley(self.at_a, self.middle, self.at_b) * len(SLICES))

    @property
    def significant(self) -> bool:
        return self.p < VALLEY_P

    @property
    def p_border(self) -> float:
        """Chance of a middle this full if this were a border (BORDER_RATIO deep at least)."""
        if self.middle == 0:
            return 1.0
        share = BORDER_RATIO / (1 + BORDER_RATIO)
        return float(1 - bdtr(self.middle - 1, self.middle + min(self.at_a, self.at_b), share))


def centres(Z: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Mean of each segment's rows."""
    sums = np.zeros((k, Z.shape[1]))
    np.add.at(sums, labels, Z)
    return sums / np.maximum(np.bincount(labels, minlength=k), 1)[:, None]


def neighbours(centers: np.ndarray) -> list[tuple[int, int]]:
    """Pairs of neighbouring segments: no third centre lies in the ball whose diameter joins
    their centres (the Gabriel graph), so the line between them crosses no other segment's
    middle."""
    k = len(centers)
    d2 = ((centers[:, None, :] - centers[None, :, :]) ** 2).sum(-1)
    pairs = []
    for i in range(k):
        for j in range(i + 1, k):
            others = np.delete(np.arange(k), [i, j])
            if not np.any(d2[i, others] + d2[j, others] < d2[i, j]):
                pairs.append((i, j))
    return pairs


def valley(
    Z: np.ndarray,
    norms: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    own_a: np.ndarray,
    own_b: np.ndarray,
    counted: np.ndarray | None = None,
) -> tuple[int, int, int]:
    """Customers of ``Z`` in the three slices of the tube from centre ``a`` to centre ``b``.

    ``norms`` are the squared row norms of ``Z``. ``own_a`` and ``own_b`` mark the rows of the
    two segments: the tube's radius at each centre is the given quantile of that segment's
    distances from the line, and changes linearly in between (a cone cut at both ends, still
    a convex region, so one continuous population still shows no valley in it). ``counted``
    marks the rows counted (default: every row).
    """
    axis = b - a
    length2 = float(axis @ axis)
    if length2 == 0:
        return 0, 0, 0
    along = (Z @ axis - a @ axis) / length2  # 0 at a, 1 at b
    across = np.sqrt(np.maximum(norms - 2 * (Z @ a) + a @ a - along**2 * length2, 0))
    slab = (along > -WINDOW) & (along < 1 + WINDOW)
    if (slab & own_a).sum() < 3 or (slab & own_b).sum() < 3:
        return 0, 0, 0
    at_a = np.quantile(across[slab & own_a], RADIUS)
    at_b = np.quantile(across[slab & own_b], RADIUS)
    inside = across <= at_a + along * (at_b - at_a)
    if counted is not None:
        inside &= counted
    along = along[inside]
    tried = [
        tuple(int((np.abs(along - at) < width).sum()) for at in (0.0, middle, 1.0))
        for width, middle in SLICES
    ]
    return min(tried, key=lambda counts: _p_valley(*counts))


def _p_valley(at_a: int, middle: int, at_b: int) -> float:
    """One-sided binomial test: is the middle emptier than the emptier end?"""
    low = min(at_a, at_b)
    return float(bdtr(middle, middle + low, 0.5)) if middle + low else 1.0


def boundaries(Z: np.ndarray, labels: np.ndarray, k: int) -> list[Valley]:
    """The valley between each pair of neighbouring segments."""
    if k < 2:
        return []
    centers = centres(Z, labels, k)
    norms = (Z**2).sum(1)
    return [
        Valley(i, j, *valley(Z, norms, centers[i], centers[j], labels == i, labels == j))
        for i, j in neighbours(centers)
    ]


def hidden(Z: np.ndarray, labels: np.ndarray, k: int, seed: int = 0) -> list[Valley]:
    """Inside each segment, the valley between the two halves K-Means splits it into."""
    norms = (Z**2).sum(1)
    found = []
    for c in range(k):
        own = labels == c
        if own.sum() < 20:  # too few customers to see a valley in
            continue
        halves = Segmenter(2, n_init=SPLIT_N_INIT, random_state=seed).fit(Z[own])
        a, b = halves.cluster_centers_
        half = np.zeros(len(Z), dtype=bool)
        half[np.flatnonzero(own)[halves.labels_ == 0]] = True
        # Only the segment's own customers count: its region is convex, so one population
        # still shows no valley, and a neighbouring group beyond its border cannot make one.
        found.append(Valley(c, c, *valley(Z, norms, a, b, half, own & ~half, own)))
    return found
