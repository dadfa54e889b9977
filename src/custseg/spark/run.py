"""A whole segmentation in Spark: :func:`segment_spark` and its :class:`SparkSegmentation`.

Spark reads the data, builds the features with Spark ML, compares k (on a seeded sample of large
tables), fits the chosen k on every row, profiles the segments with Spark aggregations and keeps
every row's segment in a lazy Spark DataFrame. Only small results reach the driver: statistics,
centres, metrics, profiles and a random sample of rows for the report's charts. The options,
the k vote and the profiling rules are the single-machine pipeline's own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from custseg.exceptions import DataError, OptionError
from custseg.features import FeaturePlan, feature_frame, plan_features
from custseg.model import Segmenter
from custseg.pipeline.explain import load_rules
from custseg.pipeline.options import SegmentOptions
from custseg.read import Table, free_column_name, recognise_roles, set_roles, validate
from custseg.segmentation import Progress, Segmentation
from custseg.spark.checks import check_all_rows
from custseg.spark.engine import (
    DEFAULT_SEEDS,
    INIT_STEPS,
    MAX_ITER,
    TOL,
    as_segmenter,
    best_kmeans,
    draw_seeds,
)
from custseg.spark.features import FEATURES, PREDICTION, SEGMENT, SparkFeatures, column
from custseg.spark.profile import check_rules, profiles
from custseg.spark.search import SparkSearch, search_k
from custseg.spark.session import quiet_pandas, spark_session
from custseg.spark.source import read_source

DRIVER_SAMPLE_ROWS = 20_000  # rows brought to the driver for roles, charts and the drift reference
SILHOUETTE_ROWS = 50_000  # rows ClusteringEvaluator scores per k


@dataclass(frozen=True)
class SparkSegmentation(Segmentation):
    """A :class:`~custseg.Segmentation` computed by Spark.

    ``table`` holds a random sample of the rows (all of them for small data) with ``labels`` and
    ``distances`` for those rows; counts, missing values, metrics and profiles cover every row.
    ``spark_frame`` is the lazy Spark DataFrame of every input row plus ``segment`` and
    ``segment_name`` (write it with :meth:`write_assignments`).
    """

    total_rows: int = 0
    total_used: int = 0
    spark_frame: Any = field(default=None, compare=False, repr=False)
    cached: tuple = field(default=(), compare=False, repr=False)

    @property
    def n_rows(self) -> int:
        return self.total_rows

    @property
    def n_used(self) -> int:
        return self.total_used

    @property
    def sampled(self) -> bool:
        """Whether ``table`` holds a sample rather than every row."""
        return len(self.table.frame) < self.total_rows

    def write_assignments(self, path: str | Path, *, mode: str = "errorifexists") -> str:
        """Write every row with its segment as Parquet (by the executors); return the path."""
        target = str(path)
        self.spark_frame.write.mode(mode).parquet(target)
        return target

    def close(self) -> None:
        """Release the data Spark keeps cached for this result."""
        for frame in self.cached:
            frame.unpersist()


def segment_spark(
    data: Any = None,
    options: SegmentOptions | None = None,
    *,
    table: str | None = None,
    query: str | None = None,
    master: str | None = None,
    conf: Mapping[str, str] | None = None,
    spark: Any = None,
    max_iter: int = MAX_ITER,
    tol: float = TOL,
    sample_rows: int = DRIVER_SAMPLE_ROWS,
    silhouette_rows: int = SILHOUETTE_ROWS,
    progress: Progress | None = None,
    **settings: Any,
) -> SparkSegmentation:
    """Segment customers with Spark, end to end.

    Parameters
    ----------
    data : path, URI, Spark table name, DataFrame or None
        Parquet/CSV/JSON/ORC file or folder (local or ``hdfs://``, ``s3a://``, ...), a Spark
        table, a pandas DataFrame, or ``None`` for the built-in sample.
    options : SegmentOptions, optional
        What the run is told, as for :func:`custseg.segment`; any of its fields may also be
        passed by name (``k=5``, ``features="income,spending"``), overriding ``options``.
        ``n_init`` counts Spark KMeans runs (seeds) per k, the lowest cost kept; it is
        ``DEFAULT_SEEDS`` (3) when neither ``options`` nor ``n_init`` is given. The engine is
        always ``"spark"``.
    table, query : str, optional
        A Spark table, or a Spark SQL query, instead of ``data``.
    master, conf : optional
        Spark master URL (``local[2]``, ``spark://host:7077``, ``yarn``) and extra settings, used
        when no session is active; or pass ``spark``, a ``SparkSession``.
    max_iter, tol : optional
        Spark KMeans' iteration limit and convergence tolerance (in scaled units).
    sample_rows : int
        Rows (at most, about) brought to the driver for roles, charts and the drift reference.
    silhouette_rows : int
        Rows Spark's ``ClusteringEvaluator`` scores per k.
    progress : callable(step, done, total), optional
        Progress callback, e.g. for a progress bar.

    Returns
    -------
    SparkSegmentation
    """
    options = _spark_options(options, settings)  # a bad option fails before Spark starts
    spark = spark or spark_session(master, conf)  # says which extra installs PySpark
    from pyspark import StorageLevel  # an optional extra (custseg[spark])
    from pyspark.sql import functions as F

    say = progress or (lambda *_: None)
    say("load data", 0, 1)
    source, name = read_source(spark, data, table=table, query=query)
    total = source.count()
    if total == 0 or not source.columns:
        raise DataError(f"'{name}' has no rows; there are no customers to segment")
    sample = _driver_sample(source, total, sample_rows, options.seed)
    notes: list[str] = []
    roles = recognise_roles(sample, id_column=options.id_column, notes=notes)
    driver_table = Table(frame=sample, roles=roles, source=name, first_line=None, notes=notes)
    driver_table = set_roles(driver_table, options.roles)  # --role, as segment() applies it
    roles, notes = driver_table.roles, driver_table.notes
    plan = plan_features(
        driver_table, options.features, scale=options.scale, log=options.log,
        one_hot=options.one_hot,
    )  # fmt: skip
    rules = load_rules(options.rules)
    check_rules(rules)
    # Values over every row first (counts and examples for the whole data), then what the
    # sample can tell: roles that cannot be features, too few rows.
    missing_counts, n_used = check_all_rows(source, plan, roles, options.missing, total, name)
    validate(
        driver_table,
        plan.numeric,
        categorical=plan.categorical,
        n_clusters=options.k if options.k != "auto" else 2,
        missing="impute",
    )
    say("load data", 1, 1)

    sf = SparkFeatures.for_plan(plan)
    prepared = sf.prepare(source)
    keep = F.lit(True)
    drop = options.missing == "drop"
    if drop:
        for r in sf.raw:
            keep = keep & column(r).isNotNull()
    kept = prepared.where(keep) if drop else prepared
    if sf.cats:
        prepared = sf.learn_modes(kept).prepare(source)
        kept = prepared.where(keep) if drop else prepared
    sf.fit(kept)
    vectors = sf.transform(kept).select(FEATURES).persist(StorageLevel.MEMORY_AND_DISK)
    seeds = draw_seeds(options.seed, options.n_init)
    try:
        search = search_k(
            vectors, n_used, options, seeds, max_iter=max_iter, tol=tol,
            silhouette_rows=silhouette_rows, progress=say,
        )  # fmt: skip
        k = search.k
        if not search.sampled and k in search.fitted:
            model, cost = search.fitted[k]
        else:
            say("fit segments", 0, 1)
            model, cost = best_kmeans(vectors, k, seeds, max_iter, tol)
            say("fit segments", 1, 1)
    finally:
        vectors.unpersist()
    n_centers = len(model.clusterCenters())
    if n_centers < k:
        raise DataError(
            f"Spark found only {n_centers} distinct centres for {k} segments; the data has "
            "too few distinct customers for that many, so lower --k"
        )
    segmenter, order = as_segmenter(
        model, k, cost, n_init=options.n_init, max_iter=max_iter, tol=tol,
        random_state=options.seed,
    )  # fmt: skip
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    preprocessor = sf.to_sklearn()

    say("profile", 0, 2)
    segment_id = F.element_at(F.array(*[F.lit(int(r)) for r in rank]), F.col(PREDICTION) + 1)
    assigned = model.transform(sf.transform(prepared)).withColumn(
        SEGMENT, F.when(keep, segment_id).otherwise(F.lit(None).cast("int"))
    )
    assigned = assigned.persist(StorageLevel.MEMORY_AND_DISK)
    gender_cols = [c for c, r in roles.items() if r == "gender"]
    found = profiles(assigned, plan, sf, roles, gender_cols[:1], k, rules)
    say("profile", 1, 2)
    output = _assignment_frame(assigned, source.columns, {p.id: p.name for p in found})

    labels, distances = _label_sample(sample, plan, preprocessor, segmenter, options.missing)
    segmenter.labels_ = labels[labels >= 0]
    for m in search.choice.models.values():
        m.labels_ = m.predict(preprocessor.transform(feature_frame(sample[labels >= 0], plan)))
    say("profile", 2, 2)
    notes += list(plan.notes)
    if drop and n_used < total:
        notes.append(f"dropped {total - n_used} rows with missing feature values")
    notes += _spark_notes(spark, options.n_init, search, len(sample), total, n_used)
    params = {
        "k": k,
        "k_range": search.choice.ks,
        "scale": options.scale,
        "n_init": options.n_init,
        "seed": options.seed,
        "engine": options.engine,
        "missing": options.missing,
        "rules": str(options.rules) if options.rules else "built-in",
        "k_search_rows": search.n_rows,
        "k_search_seed": options.seed,
        "dtype": "float64",
    }
    return SparkSegmentation(
        table=driver_table,
        plan=plan,
        preprocessor=preprocessor,
        model=segmenter,
        labels=labels,
        distances=distances,
        k_choice=search.choice,
        profiles=found,
        missing=missing_counts,
        missing_policy=options.missing,
        params=params,
        notes=notes,
        options=options,
        total_rows=total,
        total_used=n_used,
        spark_frame=output,
        cached=(assigned,),
    )


def _spark_options(options: SegmentOptions | None, settings: dict[str, Any]) -> SegmentOptions:
    """The run's options, with Spark's defaults: ``DEFAULT_SEEDS`` seeds per k unless told
    otherwise, and always the ``spark`` engine."""
    if settings.get("engine", "spark") != "spark":
        raise OptionError(
            "engine",
            f"{{option}} of a Spark run is 'spark', not {settings['engine']!r}; leave it out, "
            "or run the other engines with custseg.segment",
        )
    if options is None and "n_init" not in settings:
        settings = {**settings, "n_init": DEFAULT_SEEDS}
    options = SegmentOptions.build(options, **settings).replace(engine="spark")
    if options.tenure:  # the days-since column would have to be computed in Spark
        raise OptionError(
            "tenure", "{option} is not available with the Spark engine; add the days as a column"
        )
    return options


def _driver_sample(source: Any, total: int, rows: int, seed: int) -> pd.DataFrame:
    """Every row when there are at most ``rows``, else a seeded Bernoulli sample of ~``rows``."""
    frame = source if total <= rows else source.sample(False, rows / total, seed)
    with quiet_pandas():
        sample = frame.toPandas()
    if len(sample) == 0:
        with quiet_pandas():
            sample = source.limit(rows).toPandas()
    return sample


def _assignment_frame(assigned: Any, originals: Sequence[str], names: dict[int, str]) -> Any:
    """Every input column untouched, plus ``segment`` and ``segment_name`` (as segments.csv)."""
    from pyspark.sql import functions as F  # an optional extra (custseg[spark])

    seg_col = free_column_name(originals, "segment")
    name_col = free_column_name([*originals, seg_col], "segment_name")
    lookup = F.array(*[F.lit(names[i]) for i in range(len(names))])
    return assigned.select(
        *[column(c) for c in originals],
        F.col(SEGMENT).alias(seg_col),
        F.when(F.col(SEGMENT).isNotNull(), F.element_at(lookup, F.col(SEGMENT) + 1)).alias(
            name_col
        ),
    )


def _label_sample(
    sample: pd.DataFrame,
    plan: FeaturePlan,
    preprocessor: Any,
    segmenter: Segmenter,
    missing: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Segments of the driver's sample rows, computed by the scikit-learn twin."""
    X = feature_frame(sample, plan)
    labels = np.full(len(sample), -1, dtype=int)
    distances = np.full(len(sample), np.nan)
    keep = X[list(plan.numeric)].notna().all(axis=1).to_numpy() if missing == "drop" else None
    rows = X if keep is None else X.loc[keep]
    if len(rows):
        found, dist = segmenter.distances(preprocessor.transform(rows))
        if keep is None:
            labels[:], distances[:] = found, dist
        else:
            labels[keep], distances[keep] = found, dist
    return labels, distances


def _spark_notes(
    spark: Any, n_init: int, search: SparkSearch, sample_size: int, total: int, n_used: int
) -> list[str]:
    master = spark.sparkContext.master
    seeds = f"best of {n_init} seed{'s' if n_init > 1 else ''}"
    notes = [
        f"fitted with Spark {spark.version} ({master}): k-means|| with initSteps={INIT_STEPS}, "
        f"{seeds} per k"
    ]
    choice = search.choice
    if choice.metrics:
        where = (
            f"a random sample of {choice.silhouette_sample:,} rows"
            if choice.silhouette_sample
            else "all rows"
        )
        notes.append(
            f"silhouette by Spark's ClusteringEvaluator (squared Euclidean distance) on {where}"
        )
    if sample_size < total:
        notes.append(
            f"charts and the model's drift reference use a random sample of {sample_size:,} of "
            f"{total:,} rows; segment medians are approximate (percentile_approx)"
        )
    if search.n_rows < n_used:
        notes.append(
            f"compared k on a seeded sample of {search.n_rows:,} of {n_used:,} rows, then fitted "
            f"k={search.k} on every row ({seeds})"
        )
    return notes
