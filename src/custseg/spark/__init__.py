"""The Spark engine: segment customers that do not fit on one machine.

:func:`segment_spark` runs the whole segmentation in Spark: it reads Parquet/CSV (files, folders,
any Hadoop URI) or a Spark table, builds the features with Spark ML, compares k with Spark's
``KMeans`` (``k-means||`` with ``initSteps=5``, best of several seeds per k; on a seeded sample
of large tables, then the chosen k on every row), profiles the
segments with Spark aggregations and writes the assignments as Parquet from the executors. Only
small results reach the driver: statistics, centres, metrics, profiles and a random sample of
rows for the report's charts.

The result is a :class:`SparkSegmentation`, a :class:`~custseg.Segmentation` whose preprocessor and
``Segmenter`` are the scikit-learn ones carrying Spark's learned statistics and centres, so the
summary, the report and the model file are the single-machine ones, and ``custseg predict``
scores with a model fitted on Spark.

This module also provides the engine protocol's ``fit(X, n_clusters, ...)`` for in-memory arrays
(``Segmenter(engine="spark")``).
"""

from __future__ import annotations

import os
import re
import shutil
import warnings
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from custseg.engines import KMeansResult
from custseg.exceptions import ConfigError, CustsegError, DataError, SourceError, require
from custseg.features import FeaturePlan, feature_frame, plan_features
from custseg.model import Segmenter, stable_order
from custseg.pipeline.explain import load_rules, profiles_from_stats
from custseg.pipeline.options import K_SEARCH_ROWS
from custseg.pipeline.search import KChoice, parse_k_range, recommend
from custseg.read import (
    NUMERIC_ROLES,
    Table,
    free_column_name,
    recognise_roles,
    role_from_name,
    sniff_delimiter,
    validate,
)
from custseg.segmentation import Segmentation
from custseg.spark.features import FEATURES, PREFIX, SparkFeatures, column, quoted

INIT_STEPS = 5  # k-means|| rounds; Spark's default of 2 often ends in a worse local minimum
DEFAULT_SEEDS = 3  # KMeans runs per k, the best (lowest cost) kept
MAX_ITER = 300
TOL = 1e-4  # centres move less than this (in scaled units) -> converged
DRIVER_SAMPLE_ROWS = 20_000  # rows brought to the driver for roles, charts and the drift reference
SILHOUETTE_ROWS = 50_000  # rows ClusteringEvaluator scores per k
PREDICTION = f"{PREFIX}pred"
SEGMENT = f"{PREFIX}segment"
LOCAL_SHUFFLE_PARTITIONS = "8"

Progress = Callable[[str, int, int], None]


# ---------------------------------------------------------------- session


def _pyspark():
    return require("pyspark", "spark")


