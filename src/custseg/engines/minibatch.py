"""scikit-learn's MiniBatchKMeans: faster per pass on huge tables, at some cost in inertia.

Only used when asked for (``--engine minibatch``): the benchmark measures its inertia gap to
full Lloyd, and the default large-table path (sample search + warm-started Lloyd) stays within
0.5% where mini-batch alone does not always.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import MiniBatchKMeans

from custseg.engines import KMeansResult

BATCH_SIZE = 4096


def fit(
    X: np.ndarray,
    n_clusters: int,
    *,
    init="k-means++",
    n_init: int = 3,
    max_iter: int = 100,
    tol: float = 0.0,
    random_state=None,
    sample_weight=None,
    engine: str = "minibatch",
) -> KMeansResult:
    km = MiniBatchKMeans(
        n_clusters=n_clusters,
        init=init,
        n_init=1 if not isinstance(init, str) else n_init,
        max_iter=max_iter,
        tol=tol,
        batch_size=BATCH_SIZE,
        random_state=random_state,
    ).fit(X, sample_weight=sample_weight)
    # MiniBatchKMeans' labels_ come from the last pass; recompute exactly against the centres.
    labels = km.predict(X)
    inertia = float(-km.score(X))
    return KMeansResult(km.cluster_centers_, labels, inertia, int(km.n_iter_))
