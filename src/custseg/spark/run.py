"""A whole segmentation in Spark: :func:`segment_spark` and its :class:`SparkSegmentation`.

Spark reads and checks every row and learns the feature statistics with Spark ML. A seeded sample
(at most ``k_search_rows``) comes to the driver, where the single-machine search compares k; Spark
then fits the chosen k on every row starting from the sample's centres, profiles the segments
with Spark aggregations and keeps every row's segment in a lazy Spark DataFrame. Only small
results reach the driver: statistics, centres, metrics, profiles and random samples of rows.
The options, the k search and the profiling rules are the single-machine pipeline's own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from custseg.exceptions import DataError, OptionError
from custseg.features import FeaturePlan, feature_frame, plan_features
from custseg.model import Segmenter, stable_order
from custseg.pipeline.explain import load_rules
from custseg.pipeline.options import SegmentOptions
from custseg.read import Table, free_column_name, recognise_roles, set_roles, validate
from custseg.segmentation import Progress, Segmentation
from custseg.spark.checks import check_all_rows
from custseg.spark.failures import stage
from custseg.spark.features import FEATURES, SEGMENT, SparkFeatures, column
from custseg.spark.lloyd import feature_columns, lloyd, nearest
from custseg.spark.profile import MEDIAN_ERROR, check_rules, profiles
from custseg.spark.search import DRIVER_ENGINE, SparkSearch, search_on_driver
from custseg.spark.session import memory_note, quiet_pandas, spark_session
from custseg.spark.source import read_source

DRIVER_SAMPLE_ROWS = 20_000  # rows brought to the driver for roles, charts and the drift reference
MAX_ITER = 300  # Lloyd iterations of the final fit at most (scikit-learn's default)
TOL = 1e-4  # scikit-learn's: squared centre shift at most TOL x the features' mean variance


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
            _unpersist(frame)


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
        The k search runs on the driver with the single-machine code (``n_init`` restarts per
        k, as there); the engine is always ``"spark"``.
    table, query : str, optional
        A Spark table, or a Spark SQL query, instead of ``data``.
    master, conf : optional
        Spark master URL (``local[2]``, ``spark://host:7077``, ``yarn``) and extra settings, used
        when no session is active; or pass ``spark``, a ``SparkSession``.
    max_iter, tol : optional
        The final fit's iteration limit and tolerance (scikit-learn's rule: the centres' squared
        shift at most ``tol`` times the features' mean variance).
    sample_rows : int
        Rows (at most, about) brought to the driver for roles, charts and the drift reference.
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
    cached: list[Any] = []
    try:
        with stage("reading", spark):
            say("load data", 0, 1)
            source, name = read_source(spark, data, table=table, query=query)
            # Every later pass (checks, statistics, fit, profiles, writing) reads this copy,
            # not the file again; what does not fit in memory goes to local disk.
            source = source.persist(StorageLevel.MEMORY_AND_DISK)
            cached.append(source)
            total = source.count()
            if total == 0 or not source.columns:
                raise DataError(f"'{name}' has no rows; there are no customers to segment")
            sample = _driver_sample(source, total, sample_rows, options.seed)
            notes: list[str] = []
            roles = recognise_roles(sample, id_column=options.id_column, notes=notes)
            driver_table = Table(
                frame=sample, roles=roles, source=name, first_line=None, notes=notes
            )
            driver_table = set_roles(driver_table, options.roles)  # --role, as segment() applies it
            roles, notes = driver_table.roles, driver_table.notes
            plan = plan_features(
                driver_table, options.features, scale=options.scale, log=options.log,
                one_hot=options.one_hot,
            )  # fmt: skip
            rules = load_rules(options.rules)
            check_rules(rules)
            # Values over every row first (counts and examples for the whole data), then what
            # the sample can tell: roles that cannot be features, too few rows.
            missing_counts, n_used = check_all_rows(
                source, plan, roles, options.missing, total, name
            )
            validate(
                driver_table,
                plan.numeric,
                categorical=plan.categorical,
                n_clusters=options.k if options.k != "auto" else 2,
                missing="impute",
            )
            say("load data", 1, 1)

        with stage("features", spark):
            say("prepare features", 0, 1)
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
            preprocessor = sf.to_sklearn()
            n_features = len(preprocessor.get_feature_names_out())
            # The scaled features as plain columns, cached: the k search's sample is drawn
            # from them and every iteration of the final fit reads them.
            vectors, names = feature_columns(sf.transform(kept).select(FEATURES), n_features)
            vectors = vectors.persist(StorageLevel.MEMORY_AND_DISK)
            cached.append(vectors)
            say("prepare features", 1, 1)

        with stage("k search", spark):
            search = search_on_driver(vectors, names, n_used, options, plan.columns, say)
            k = search.k

        with stage("final fit", spark):
            say("fit segments", 0, 1)
            start = _start(search, options)
            fitted = lloyd(
                vectors, names, start, max_iter=max_iter, tol=tol, variance=search.variance
            )
            cached.remove(vectors)
            _unpersist(vectors)
            if int(np.sum(fitted.sizes > 0)) < k:
                raise DataError(
                    f"only {int(np.sum(fitted.sizes > 0))} of the {k} segments have customers; "
                    "the data has too few distinct customers for that many, so lower --k"
                )
            order = stable_order(fitted.sizes, fitted.centers)
            segmenter = Segmenter(
                k, n_init=options.n_init, max_iter=max_iter, tol=tol, random_state=options.seed,
                engine="spark",
            )  # fmt: skip
            segmenter.cluster_centers_ = fitted.centers[order]
            segmenter.inertia_ = fitted.inertia
            segmenter.n_iter_ = fitted.n_iter
            segmenter.n_features_in_ = start.shape[1]
            say("fit segments", 1, 1)

        with stage("profiles", spark):
            say("profile", 0, 2)
            assigned = _assign(sf.transform(prepared), names, segmenter.cluster_centers_, keep)
            gender_cols = [c for c, r in roles.items() if r == "gender"]
            found = profiles(assigned, plan, sf, roles, gender_cols[:1], k, rules)
            say("profile", 1, 2)
            output = _assignment_frame(assigned, source.columns, {p.id: p.name for p in found})
            labels, distances = _label_sample(
                sample, plan, preprocessor, segmenter, options.missing
            )
            segmenter.labels_ = labels[labels >= 0]
            for m in search.choice.models.values():
                m.labels_ = m.predict(
                    preprocessor.transform(feature_frame(sample[labels >= 0], plan))
                )
            say("profile", 2, 2)
            notes += list(plan.notes)
            if drop and n_used < total:
                notes.append(f"dropped {total - n_used} rows with missing feature values")
            notes += _spark_notes(spark, fitted.n_iter, search, len(sample), total, n_used)
    except BaseException:
        for frame in cached:
            _unpersist(frame)
        raise
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
        "rule_depth": options.rule_depth,  # as asked; a Spark run writes no rules yet
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
        cached=tuple(cached),
    )


def _start(search: SparkSearch, options: SegmentOptions) -> np.ndarray:
    """The final fit's starting centres: the k search's model for ``k`` when it fitted one,
    else a single-machine fit of ``k`` on the search's rows."""
    model = search.choice.models.get(search.k)
    if model is None:
        model = Segmenter(
            search.k, n_init=options.n_init, random_state=options.seed, engine=DRIVER_ENGINE
        ).fit(search.rows)
    return np.asarray(model.cluster_centers_, dtype=float)


