"""Checks over every row, in one Spark pass: missing, non-numeric and infinite values, and
duplicated ids (the driver's sample alone would miss a bad value in row 10 million)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from custseg.exceptions import DataError
from custseg.features import FeaturePlan
from custseg.read import NUMERIC_ROLES
from custseg.spark.features import column, quoted


def check_all_rows(
    source: Any, plan: FeaturePlan, roles: Mapping[str, str], missing: str, total: int, name: str
) -> tuple[dict[str, int], int]:
    """Missing values per feature and the number of rows segmented; a DataError listing every
    problem found over all ``total`` rows of ``source`` (``name`` in messages)."""
    from pyspark.sql import functions as F  # an optional extra (custseg[spark])
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
        absent = numeric_missing(c, types[c])
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


def numeric_missing(name: str, dtype: Any) -> Any:
    """A Spark condition: the numeric column ``name`` (of Spark type ``dtype``) has no value."""
    from pyspark.sql import functions as F  # an optional extra (custseg[spark])
    from pyspark.sql import types as T

    raw = column(name)
    if isinstance(dtype, T.StringType):
        return raw.isNull() | (F.trim(raw) == "")
    if isinstance(dtype, T.FloatType | T.DoubleType):
        return raw.isNull() | F.isnan(raw)
    return raw.isNull()
