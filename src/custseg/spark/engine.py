"""The ``spark`` K-Means engine: Spark ML's ``KMeans`` (``k-means||``, best of several seeds).

:func:`fit` is the engine protocol's ``fit(X, n_clusters, ...)`` for in-memory arrays
(``Segmenter(engine="spark")``); :func:`best_kmeans` is the same fit on a Spark DataFrame, which
:func:`~custseg.spark.segment_spark` used to fit on data that never leaves Spark (it now
compares k on the driver and polishes the centres with :mod:`custseg.spark.lloyd`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from custseg.engines import KMeansResult
from custseg.exceptions import ConfigError
from custseg.model import Segmenter, stable_order
from custseg.spark.features import FEATURES, PREDICTION, PREFIX
from custseg.spark.session import quiet_pandas, spark_session

INIT_STEPS = 5  # k-means|| rounds; Spark's default of 2 often ends in a worse local minimum
ENGINE_SEEDS = 3  # Spark KMeans runs of Segmenter(engine="spark"), the best (lowest cost) kept
MAX_ITER = 300
TOL = 1e-4  # centres move less than this (in scaled units) -> converged


def fit(
    X: np.ndarray,
    n_clusters: int,
    *,
    init: Any = "k-means++",
    n_init: int = ENGINE_SEEDS,
    max_iter: int = MAX_ITER,
    tol: float = TOL,
    random_state: int | None = None,
    sample_weight: np.ndarray | None = None,
    **_ignored: Any,
) -> KMeansResult:
    """Spark KMeans on an in-memory array (the engine protocol); best of ``n_init`` seeds."""
    if not isinstance(init, str):
        raise ConfigError("The spark engine starts from k-means|| only; init arrays are not used")
    spark = spark_session()
    from pyspark.ml.feature import VectorAssembler  # an optional extra (custseg[spark])

    X = np.asarray(X, dtype=float)
    columns = [f"{PREFIX}x{j}" for j in range(X.shape[1])]
    local = pd.DataFrame(X, columns=columns)
    local[f"{PREFIX}weight"] = 1.0 if sample_weight is None else np.asarray(sample_weight, float)
    with quiet_pandas():
        table = spark.createDataFrame(local)  # Arrow when enabled; row order is kept
    assembler = VectorAssembler(inputCols=columns, outputCol=FEATURES)
    frame = assembler.transform(table).select(FEATURES, f"{PREFIX}weight").cache()
    try:
        model, cost = best_kmeans(
            frame, n_clusters, draw_seeds(random_state, n_init), max_iter, tol, f"{PREFIX}weight"
        )
        labels = np.array([r[0] for r in model.transform(frame).select(PREDICTION).collect()])
        summary = model.summary
        return KMeansResult(np.array(model.clusterCenters()), labels, cost, summary.numIter)
    finally:
        frame.unpersist()


def draw_seeds(random_state: int | None, n: int) -> list[int]:
    """``n`` KMeans seeds drawn from ``random_state`` (fresh ones when it is not an int)."""
    rng = np.random.RandomState(random_state if isinstance(random_state, int) else None)
    return [int(s) for s in rng.randint(0, 2**31 - 1, size=n)]


def best_kmeans(
    frame: Any,
    k: int,
    seeds: Sequence[int],
    max_iter: int,
    tol: float,
    weight: str | None = None,
) -> tuple[Any, float]:
    """Fit Spark KMeans on ``frame``'s feature vectors once per seed; return the model with the
    lowest cost and that cost."""
    from pyspark.ml.clustering import KMeans  # an optional extra (custseg[spark])

    best, best_cost = None, np.inf
    for seed in seeds:
        kmeans = KMeans(
            k=k,
            initMode="k-means||",
            initSteps=INIT_STEPS,
            maxIter=max_iter,
            tol=tol,
            seed=seed,
            featuresCol=FEATURES,
            predictionCol=PREDICTION,
        )
        if weight is not None:
            kmeans.setWeightCol(weight)
        model = kmeans.fit(frame)
        cost = float(model.summary.trainingCost)
        if cost < best_cost:
            best, best_cost = model, cost
    return best, best_cost


def as_segmenter(model: Any, k: int, cost: float, **params: Any) -> tuple[Segmenter, np.ndarray]:
    """A fitted :class:`~custseg.Segmenter` holding a Spark KMeans model's centres in the stable
    order (largest segment first), and that order (``order[new_id]`` is Spark's cluster)."""
    centers = np.array(model.clusterCenters())
    order = stable_order(np.array(model.summary.clusterSizes), centers)
    segmenter = Segmenter(k, engine="spark", **params)
    segmenter.cluster_centers_ = centers[order]
    segmenter.inertia_ = cost
    segmenter.n_iter_ = int(model.summary.numIter)
    segmenter.n_features_in_ = centers.shape[1]
    return segmenter, order
