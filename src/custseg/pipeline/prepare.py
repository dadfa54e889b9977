"""Prepare: choose the features, validate them, and scale them into model space."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer

from custseg.exceptions import DataError
from custseg.features import FeaturePlan, build_preprocessor, feature_frame, plan_features
from custseg.pipeline.guidance import FeatureAdvice, advise
from custseg.pipeline.options import SegmentOptions
from custseg.read import Table, add_tenure, release_arrow_memory, set_roles, tenure_name, validate
from custseg.text import humanise, plural

# From this many rows on, features are held as float32 (half the memory, same segments).
FLOAT32_ROWS = 200_000
GUIDE_MIN_ROWS = 20  # feature guidance needs a few rows per segment to judge columns


@dataclass
class Prepared:
    """The table's features as the model sees them."""

    plan: FeaturePlan
    preprocessor: ColumnTransformer
    Z: np.ndarray  # model space: the used rows, scaled
    keep: np.ndarray | None  # rows used, when rows with missing values were dropped
    missing: dict[str, int]  # missing values per feature
    notes: list[str]
    advice: list[FeatureAdvice] | None = None  # feature guidance, when the columns were not named


def with_roles(table: Table, options: SegmentOptions) -> Table:
    """The table as the options see it: the roles set by hand, and the days-since columns added.

    A new :class:`Table` when anything changes; the rows read stay untouched.
    """
    return add_tenure(set_roles(table, options.roles), options.tenure)


def prepare(table: Table, options: SegmentOptions) -> Prepared:
    """Plan the features, check every value, and fit the scaling on the used rows."""
    features, advice, guide_notes = guide(table, options)
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
    notes = list(table.notes) + list(plan.notes) + guide_notes
    if options.missing == "impute":
        notes.extend(imputed_notes(missing, plan.categorical, table))
    return Prepared(plan, preprocessor, Z, keep, missing, notes, advice)


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


def guide(table: Table, options: SegmentOptions) -> tuple[Any, list[FeatureAdvice] | None, list]:
    """Feature guidance on the default columns: ``features="auto"`` keeps the useful ones, and
    the default run (every numeric column) warns about noise and duplicates."""
    if options.features not in (None, "auto"):
        return options.features, None, []
    base = plan_features(table, None, scale=options.scale, one_hot=options.one_hot)
    if len(base.numeric) < 2 or len(table.frame) < GUIDE_MIN_ROWS:
        return None, None, []  # too little to judge; validation reports what is wrong, if anything
    # A k the table cannot hold is reported by validation below, not here.
    k = options.k if isinstance(options.k, int) and options.k * 2 <= len(table.frame) else None
    advice = advise(table.frame, list(base.numeric), k=k, seed=options.seed, label=humanise)
    left_out = [a for a in advice if a.verdict != "use"]
    why = "; ".join(f"{humanise(a.column)} ({a.verdict})" for a in left_out)
    if options.features == "auto":
        kept = [a.column for a in advice if a.verdict == "use"]
        note = f"features chosen by guidance: {', '.join(humanise(c) for c in kept)}"
        return kept, advice, [note + (f"; left out {why}" if left_out else "")]
    weak = [a for a in left_out if a.verdict in ("noise", "duplicate")]
    if not weak:
        return None, advice, []
    listed = "; ".join(f"{humanise(a.column)} ({a.verdict})" for a in weak)
    return (
        None,
        advice,
        [f"warning: some columns blur the segments: {listed}. --features auto leaves them out"],
    )
