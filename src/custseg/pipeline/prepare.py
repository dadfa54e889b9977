"""Prepare: choose the features, validate them, and scale them into model space."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.compose import ColumnTransformer

from custseg.exceptions import DataError
from custseg.features import FeaturePlan, build_preprocessor, feature_frame, plan_features
from custseg.pipeline.options import SegmentOptions
from custseg.read import Table, add_tenure, release_arrow_memory, set_roles, tenure_name, validate
from custseg.text import plural

# From this many rows on, features are held as float32 (half the memory, same segments).
FLOAT32_ROWS = 200_000


@dataclass
class Prepared:
    """The table's features as the model sees them."""

    plan: FeaturePlan
    preprocessor: ColumnTransformer
    Z: np.ndarray  # model space: the used rows, scaled
    keep: np.ndarray | None  # rows used, when rows with missing values were dropped
    missing: dict[str, int]  # missing values per feature
    notes: list[str]


def with_roles(table: Table, options: SegmentOptions) -> Table:
    """The table as the options see it: the roles set by hand, and the days-since columns added.

    A new :class:`Table` when anything changes; the rows read stay untouched.
    """
    return add_tenure(set_roles(table, options.roles), options.tenure)


def prepare(table: Table, options: SegmentOptions) -> Prepared:
    """Plan the features, check every value, and fit the scaling on the used rows."""
    features = options.features
    if features and options.tenure:  # asked-for days-since columns join the named features
        added = [tenure_name(c) for c in table.columns_with("date") if c in options.tenure]
        features = (*features, *(c for c in added if c not in features))
    plan = plan_features(
        table, features, scale=options.scale, log=options.log, one_hot=options.one_hot
    )
    k = options.k
    missing = validate(
        table,
        plan.numeric,
        categorical=plan.categorical,
        n_clusters=k if k != "auto" else 2,
        missing=options.missing,
    )
    release_arrow_memory()  # the duplicate-id check's sort buffers on a large table
    # Large tables go float32 from the start: half the memory, the same segments (tested).
    dtype = np.float32 if len(table.frame) >= FLOAT32_ROWS else np.float64
    X = feature_frame(table.frame, plan, dtype)
    keep = None
    if options.missing == "drop":
        keep = X[list(plan.numeric)].notna().all(axis=1).to_numpy()
        X = X.loc[keep]
    preprocessor = build_preprocessor(plan)
    with np.errstate(all="ignore"):
        Z = preprocessor.fit_transform(X)
    del X
    if dtype == np.float32:
        Z = Z.astype(np.float32, copy=False)  # a log transform computes in float64
    if not np.isfinite(Z).all():
        bad = [c for c, ok in zip(plan.columns, np.isfinite(Z).all(axis=0), strict=False) if not ok]
        raise DataError(
            f"Values in {bad!r} are too large to scale (the result overflows); "
            "rescale the column (e.g. to thousands) or use --scale robust"
        )
    notes = list(table.notes) + list(plan.notes)
    if options.missing == "impute":
        notes.extend(imputed_notes(missing, plan.categorical, table))
    return Prepared(plan, preprocessor, Z, keep, missing, notes)


def imputed_notes(missing: dict[str, int], categorical, table: Table) -> list[str]:
    """Say which missing values were filled in, so no one reads imputed numbers as measured."""
    notes = []
    filled = {c: n for c, n in missing.items() if n}
    if filled:
        listed = ", ".join(f"{c!r} ({n:,})" for c, n in filled.items())
        total = sum(filled.values())
        notes.append(
            f"filled {plural(total, 'missing value')} with the column's median: "
            f"{listed}; use --missing drop to leave those customers out instead"
        )
    for col in categorical:
        n = int(table.frame[col].isna().sum())
        if n:
            notes.append(
                f"filled {plural(n, 'missing value')} of {col!r} with its most common value"
            )
    return notes