@contextmanager
def quiet_pandas():
    """PySpark warns on every pandas conversion under pandas 3; the conversions used here work."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*PySpark does not yet fully support pandas")
        warnings.filterwarnings("ignore", category=FutureWarning, module="pyspark")
        yield


def active_session():
    """The running Spark session, if any (``None`` without one)."""
    _pyspark()
    from pyspark.sql import SparkSession

    return SparkSession.getActiveSession()


def is_local(master: str | None) -> bool:
    return master is None or master.startswith("local")


def spark_session(master: str | None = None, conf: Mapping[str, str] | None = None):
    """The active Spark session, or a new one on ``master`` (``local[*]`` when not given).

    ``conf`` adds Spark settings (``spark.executor.memory`` ...). Local sessions get a small
    number of shuffle partitions and no console progress bars.
    """
    _pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and master is None and not conf:
        return active
    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        raise ConfigError(
            "Spark needs Java 17 or later and none was found (no java on PATH, JAVA_HOME "
            "unset); install it, e.g. apt-get install openjdk-17-jre-headless"
        )
    settings = {"spark.ui.showConsoleProgress": "false"}
    if is_local(master):
        settings["spark.sql.shuffle.partitions"] = LOCAL_SHUFFLE_PARTITIONS
    settings.update(conf or {})
    builder = SparkSession.builder.appName("custseg")
    if master:
        builder = builder.master(master)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        with quiet_pandas():
            spark = builder.getOrCreate()
    except Exception as exc:
        text = " ".join(str(exc).split())[:300]
        raise ConfigError(
            f"Could not start Spark{f' on {master!r}' if master else ''}: {text}; check "
            "--spark-master and that Java 17+ is installed"
        ) from exc
    spark.sparkContext.setLogLevel("ERROR")
    return spark


# ---------------------------------------------------------------- engine protocol


def fit(
    X: np.ndarray,
    n_clusters: int,
    *,
    init="k-means++",
    n_init: int = DEFAULT_SEEDS,
    max_iter: int = MAX_ITER,
    tol: float = TOL,
    random_state=None,
    sample_weight=None,
    **_ignored,
) -> KMeansResult:
    """Spark KMeans on an in-memory array (the engine protocol); best of ``n_init`` seeds."""
    if not isinstance(init, str):
        raise ConfigError("The spark engine starts from k-means|| only; init arrays are not used")
    from pyspark.ml.feature import VectorAssembler

    spark = spark_session()
    X = np.asarray(X, dtype=float)
    columns = [f"{PREFIX}x{j}" for j in range(X.shape[1])]
    local = pd.DataFrame(X, columns=columns)
    local[f"{PREFIX}weight"] = 1.0 if sample_weight is None else np.asarray(sample_weight, float)
    with quiet_pandas():
        table = spark.createDataFrame(local)  # Arrow when enabled; row order is kept
    assembler = VectorAssembler(inputCols=columns, outputCol=FEATURES)
    frame = assembler.transform(table).select(FEATURES, f"{PREFIX}weight").cache()
    try:
        model, cost = _best_kmeans(
            frame, n_clusters, _seeds(random_state, n_init), max_iter, tol, f"{PREFIX}weight"
        )
        labels = np.array([r[0] for r in model.transform(frame).select(PREDICTION).collect()])
        summary = model.summary
        return KMeansResult(np.array(model.clusterCenters()), labels, cost, summary.numIter)
    finally:
        frame.unpersist()


def _seeds(random_state, n: int) -> list[int]:
    rng = np.random.RandomState(random_state if isinstance(random_state, int) else None)
    return [int(s) for s in rng.randint(0, 2**31 - 1, size=n)]


def _best_kmeans(frame, k: int, seeds: Sequence[int], max_iter: int, tol: float, weight=None):
    """Fit Spark KMeans once per seed; return the model with the lowest cost and that cost."""
    from pyspark.ml.clustering import KMeans

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


# ---------------------------------------------------------------- reading

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_TABLE_NAME = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*){0,2}$")
_FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet"}
_FORMATS |= {".json": "json", ".jsonl": "json", ".ndjson": "json", ".orc": "orc"}


def read_source(spark, source=None, *, table: str | None = None, query: str | None = None):
    """A Spark DataFrame and its display name from a path/URI, a Spark table, a Spark SQL query,
    a pandas DataFrame, a :class:`~custseg.read.Table`, or ``None`` (the built-in sample)."""
    from custseg.read.sql import is_database_url

    if query is not None:
        return _spark_call(lambda: spark.sql(query), "the Spark SQL query"), "Spark SQL query"
    if table is not None:
        return _read_table(spark, table), f"Spark table {table}"
    if source is None:
        from custseg.datasets import sample_customers

        source = sample_customers()
    if isinstance(source, Table):
        source = source.frame
    if isinstance(source, pd.DataFrame):
        with quiet_pandas():
            return spark.createDataFrame(source), "DataFrame"
    text = str(source)
    if is_database_url(text):
        raise ConfigError(
            "--engine spark reads Parquet/CSV files and Spark tables, not database URLs; read the "
            "database with the single-machine engine, or register it as a Spark (JDBC) table"
        )
    remote = bool(_SCHEME.match(text)) and not text.startswith("file:")
    if not remote:
        path = Path(text.removeprefix("file://").removeprefix("file:"))
        if not path.exists():
            if _TABLE_NAME.match(text) and _table_exists(spark, text):
                return _read_table(spark, text), f"Spark table {text}"
            raise SourceError(f"No such file, folder or Spark table: {text!r}; check the path")
        fmt = _local_format(path)
    else:
        fmt = _FORMATS.get(Path(text.rstrip("/")).suffix.lower(), "parquet")
    return _spark_call(lambda: _read_files(spark, text, fmt), f"'{text}' as {fmt}"), text


def _spark_call(read, what: str):
    try:
        return read()
    except CustsegError:
        raise
    except Exception as exc:  # AnalysisException and friends
        text = " ".join(str(exc).split())[:300]
        raise SourceError(f"Spark could not read {what}: {text}") from exc


def _table_exists(spark, name: str) -> bool:
    try:
        return bool(spark.catalog.tableExists(name))
    except Exception:
        return False


def _read_table(spark, name: str):
    if not _table_exists(spark, name):
        raise SourceError(f"There is no Spark table {name!r}; check the name (db.table)")
    return spark.table(name)


def _local_format(path: Path) -> str:
    if path.is_file():
        fmt = _FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise SourceError(
                f"'{path}': --engine spark reads Parquet, CSV, JSON lines and ORC; convert "
                f"{path.suffix or 'this file'} or use the single-machine engine"
            )
        return fmt
    found = {
        _FORMATS[p.suffix.lower()]
        for p in path.rglob("*")
        if p.is_file() and p.suffix.lower() in _FORMATS and not p.name.startswith(("_", "."))
    }
    if len(found) != 1:
        what = "no data files" if not found else f"mixed formats ({', '.join(sorted(found))})"
        raise SourceError(f"Folder '{path}' holds {what}; point at Parquet or CSV files")
    return found.pop()


def _read_files(spark, path: str, fmt: str):
    if fmt != "csv":
        return spark.read.format(fmt).load(path)
    delimiter = ","
    local = Path(path.removeprefix("file://").removeprefix("file:"))
    first = local if local.is_file() else next(iter(sorted(local.rglob("*.[ct]sv"))), None)
    if first is not None and first.exists():
        with open(first, encoding="utf-8", errors="replace") as fh:
            delimiter = sniff_delimiter(fh.read(1 << 16), default=",")
    options = {"header": "true", "sep": delimiter, "ignoreLeadingWhiteSpace": "true"}
    inferred = spark.read.options(inferSchema="true", **options).csv(path)
    # Ids and genders stay text, as the single-machine reader keeps them ("0001" stays "0001").
    from pyspark.sql import types as T

    fields = [
        T.StructField(f.name, T.StringType(), True)
        if role_from_name(f.name) in ("id", "gender")
        else f
        for f in inferred.schema.fields
    ]
    return spark.read.options(**options).schema(T.StructType(fields)).csv(path)


# ---------------------------------------------------------------- the result


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


# ---------------------------------------------------------------- the run


def segment_spark(
    data=None,
    *,
    features: Sequence[str] | str | None = None,
    k: int | str = "auto",
    k_range: str | Sequence[int] | None = None,
    scale: str = "standard",
    log: bool | str | Sequence[str] | None = None,
    one_hot: Sequence[str] | str | None = None,
    missing: str = "impute",
    id_column: str | None = None,
    n_init: int = DEFAULT_SEEDS,
    seed: int = 0,
    max_iter: int = MAX_ITER,
    tol: float = TOL,
    rules: str | Path | None = None,
    table: str | None = None,
    query: str | None = None,
    master: str | None = None,
    conf: Mapping[str, str] | None = None,
    spark=None,
    sample_rows: int = DRIVER_SAMPLE_ROWS,
    silhouette_rows: int = SILHOUETTE_ROWS,
    k_search_rows: int = K_SEARCH_ROWS,
    progress: Progress | None = None,
) -> SparkSegmentation:
    """Segment customers with Spark, end to end; the options mean what they mean in
    :func:`custseg.segment`.

    Parameters
    ----------
    data : path, URI, Spark table name, DataFrame or None
        Parquet/CSV/JSON/ORC file or folder (local or ``hdfs://``, ``s3a://``, ...), a Spark
        table, a pandas DataFrame, or ``None`` for the built-in sample.
    table, query : str, optional
        A Spark table, or a Spark SQL query, instead of ``data``.
    n_init : int
        Spark KMeans runs (seeds) per k; the lowest cost is kept.
    master, conf : optional
        Spark master URL (``local[2]``, ``spark://host:7077``, ``yarn``) and extra settings, used
        when no session is active; or pass ``spark``, a ``SparkSession``.
    sample_rows : int
        Rows (at most, about) brought to the driver for roles, charts and the drift reference.
    silhouette_rows : int
        Rows Spark's ``ClusteringEvaluator`` scores per k.
    k_search_rows : int
        Larger tables compare candidate k on a seeded sample of about this many rows (the
        single-machine rule), then fit the chosen k on every row.
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    say = progress or (lambda *_: None)
    spark = spark or spark_session(master, conf)
    say("load data", 0, 1)
    source, name = read_source(spark, data, table=table, query=query)
    total = source.count()
    if total == 0 or not source.columns:
        raise DataError(f"'{name}' has no rows; there are no customers to segment")
    sample = _driver_sample(source, total, sample_rows, seed)
    notes: list[str] = []
    roles = recognise_roles(sample, id_column=id_column, notes=notes)
    driver_table = Table(frame=sample, roles=roles, source=name, first_line=None, notes=notes)
    plan = plan_features(driver_table, features, scale=scale, log=log, one_hot=one_hot)
    k = _check_k(k)
    rule_set = load_rules(rules)
    if rule_set["levels"].get("basis", "mean") != "mean":
        raise ConfigError(
            "--engine spark levels segments by their means; rules with [levels] basis = "
            f"{rule_set['levels']['basis']!r} need the single-machine engine"
        )
    # Values over every row first (counts and examples for the whole data), then what the
    # sample can tell: roles that cannot be features, too few rows.
    missing_counts, n_used = _check_all_rows(source, plan, roles, missing, total, name)
    validate(
        driver_table,
        plan.numeric,
        categorical=plan.categorical,
        n_clusters=k if k != "auto" else 2,
        missing="impute",
    )
    say("load data", 1, 1)

    sf = SparkFeatures.for_plan(plan)
    prepared = sf.prepare(source)
    keep = F.lit(True)
    if missing == "drop":
        for r in sf.raw:
            keep = keep & column(r).isNotNull()
    kept = prepared.where(keep) if missing == "drop" else prepared
    if sf.cats:
        prepared = sf.learn_modes(kept).prepare(source)
        kept = prepared.where(keep) if missing == "drop" else prepared
    sf.fit(kept)
    vectors = sf.transform(kept).select(FEATURES).persist(StorageLevel.MEMORY_AND_DISK)
    search, n_search = vectors, n_used
    try:
        # The scale rule: candidate k are compared on a seeded sample of large tables, then the
        # chosen k is fitted on every row.
        if n_used > k_search_rows:
            search = vectors.sample(False, k_search_rows / n_used, seed)
            search = search.persist(StorageLevel.MEMORY_AND_DISK)
            n_search = search.count()
        ks = parse_k_range(k_range, n_search) if n_search > 2 else []
        if k != "auto" and k not in ks and k > 1:
            ks = sorted({*ks, k})
        seeds = _seeds(seed, n_init)
        choice, fitted = _choose_k(
            search, ks, seeds, max_iter, tol, n_search, search is not vectors, silhouette_rows,
            seed, say,
        )  # fmt: skip
        if k == "auto":
            k = choice.recommended
        if search is vectors and k in fitted:
            model, cost = fitted[k]
        else:
            say("fit segments", 0, 1)
            model, cost = _best_kmeans(vectors, k, seeds, max_iter, tol)
            say("fit segments", 1, 1)
    finally:
        if search is not vectors:
            search.unpersist()
        vectors.unpersist()
    centers = np.array(model.clusterCenters())
    if len(centers) < k:
        raise DataError(
            f"Spark found only {len(centers)} distinct centres for {k} segments; the data has "
            "too few distinct customers for that many, so lower --k"
        )
    sizes = np.array(model.summary.clusterSizes)
    order = stable_order(sizes, centers)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))

    preprocessor = sf.to_sklearn()
    segmenter = Segmenter(
        k, n_init=n_init, max_iter=max_iter, tol=tol, random_state=seed, engine="spark"
    )
    segmenter.cluster_centers_ = centers[order]
    segmenter.inertia_ = cost
    segmenter.n_iter_ = int(model.summary.numIter)
    segmenter.n_features_in_ = centers.shape[1]

    say("profile", 0, 2)
    segment_id = F.element_at(F.array(*[F.lit(int(r)) for r in rank]), F.col(PREDICTION) + 1)
    assigned = model.transform(sf.transform(prepared)).withColumn(
        SEGMENT, F.when(keep, segment_id).otherwise(F.lit(None).cast("int"))
    )
    assigned = assigned.persist(StorageLevel.MEMORY_AND_DISK)
    gender_cols = [c for c, r in roles.items() if r == "gender"]
    profiles = _profiles(assigned, plan, sf, roles, gender_cols[:1], k, rule_set)
    say("profile", 1, 2)
    names = {p.id: p.name for p in profiles}
    output = _assignment_frame(assigned, source.columns, names)

    labels, distances = _label_sample(sample, plan, preprocessor, segmenter, missing)
    segmenter.labels_ = labels[labels >= 0]
    for m in choice.models.values():
        m.labels_ = m.predict(preprocessor.transform(feature_frame(sample[labels >= 0], plan)))
    say("profile", 2, 2)
    notes += list(plan.notes)
    if missing == "drop" and n_used < total:
        notes.append(f"dropped {total - n_used} rows with missing feature values")
    notes += _spark_notes(spark, n_init, choice, len(sample), total)
    if n_search < n_used:
        notes.append(
            f"compared k on a seeded sample of {n_search:,} of {n_used:,} rows, then fitted k={k} "
            f"on every row (best of {n_init} seed{'s' if n_init > 1 else ''})"
        )
    params = {
        "k": k,
        "k_range": choice.ks,
        "scale": scale,
        "n_init": n_init,
        "seed": seed,
        "engine": "spark",
        "missing": missing,
        "rules": str(rules) if rules else "built-in",
        "k_search_rows": n_search,
        "k_search_seed": seed,
        "dtype": "float64",
    }
    return SparkSegmentation(
        table=driver_table,
        plan=plan,
        preprocessor=preprocessor,
        model=segmenter,
        labels=labels,
        distances=distances,
        k_choice=choice,
        profiles=profiles,
        missing=missing_counts,
        missing_policy=missing,
        params=params,
        notes=notes,
        total_rows=total,
        total_used=n_used,
        spark_frame=output,
        cached=(assigned,),
    )