def _assign(transformed: Any, names: list[str], centers: np.ndarray, keep: Any) -> Any:
    """``transformed`` (rows with their feature vector) plus each kept row's segment."""
    from pyspark.ml.functions import vector_to_array  # an optional extra (custseg[spark])
    from pyspark.sql import functions as F

    arr = vector_to_array(F.col(FEATURES))
    with_columns = transformed.select("*", *[arr[j].alias(n) for j, n in enumerate(names)])
    segment = nearest(names, centers).j
    return with_columns.withColumn(
        SEGMENT, F.when(keep, segment).otherwise(F.lit(None).cast("int"))
    )


def _unpersist(frame: Any) -> None:
    with suppress(Exception):  # the JVM is gone: nothing is cached any more
        frame.unpersist()


def _spark_options(options: SegmentOptions | None, settings: dict[str, Any]) -> SegmentOptions:
    """The run's options, always with the ``spark`` engine."""
    if settings.get("engine", "spark") != "spark":
        raise OptionError(
            "engine",
            f"{{option}} of a Spark run is 'spark', not {settings['engine']!r}; leave it out, "
            "or run the other engines with custseg.segment",
        )
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
    spark: Any, n_iter: int, search: SparkSearch, sample_size: int, total: int, n_used: int
) -> list[str]:
    notes = []
    memory = memory_note(spark)
    if memory:
        notes.append(memory)
    if search.sampled:
        notes.append(
            f"compared k on a seeded sample of {search.n_rows:,} of {n_used:,} rows (on one "
            f"machine, as the single-machine engine does), then fitted k={search.k} on every "
            f"row with Spark {spark.version}, starting from the sample's centres "
            f"({n_iter} iteration{'s' if n_iter != 1 else ''})"
        )
    else:
        notes.append(
            f"compared k on every row (on one machine), then fitted k={search.k} with Spark "
            f"{spark.version}"
        )
    if sample_size < total:
        notes.append(
            f"charts and the model's drift reference use a random sample of {sample_size:,} of "
            f"{total:,} rows; segment medians are approximate (within {MEDIAN_ERROR} of the "
            "rows' ranks)"
        )
    return notes
