"""The k search at scale: Spark KMeans per candidate k on a seeded sample of a large table, the
four criteria computed in Spark, and the single-machine vote (:func:`~custseg.pipeline.search.
recommend`) on them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from custseg.pipeline.options import SegmentOptions
from custseg.pipeline.search import KChoice, candidates, recommend, too_few_rows
from custseg.segmentation import Progress
from custseg.spark.engine import as_segmenter, best_kmeans
from custseg.spark.features import FEATURES, PREDICTION


@dataclass
class SparkSearch:
    """The k search of a Spark run: the evidence, the k used, and the KMeans fits it made."""

    choice: KChoice
    k: int
    n_rows: int  # rows the candidates were compared on
    sampled: bool  # those rows are a seeded sample of the used rows
    fitted: dict[int, tuple[Any, float]]  # k -> Spark KMeans model and its cost on those rows


def search_k(
    vectors: Any,
    n_used: int,
    options: SegmentOptions,
    seeds: Sequence[int],
    *,
    max_iter: int,
    tol: float,
    silhouette_rows: int,
    progress: Progress,
) -> SparkSearch:
    """Compare the candidate k on ``vectors`` (``n_used`` rows of feature vectors), on a seeded
    sample of about ``options.k_search_rows`` rows when there are more (the single-machine
    rule), and settle on one."""
    from pyspark import StorageLevel  # an optional extra (custseg[spark])

    search, n_search = vectors, n_used
    try:
        if n_used > options.k_search_rows:
            search = vectors.sample(False, options.k_search_rows / n_used, options.seed)
            search = search.persist(StorageLevel.MEMORY_AND_DISK)
            n_search = search.count()
        ks = candidates(options, n_search)
        choice, fitted = _compare(
            search, ks, seeds, max_iter, tol, n_search, search is not vectors, silhouette_rows,
            options, progress,
        )  # fmt: skip
    finally:
        if search is not vectors:
            search.unpersist()
    k = choice.recommended if options.k == "auto" else options.k
    return SparkSearch(choice, k, n_search, search is not vectors, fitted)


def _compare(
    vectors: Any,
    ks: list[int],
    seeds: Sequence[int],
    max_iter: int,
    tol: float,
    n_rows: int,
    sampled: bool,
    silhouette_rows: int,
    options: SegmentOptions,
    progress: Progress,
) -> tuple[KChoice, dict[int, tuple[Any, float]]]:
    """Spark KMeans per k (best of seeds) and the same four criteria as the single machine, on
    ``vectors`` (``n_rows`` rows, a sample of the data when ``sampled``)."""
    from pyspark.ml.evaluation import ClusteringEvaluator  # an optional extra (custseg[spark])
    from pyspark.ml.stat import Summarizer
    from pyspark.sql import functions as F

    if not ks:
        return too_few_rows(), {}
    mean = np.array(vectors.select(Summarizer.mean(F.col(FEATURES))).first()[0].toArray())
    sample_size = n_rows if sampled else None
    scored = vectors
    if n_rows > silhouette_rows:
        scored = vectors.sample(False, silhouette_rows / n_rows, options.seed).cache()
        sample_size = scored.count()
    evaluator = ClusteringEvaluator(
        featuresCol=FEATURES,
        predictionCol=PREDICTION,
        metricName="silhouette",
        distanceMeasure="squaredEuclidean",
    )
    metrics, models, fitted = [], {}, {}
    try:
        for i, k in enumerate(ks):
            model, cost = best_kmeans(vectors, k, seeds, max_iter, tol)
            fitted[k] = (model, cost)
            centers = np.array(model.clusterCenters())
            sizes = np.array(model.summary.clusterSizes, dtype=float)
            row: dict[str, Any] = {"k": k, "inertia": cost}
            found = sizes > 0
            if found.sum() < 2:
                row.update(silhouette=None, calinski_harabasz=None, davies_bouldin=None)
            else:
                n_found = int(found.sum())
                extra = float(np.sum(sizes * np.sum((centers - mean) ** 2, axis=1)))
                ch = 1.0 if cost == 0 else extra * (n_rows - n_found) / (cost * (n_found - 1))
                row.update(
                    silhouette=_silhouette(evaluator, model, scored),
                    calinski_harabasz=float(ch),
                    davies_bouldin=_davies_bouldin(model, vectors, centers, found),
                )
            metrics.append(row)
            models[k], _ = as_segmenter(
                model, k, cost, n_init=len(seeds), random_state=options.seed
            )
            progress("choose k", i + 1, len(ks))
    finally:
        if scored is not vectors:
            scored.unpersist()
    return recommend(metrics, models, sample_size), fitted


def _silhouette(evaluator: Any, model: Any, scored: Any) -> float | None:
    try:
        return float(evaluator.evaluate(model.transform(scored)))
    except Exception:  # the sample fell into a single segment: no silhouette
        return None


def _distance_to_centre(centers: np.ndarray) -> Any:
    """Euclidean distance from each row's features to its predicted centre, in the JVM."""
    from pyspark.ml.functions import vector_to_array  # an optional extra (custseg[spark])
    from pyspark.sql import functions as F

    table = F.array(*[F.array(*[F.lit(float(v)) for v in c]) for c in centers])
    mine = F.element_at(table, F.col(PREDICTION) + 1)
    squares = F.zip_with(vector_to_array(F.col(FEATURES)), mine, lambda a, b: (a - b) * (a - b))
    return F.sqrt(F.aggregate(squares, F.lit(0.0), lambda acc, x: acc + x))


def _davies_bouldin(model: Any, vectors: Any, centers: np.ndarray, found: np.ndarray) -> float:
    """As scikit-learn's: mean over segments of the worst (s_i + s_j) / d(c_i, c_j)."""
    from pyspark.sql import functions as F  # an optional extra (custseg[spark])

    rows = (
        model.transform(vectors)
        .select(PREDICTION, _distance_to_centre(centers).alias("d"))
        .groupBy(PREDICTION)
        .agg(F.avg("d").alias("s"))
        .collect()
    )
    spread = np.zeros(len(centers))
    for r in rows:
        spread[r[PREDICTION]] = r["s"]
    idx = np.flatnonzero(found)
    c, s = centers[idx], spread[idx]
    gaps = np.sqrt(((c[:, None, :] - c[None, :, :]) ** 2).sum(axis=2))
    if np.allclose(s, 0) or np.allclose(gaps, 0):
        return 0.0
    gaps[gaps == 0] = np.inf
    combined = (s[:, None] + s[None, :]) / gaps
    np.fill_diagonal(combined, -np.inf)
    return float(np.mean(np.max(combined, axis=1)))