def _check_k(k):
    if k == "auto":
        return k
    try:
        k = int(k)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"--k must be 'auto' or a whole number, not {k!r}") from exc
    if k < 1:
        raise ConfigError(f"--k must be at least 1, got {k}")
    return k


def _driver_sample(source, total: int, rows: int, seed: int) -> pd.DataFrame:
    """Every row when there are at most ``rows``, else a seeded Bernoulli sample of ~``rows``."""
    frame = source if total <= rows else source.sample(False, rows / total, seed)
    with quiet_pandas():
        sample = frame.toPandas()
    if len(sample) == 0:
        with quiet_pandas():
            sample = source.limit(rows).toPandas()
    return sample


def _check_all_rows(source, plan: FeaturePlan, roles, missing: str, total: int, name: str):
    """Missing, non-numeric and infinite values over every row, and duplicated ids: one pass."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    types = {f.name: f.dataType for f in source.schema.fields}
    aggs, problems = [], []
    numeric = [c for c in plan.numeric if roles[c] in NUMERIC_ROLES]  # others: validate says why
    for i, c in enumerate(plan.numeric):
        if c not in numeric:
            aggs += [F.lit(0).alias(f"{what}{i}") for what in ("missing", "bad", "inf")]
            aggs.append(F.lit(None).alias(f"example{i}"))
            continue
        raw = column(c)
        text = isinstance(types[c], T.StringType)
        value = F.expr(f"try_cast(trim({quoted(c)}) AS DOUBLE)") if text else raw.cast("double")
        absent = raw.isNull()
        if text:
            absent = absent | (F.trim(raw) == "")
        elif isinstance(types[c], T.FloatType | T.DoubleType):
            absent = absent | F.isnan(raw)
        bad = ~absent & value.isNull()
        infinite = value.isin(float("inf"), float("-inf"))
        aggs += [
            F.sum(absent.cast("long")).alias(f"missing{i}"),
            F.sum(bad.cast("long")).alias(f"bad{i}"),
            F.sum(infinite.cast("long")).alias(f"inf{i}"),
            F.first(F.when(bad, raw), ignorenulls=True).alias(f"example{i}"),
        ]
    absent_any = F.lit(False)
    for c in numeric:
        absent_any = absent_any | numeric_missing(c, types[c])
    aggs.append(F.sum(absent_any.cast("long")).alias("rows_missing"))
    row = source.agg(*aggs).first()
    counts = {}
    for i, c in enumerate(plan.numeric):
        counts[c] = int(row[f"missing{i}"] or 0)
        if row[f"bad{i}"]:
            n = int(row[f"bad{i}"])
            problems.append(
                f"Column {c!r} has {n} non-numeric value{'s' if n > 1 else ''} (e.g. "
                f"{row[f'example{i}']!r}); clean them or leave the column out of --features"
            )
        if row[f"inf{i}"]:
            n = int(row[f"inf{i}"])
            problems.append(
                f"Column {c!r} has {n} infinite value{'s' if n > 1 else ''}; replace them with "
                "real numbers or leave them empty"
            )
        if counts[c] and missing == "error":
            problems.append(
                f"Column {c!r} has {counts[c]} missing value{'s' if counts[c] > 1 else ''}; "
                "fill them, or use --missing impute or --missing drop"
            )
    id_col = next((c for c, r in roles.items() if r == "id"), None)
    if id_col is not None:
        dupes = (
            source.where(column(id_col).isNotNull())
            .groupBy(column(id_col))
            .count()
            .where(F.col("count") > 1)
            .limit(3)
            .collect()
        )
        if dupes:
            shown = ", ".join(repr(d[0]) for d in dupes)
            problems.append(
                f"Id column {id_col!r} has duplicated ids (e.g. {shown}); remove the duplicates "
                "or name a unique column with --id-column (or --id-column none)"
            )
    n_used = total - int(row["rows_missing"] or 0) if missing == "drop" else total
    if missing == "drop" and n_used < 1:
        problems.append(f"Every row of '{name}' misses a feature value; nothing is left to segment")
    if problems:
        raise DataError(problems)
    return counts, n_used


def numeric_missing(name: str, dtype):
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    raw = column(name)
    if isinstance(dtype, T.StringType):
        return raw.isNull() | (F.trim(raw) == "")
    if isinstance(dtype, T.FloatType | T.DoubleType):
        return raw.isNull() | F.isnan(raw)
    return raw.isNull()


def _choose_k(vectors, ks, seeds, max_iter, tol, n_rows, sampled, silhouette_rows, seed, say):
    """Spark KMeans per k (best of seeds) and the same four criteria as the single machine, on
    ``vectors`` (``n_rows`` rows, a sample of the data when ``sampled``)."""
    from pyspark.ml.evaluation import ClusteringEvaluator
    from pyspark.ml.stat import Summarizer
    from pyspark.sql import functions as F

    if not ks:
        return KChoice([], 1, "too few rows to compare numbers of segments", {}), {}
    mean = np.array(vectors.select(Summarizer.mean(F.col(FEATURES))).first()[0].toArray())
    sample_size = n_rows if sampled else None
    scored = vectors
    if n_rows > silhouette_rows:
        scored = vectors.sample(False, silhouette_rows / n_rows, seed).cache()
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
            model, cost = _best_kmeans(vectors, k, seeds, max_iter, tol)
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
            order = stable_order(sizes.astype(int), centers)
            segmenter = Segmenter(k, n_init=len(seeds), random_state=seed, engine="spark")
            segmenter.cluster_centers_ = centers[order]
            segmenter.inertia_ = cost
            segmenter.n_iter_ = int(model.summary.numIter)
            segmenter.n_features_in_ = centers.shape[1]
            models[k] = segmenter
            say("choose k", i + 1, len(ks))
    finally:
        if scored is not vectors:
            scored.unpersist()
    return recommend(metrics, models, sample_size), fitted


def _silhouette(evaluator, model, scored) -> float | None:
    try:
        return float(evaluator.evaluate(model.transform(scored)))
    except Exception:  # the sample fell into a single segment: no silhouette
        return None


def _distance_to_centre(centers: np.ndarray):
    """Euclidean distance from each row's features to its predicted centre, in the JVM."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    table = F.array(*[F.array(*[F.lit(float(v)) for v in c]) for c in centers])
    mine = F.element_at(table, F.col(PREDICTION) + 1)
    squares = F.zip_with(vector_to_array(F.col(FEATURES)), mine, lambda a, b: (a - b) * (a - b))
    return F.sqrt(F.aggregate(squares, F.lit(0.0), lambda acc, x: acc + x))


