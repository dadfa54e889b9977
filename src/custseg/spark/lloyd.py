"""The final fit at scale: Lloyd's K-Means on every row, warm-started from the k search's centres.

The k search settles the segments on a sample; on every row only the centres need polishing, so
each iteration is one pass over the cached feature columns: every row goes to its nearest centre
(a Spark SQL expression with the centres as literals, run in the JVM), and a group-by returns
each segment's size, sum of features and sum of squared distances. The driver computes the new
centres from those ``k`` rows. The stopping rule is scikit-learn's (the squared shift of all
centres at most ``tol`` times the features' mean variance), so the result matches the
single-machine fit on the same start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from custseg.spark.features import FEATURES, PREFIX

DIST = f"{PREFIX}dist"  # squared distance to the nearest centre
NEAREST = f"{PREFIX}nearest"  # the nearest centre's position in the centres handed in


@dataclass
class LloydFit:
    """Centres after the last iteration, with the sizes, WCSS and labels they give."""

    centers: np.ndarray
    sizes: np.ndarray
    inertia: float
    n_iter: int


def feature_columns(frame: Any, n_features: int) -> tuple[Any, list[str]]:
    """``frame``'s feature vector as plain double columns (Spark SQL computes on those fast)."""
    from pyspark.ml.functions import vector_to_array  # an optional extra (custseg[spark])
    from pyspark.sql import functions as F

    names = [f"{PREFIX}f{j}" for j in range(n_features)]
    arr = vector_to_array(F.col(FEATURES))
    return frame.select(*[arr[j].alias(n) for j, n in enumerate(names)]), names


def nearest(names: Sequence[str], centers: np.ndarray) -> Any:
    """A struct column ``(squared distance, centre position)`` of the nearest centre.

    ``least`` over ``(distance, position)`` pairs breaks ties by the lower position, as
    scikit-learn does.
    """
    from pyspark.sql import functions as F  # an optional extra (custseg[spark])

    pairs = []
    for j, centre in enumerate(centers):
        terms = [(F.col(n) - F.lit(float(c))) ** 2 for n, c in zip(names, centre, strict=True)]
        distance = terms[0]
        for t in terms[1:]:
            distance = distance + t
        pairs.append(F.struct(distance.alias("d"), F.lit(j).alias("j")))
    return pairs[0] if len(pairs) == 1 else F.least(*pairs)


def _pass(frame: Any, names: Sequence[str], centers: np.ndarray) -> tuple[np.ndarray, ...]:
    """One pass: per centre, the rows nearest to it, their feature sums and squared distances."""
    from pyspark.sql import functions as F  # an optional extra (custseg[spark])

    near = nearest(names, centers)
    rows = (
        frame.select(near.d.alias(DIST), near.j.alias(NEAREST), *names)
        .groupBy(NEAREST)
        .agg(
            F.count(F.lit(1)).alias("n"),
            F.sum(DIST).alias("wcss"),
            *[F.sum(n).alias(n) for n in names],
        )
        .collect()
    )
    k, d = centers.shape
    sizes, wcss, sums = np.zeros(k), np.zeros(k), np.zeros((k, d))
    for r in rows:
        j = int(r[NEAREST])
        sizes[j], wcss[j] = r["n"], r["wcss"]
        sums[j] = [r[n] for n in names]
    return sizes, wcss, sums


def lloyd(
    frame: Any,
    names: Sequence[str],
    init: np.ndarray,
    *,
    max_iter: int,
    tol: float,
    variance: float,
) -> LloydFit:
    """Lloyd iterations over ``frame``'s ``names`` columns from the centres ``init``.

    Stops when the centres' total squared shift is at most ``tol * variance`` (``variance``: the
    features' mean variance) or after ``max_iter`` iterations. A centre no row is nearest to
    stays where it was. The returned sizes and WCSS are those of the returned centres.
    """
    centers = np.asarray(init, dtype=float).copy()
    threshold = tol * variance
    n_iter = 0
    sizes, wcss, sums = _pass(frame, names, centers)
    while n_iter < max_iter:
        n_iter += 1
        moved = centers.copy()
        found = sizes > 0
        moved[found] = sums[found] / sizes[found, None]
        shift = float(np.sum((moved - centers) ** 2))
        centers = moved
        sizes, wcss, sums = _pass(frame, names, centers)
        if shift <= threshold:
            break
    return LloydFit(centers, sizes.astype(int), float(wcss.sum()), n_iter)
