"""scikit-learn's KMeans (Lloyd or Elkan), the single-machine reference engine."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans

from custseg.engines import KMeansResult


def fit(
    X: np.ndarray,
    n_clusters: int,
    *,
    init="k-means++",
    n_init: int = 10,
    max_iter: int = 300,
    tol: float = 1e-4,
    random_state=None,
    sample_weight=None,
    engine: str = "lloyd",
) -> KMeansResult:
    km = KMeans(
        n_clusters=n_clusters,
        init=init,
        n_init=1 if not isinstance(init, str) else n_init,
        max_iter=max_iter,
        tol=tol,
        random_state=random_state,
        algorithm="elkan" if engine == "elkan" else "lloyd",
    ).fit(X, sample_weight=sample_weight)
    return KMeansResult(km.cluster_centers_, km.labels_, float(km.inertia_), int(km.n_iter_))