def _davies_bouldin(model, vectors, centers: np.ndarray, found: np.ndarray) -> float:
    """As scikit-learn's: mean over segments of the worst (s_i + s_j) / d(c_i, c_j)."""
    from pyspark.sql import functions as F

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


def _profiles(assigned, plan, sf, roles, gender_cols, k, rules):
    """Per-segment statistics in Spark (sizes, mean, approximate median, min, max, gender mix),
    turned into profiles by the single-machine rules."""
    from pyspark.sql import functions as F

    used = assigned.where(F.col(SEGMENT).isNotNull())
    aggs = [F.count(F.lit(1)).alias("n")]
    for i, r in enumerate(sf.raw):
        x = column(r)
        aggs += [
            F.avg(x).alias(f"mean{i}"),
            F.percentile_approx(x, 0.5, 10_000).alias(f"median{i}"),
            F.min(x).alias(f"min{i}"),
            F.max(x).alias(f"max{i}"),
        ]
    rows = used.groupBy(SEGMENT).agg(*aggs).collect()
    population = used.agg(
        *[F.avg(column(r)).alias(f"mean{i}") for i, r in enumerate(sf.raw)],
        *[F.stddev_pop(column(r)).alias(f"std{i}") for i, r in enumerate(sf.raw)],
    ).first()
    sizes = np.zeros(k, dtype=int)
    stats = {s: pd.DataFrame(np.nan, index=range(k), columns=list(plan.numeric)) for s in
             ("mean", "median", "min", "max")}  # fmt: skip
    for r in rows:
        seg = int(r[SEGMENT])
        sizes[seg] = int(r["n"])
        for name, frame in stats.items():
            for i, c in enumerate(plan.numeric):
                value = r[f"{name}{i}"]
                frame.loc[seg, c] = np.nan if value is None else float(value)
    pop_mean = pd.Series(
        [_float(population[f"mean{i}"]) for i in range(len(sf.raw))], index=list(plan.numeric)
    )
    pop_std = pd.Series(
        [_float(population[f"std{i}"]) for i in range(len(sf.raw))], index=list(plan.numeric)
    )
    gender_mix = None
    if gender_cols:
        gender = F.coalesce(column(gender_cols[0]).cast("string"), F.lit("unknown"))
        counts = used.groupBy(SEGMENT, gender.alias("g")).count().collect()
        table = pd.DataFrame([(int(r[SEGMENT]), r["g"], int(r["count"])) for r in counts],
                             columns=["segment", "g", "n"])  # fmt: skip
        wide = table.pivot_table(index="segment", columns="g", values="n", fill_value=0)
        wide = wide.reindex(sorted(wide.columns), axis=1)
        gender_mix = wide.div(wide.sum(axis=1), axis=0)
    return profiles_from_stats(
        stats, sizes, pop_mean, pop_std, roles, gender_mix=gender_mix, rules=rules
    )


