"""Segment profiles at scale: per-segment statistics aggregated in Spark, turned into names,
personas and actions by the single-machine rules (:func:`~custseg.pipeline.explain.
profiles_from_stats`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from custseg.exceptions import ConfigError
from custseg.features import FeaturePlan
from custseg.pipeline.explain import SegmentProfile, level_basis, profiles_from_stats
from custseg.spark.features import SEGMENT, SparkFeatures, column

# percentile_approx's accuracy for segment medians: the median found is within 1/accuracy of the
# rows' ranks (0.1%). Its memory per segment and feature grows with the accuracy (and only with
# the log of the row count), so it stays bounded whatever the table's size; Spark's default of
# 10,000 is ten times larger and, with a median per segment and feature, ran out of memory.
MEDIAN_ACCURACY = 1_000
MEDIAN_ERROR = "0.1%"


def check_rules(rules: dict) -> None:
    """Spark levels segments by their means: rank-based rules need every row on one machine."""
    basis = level_basis(rules)
    if basis != "mean":
        raise ConfigError(
            "--engine spark levels segments by their means; rules with [levels] basis = "
            f"{basis!r} need the single-machine engine"
        )


def profiles(
    assigned: Any,
    plan: FeaturePlan,
    sf: SparkFeatures,
    roles: Mapping[str, str],
    gender_cols: Sequence[str],
    k: int,
    rules: dict,
) -> list[SegmentProfile]:
    """Per-segment statistics in Spark (sizes, mean, approximate median, min, max, gender mix)
    of the rows of ``assigned`` with a segment, turned into profiles by the single-machine
    rules."""
    from pyspark.sql import functions as F  # an optional extra (custseg[spark])

    used = assigned.where(F.col(SEGMENT).isNotNull())
    aggs = [F.count(F.lit(1)).alias("n")]
    for i, r in enumerate(sf.raw):
        x = column(r)
        aggs += [
            F.avg(x).alias(f"mean{i}"),
            F.percentile_approx(x, 0.5, MEDIAN_ACCURACY).alias(f"median{i}"),
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
                frame.loc[seg, c] = _float(r[f"{name}{i}"])
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


def _float(value: float | None) -> float:
    return np.nan if value is None else float(value)
