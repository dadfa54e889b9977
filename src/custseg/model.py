"""``Segmenter``: a scikit-learn compatible K-Means estimator over a pluggable engine.

Segment ids are stable: after fitting, segments are renumbered by size (largest first), ties
broken by the centre's coordinates, so the same data gives the same ids whatever the row order.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin, _fit_context
from sklearn.metrics import pairwise_distances_argmin_min
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, check_random_state, validate_data

from custseg.engines import ENGINES, get_engine


class Segmenter(ClusterMixin, TransformerMixin, BaseEstimator):
    """K-Means segmentation with stable, size-ordered segment ids.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of segments.
    init : {"k-means++", "random"} or array of shape (n_clusters, n_features)
        Initialisation; an array warm-starts from given centres.
    n_init : int, default=10
        Number of k-means++ restarts; the best (lowest inertia) is kept.
    max_iter : int, default=300
    tol : float, default=1e-4
    random_state : int, RandomState or None
        Seed; the same data and seed give the same segments.
    engine : str, default="auto"
        K-Means engine by name (see :data:`custseg.engines.ENGINES`).

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : ndarray of shape (n_samples,)
    inertia_ : float
        Within-cluster sum of squares (WCSS).
    n_iter_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str, when fitted on a DataFrame
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"k-means++", "random"}), "array-like"],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "engine": [StrOptions(set(ENGINES))],
    }

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        init="k-means++",
        n_init: int = 10,
        max_iter: int = 300,
        tol: float = 1e-4,
        random_state=None,
        engine: str = "auto",
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.engine = engine

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None) -> Segmenter:
        """Fit K-Means on ``X`` (already numeric and scaled)."""
        X = validate_data(self, X, dtype=[np.float64, np.float32], order="C", copy=False)
        if X.shape[0] < self.n_clusters:
            raise ValueError(f"n_samples={X.shape[0]} should be >= n_clusters={self.n_clusters}.")
        init = self.init if isinstance(self.init, str) else np.asarray(self.init, dtype=X.dtype)
        seed = self.random_state
        if not isinstance(seed, Integral):  # None or a RandomState: draw one seed from it
            seed = check_random_state(seed).randint(np.iinfo(np.int32).max)
        result = get_engine(self.engine).fit(
            X,
            self.n_clusters,
            init=init,
            n_init=self.n_init,
            max_iter=self.max_iter,
            tol=self.tol,
            random_state=seed,
            sample_weight=sample_weight,
            engine=self.engine,
        )
        order = _stable_order(result.labels, result.centers)
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        self.cluster_centers_ = result.centers[order]
        self.labels_ = rank[result.labels]
        self.inertia_ = float(result.inertia)
        self.n_iter_ = int(result.n_iter)
        return self

    def predict(self, X) -> np.ndarray:
        """Index of the nearest segment centre for each row."""
        return self._nearest(X)[0]

    def transform(self, X) -> np.ndarray:
        """Distance from each row to every segment centre."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return euclidean_distances(X, self.cluster_centers_)

    def score(self, X, y=None, sample_weight=None) -> float:
        """Opposite of the within-cluster sum of squares of ``X`` (higher is better)."""
        _, dist = self._nearest(X)
        weights = np.ones(len(dist)) if sample_weight is None else np.asarray(sample_weight)
        return -float(np.sum(weights * dist**2))

    def distances(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Nearest segment and the distance to its centre, for each row."""
        return self._nearest(X)

    def _nearest(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        centers = self.cluster_centers_.astype(X.dtype, copy=False)
        return pairwise_distances_argmin_min(X, centers)


def _stable_order(labels: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Old ids ordered by size (largest first), then by centre coordinates."""
    return stable_order(np.bincount(labels, minlength=len(centers)), centers)


def stable_order(sizes: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Old ids ordered by ``sizes`` (largest first), then by centre coordinates."""
    keys = [centers[:, j] for j in reversed(range(centers.shape[1]))]
    return np.lexsort((*keys, -sizes))