def _float(value) -> float:
    return np.nan if value is None else float(value)


def _assignment_frame(assigned, originals: Sequence[str], names: dict[int, str]):
    """Every input column untouched, plus ``segment`` and ``segment_name`` (as segments.csv)."""
    from pyspark.sql import functions as F

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


def _label_sample(sample, plan, preprocessor, segmenter, missing):
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


def _spark_notes(spark, n_init, choice, sample_size, total) -> list[str]:
    master = spark.sparkContext.master
    notes = [
        f"fitted with Spark {spark.version} ({master}): k-means|| with initSteps={INIT_STEPS}, "
        f"best of {n_init} seed{'s' if n_init > 1 else ''} per k"
    ]
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
    return notes


# ---------------------------------------------------------------- outputs


def write_spark_outputs(
    seg: SparkSegmentation,
    out_dir: str | Path = "out",
    *,
    force: bool = False,
    assignments: str | None = None,
    step: Callable[[str], None] | None = None,
) -> dict[str, str | Path]:
    """Write ``summary.json``, the model and ``report.html`` into ``out_dir`` (atomically, as
    :func:`custseg.outputs.export.write_outputs`), and the assignments as Parquet: by default
    the folder ``out_dir/segments.parquet``, or ``assignments`` (any URI executors can reach)."""
    from custseg.outputs.export import check_free, publish, staging, write_run_files
    from custseg.outputs.model_file import MODEL_FILENAME

    out_dir = Path(out_dir)
    say = step or (lambda _name: None)
    files = ("summary.json", MODEL_FILENAME, "report.html")
    local_parquet = assignments is None
    targets = [out_dir / f for f in files]
    if local_parquet:
        targets.append(out_dir / "segments.parquet")
        master = seg.spark_frame.sparkSession.sparkContext.master
        if not is_local(master):
            raise ConfigError(
                f"Spark runs on {master!r}: executors cannot write into the local folder "
                f"'{out_dir}'; pass --spark-output with a shared location (hdfs://..., s3a://...)"
            )
    check_free(targets, force)
    placed: dict[str, str | Path] = {}
    with staging(out_dir) as tmp:
        write_run_files(seg, tmp, say)
        say("segments.parquet")
        if local_parquet:
            seg.write_assignments(str((tmp / "segments.parquet").resolve()))
        else:
            placed["segments.parquet"] = seg.write_assignments(
                assignments, mode="overwrite" if force else "errorifexists"
            )
        placed |= publish({f: tmp / f for f in files}, out_dir)
        if local_parquet:
            placed["segments.parquet"] = _replace_folder(tmp / "segments.parquet", out_dir)
    return placed


def _replace_folder(staged: Path, out_dir: Path) -> Path:
    """Move a staged folder into place, replacing an old one whole (no stale part files)."""
    target = out_dir / staged.name
    old = staged.parent / f"{staged.name}.old"
    if target.exists():
        os.replace(target, old)
    os.replace(staged, target)
    shutil.rmtree(old, ignore_errors=True)
    return target
