"""``segment()``: the whole run in one call, returning one frozen ``Segmentation``."""

from __future__ import annotations

import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer

from . import __version__
from .engines import get_engine
from .exceptions import ConfigError, DataError
from .features import (
    FeaturePlan,
    build_preprocessor,
    feature_frame,
    numeric_to_original,
    plan_features,
)
from .io import Table, free_column_name, load, release_arrow_memory, validate
from .model import Segmenter
from .profile import SegmentProfile, describe, load_rules
from .select import KChoice, choose_k, parse_k_range

Progress = Callable[[str, int, int], None]

# Large tables: candidate k are compared on a seeded sample of this many rows, then the chosen k
# is fitted on every row, warm-started from the sample's centres. Smaller tables use every row.
K_SEARCH_ROWS = 25_000
# From this many rows on, features are held as float32 (half the memory, same segments).
FLOAT32_ROWS = 200_000


def k_search_sample(n_rows: int, seed: int, size: int = K_SEARCH_ROWS) -> np.ndarray | None:
    """Row positions the k search uses: ``None`` (all rows) up to ``size`` rows, else a seeded
    uniform sample of ``size`` rows, sorted."""
    if n_rows <= size:
        return None
    return np.sort(np.random.default_rng(seed).choice(n_rows, size, replace=False))


@dataclass(frozen=True)
class Segmentation:
    """The result of a run: data, feature plan, fitted pipeline, k evidence and profiles."""

    table: Table
    plan: FeaturePlan
    preprocessor: ColumnTransformer
    model: Segmenter
    labels: np.ndarray  # per input row; -1 where the row was left out (--missing drop)
    distances: np.ndarray  # to the row's segment centre, in model space (NaN when left out)
    k_choice: KChoice
    profiles: list[SegmentProfile]
    missing: dict[str, int]
    missing_policy: str
    params: dict
    notes: list[str] = field(default_factory=list)
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    # ------------------------------------------------------------ views
    @property
    def k(self) -> int:
        return int(self.model.n_clusters)

    @property
    def features(self) -> list[str]:
        return self.plan.columns

    @property
    def names(self) -> dict[int, str]:
        return {p.id: p.name for p in self.profiles}

    @property
    def used(self) -> np.ndarray:
        return self.labels >= 0

    @property
    def n_rows(self) -> int:
        """Rows in the input (a Spark run holds only a sample of them in ``table``)."""
        return len(self.table.frame)

    @property
    def n_used(self) -> int:
        """Rows segmented (input rows minus those left out for missing values)."""
        return int(self.used.sum())

    @property
    def centers(self) -> pd.DataFrame:
        """Segment centres of the numeric features in original units, one row per segment."""
        centers = numeric_to_original(self.preprocessor, self.plan, self.model.cluster_centers_)
        centers.index.name = "segment"
        return centers

    @cached_property
    def _values(self) -> pd.DataFrame:
        return feature_frame(self.table.frame, FeaturePlan(self.plan.numeric))

    def values(self) -> pd.DataFrame:
        """Numeric feature values in original units (as float), one row per input row."""
        return self._values

    def model_space(self, positions: np.ndarray | None = None) -> np.ndarray:
        """The used rows (or those at ``positions`` among them) as the model sees them."""
        frame = self.table.frame.loc[self.used]
        if positions is not None:
            frame = frame.iloc[positions]
        return self.preprocessor.transform(feature_frame(frame, self.plan))

    def assignments(self) -> pd.DataFrame:
        """Every input row, values untouched, plus ``segment`` and ``segment_name``."""
        frame = self.table.frame
        seg_col = free_column_name(frame.columns, "segment")
        name_col = free_column_name(frame.columns, "segment_name")
        segment = pd.array(np.where(self.used, self.labels, 0), dtype="Int64")
        segment[~self.used] = pd.NA
        added = pd.DataFrame({seg_col: segment}, index=frame.index)
        added[name_col] = added[seg_col].map(self.names).astype("string")
        return pd.concat([frame, added], axis=1)

    def profile_table(self) -> pd.DataFrame:
        """Size, share and mean of each feature per segment."""
        rows = [
            {"segment": p.id, "name": p.name, "size": p.size, "share": round(p.share, 4)}
            | {f: p.means[f] for f in self.plan.numeric}
            for p in self.profiles
        ]
        return pd.DataFrame(rows).set_index("segment")

    def summary(self) -> dict:
        """Everything the report, ``summary.json`` and the terminal show (JSON-ready)."""
        from .report.summary import build_summary

        return build_summary(self)

    def save(self, path: str | Path) -> Path:
        """Save the fitted model safely (skops format)."""
        from .persist import save_model

        return save_model(self, path)

    def report(self, path: str | Path | None = None, **options) -> str:
        """Render the self-contained HTML report; write it to ``path`` when given."""
        from .report import render_html

        return render_html(self, path, **options)

    def _repr_html_(self) -> str:
        k = self.k_choice
        head = (
            f"<p><b>custseg</b>: {self.k} segments of {int(self.used.sum())} customers on "
            f"{', '.join(self.features)}. {k.reason}</p>"
        )
        return head + self.profile_table().to_html(float_format=lambda v: f"{v:,.2f}")


def segment(
    data: str | Path | pd.DataFrame | Table,
    *,
    features: Sequence[str] | str | None = None,
    k: int | str = "auto",
    k_range: str | Sequence[int] | None = None,
    scale: str = "standard",
    log: bool | str | Sequence[str] | None = None,
    one_hot: Sequence[str] | str | None = None,
    missing: str = "impute",
    id_column: str | None = None,
    n_init: int = 10,
    seed: int = 0,
    engine: str = "auto",
    rules: str | Path | None = None,
    progress: Progress | None = None,
    k_search_rows: int = K_SEARCH_ROWS,
    k_choice: KChoice | None = None,
) -> Segmentation:
    """Segment customers with K-Means, end to end.

    Parameters
    ----------
    data : path, DataFrame or Table
        The customer table (see :func:`custseg.io.load` for the formats).
    features : list of str or comma-separated str, optional
        Numeric feature columns; default every numeric non-id column.
    k : "auto" or int
        Number of segments; ``"auto"`` takes the recommended k.
    k_range : "2..10" or list of int, optional
        Candidates compared for the recommendation (default 2..10).
    scale : {"standard", "minmax", "robust", "none"}
    log : bool, "auto" or list of columns, optional
        Log-transform skewed money-like columns.
    one_hot : list of str, optional
        Categorical columns to one-hot encode (e.g. ``"Gender"``).
    missing : {"impute", "drop", "error"}
        Missing feature values: median-imputed (default), rows dropped, or an error.
    id_column : str, optional
        The customer id column (``"none"`` for none); recognised by name by default.
    n_init, seed : int
        K-Means restarts and random seed; the same data and seed give the same segments.
    engine : str
        K-Means engine name.
    rules : path, optional
        A naming/actions rules file replacing the shipped one.
    progress : callable(step, done, total), optional
        Progress callback, e.g. for a progress bar.
    k_search_rows : int
        Tables larger than this compare candidate k on a seeded sample of this many rows and
        warm-start the final fit on all rows from the sample's solution.
    k_choice : KChoice, optional
        The k search of an earlier run on the same table, features, scaling, missing policy and
        seed (its ``seg.k_choice``): reused, with its fitted models, instead of searching again,
        so trying another k gives the same result as a fresh run at a fraction of the cost.
        ``k_range`` is then ignored.

    Returns
    -------
    Segmentation
    """
    get_engine(engine)  # an unknown engine is a ConfigError before any work
    table = data if isinstance(data, Table) else load(data, id_column=id_column)
    plan = plan_features(table, features, scale=scale, log=log, one_hot=one_hot)
    if k != "auto":
        try:
            k = int(k)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"--k must be 'auto' or a whole number, not {k!r}") from exc
        if k < 1:
            raise ConfigError(f"--k must be at least 1, got {k}")
    rule_set = load_rules(rules)
    missing_counts = validate(
        table,
        plan.numeric,
        categorical=plan.categorical,
        n_clusters=k if k != "auto" else 2,
        missing=missing,
    )
    release_arrow_memory()  # the duplicate-id check's sort buffers on a large table
    # Large tables go float32 from the start: half the memory, the same segments (tested).
    dtype = np.float32 if len(table.frame) >= FLOAT32_ROWS else np.float64
    X = feature_frame(table.frame, plan, dtype)
    keep = X[list(plan.numeric)].notna().all(axis=1).to_numpy() if missing == "drop" else None
    if keep is not None:
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
    n_rows = len(Z)
    sample = k_search_sample(n_rows, seed, k_search_rows)
    # Customers with identical features count once: k cannot exceed the distinct ones.
    distinct = len(np.unique(Z if sample is None else Z[sample], axis=0))
    if k != "auto" and k > distinct:
        raise DataError(
            f"Only {distinct} distinct customer{'s' if distinct != 1 else ''} on "
            f"{plan.columns!r}, fewer than the {k} segments asked for; lower --k"
        )
    ks = parse_k_range(k_range, distinct) if distinct > 2 else []
    if k != "auto" and k not in ks and k > 1:
        ks = sorted({*ks, k})
    notes = list(table.notes) + list(plan.notes)
    # The sample is small: float64 keeps scikit-learn on its fast distance path.
    Zs = Z if sample is None else Z[sample].astype(np.float64)
    if k_choice is not None:
        choice = k_choice
    elif ks:
        step = (lambda done, total: progress("choose k", done, total)) if progress else None
        choice = choose_k(Zs, ks, n_init=n_init, random_state=seed, engine=engine, progress=step)
    else:
        choice = KChoice([], 1, "too few rows to compare numbers of segments", {})
    if k == "auto":
        k = choice.recommended
    searched = choice.models.get(k)
    if k_choice is not None:
        _check_reused(searched or next(iter(choice.models.values()), None), Zs)
    if progress:
        progress("fit segments", 0, 1)
    if searched is not None and sample is None:
        model = searched
    else:
        # Warm start: refine the sample's solution on every row (one Lloyd run, not n_init).
        init = searched.cluster_centers_ if searched is not None else "k-means++"
        model = Segmenter(k, init=init, n_init=n_init, random_state=seed, engine=engine).fit(Z)
    if progress:
        progress("fit segments", 1, 1)
    if sample is not None:
        notes.append(
            f"compared k on a seeded sample of {len(sample):,} of {n_rows:,} rows, then fitted "
            f"k={k} on every row starting from the sample's centres"
        )
    labels = np.full(len(table.frame), -1, dtype=int)
    distances = np.full(len(table.frame), np.nan)
    dist = distance_to_centre(Z, model.cluster_centers_, model.labels_)
    if keep is None:
        labels[:], distances[:] = model.labels_, dist
    else:
        labels[keep], distances[keep] = model.labels_, dist
        notes.append(f"dropped {int((~keep).sum())} rows with missing feature values")
    gender_cols = table.columns_with("gender")
    values = feature_frame(table.frame, FeaturePlan(plan.numeric))
    profiles = describe(
        values,
        labels,
        table.roles,
        gender=table.frame[gender_cols[0]] if gender_cols else None,
        rules=rule_set,
    )
    params = {
        "k": k,
        "k_range": choice.ks,
        "scale": scale,
        "n_init": n_init,
        "seed": seed,
        "engine": engine,
        "missing": missing,
        "rules": str(rules) if rules else "built-in",
        "k_search_rows": n_rows if sample is None else len(sample),
        "k_search_seed": seed,
        "dtype": str(Z.dtype),
    }
    result = Segmentation(
        table=table,
        plan=plan,
        preprocessor=preprocessor,
        model=model,
        labels=labels,
        distances=distances,
        k_choice=choice,
        profiles=profiles,
        missing=missing_counts,
        missing_policy=missing,
        params=params,
        notes=notes,
    )
    result.__dict__["_values"] = values  # computed above; cached for the report and model file
    return result


def distance_to_centre(
    Z: np.ndarray, centers: np.ndarray, labels: np.ndarray, chunk: int = 1 << 20
) -> np.ndarray:
    """Euclidean distance from each row of ``Z`` to its segment's centre, in float64.

    Chunked, so the temporaries stay small whatever the row count.
    """
    out = np.empty(len(Z))
    for start in range(0, len(Z), chunk):
        diff = Z[start : start + chunk] - centers[labels[start : start + chunk]]
        out[start : start + chunk] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    return out


def _check_reused(model: Segmenter | None, Z: np.ndarray) -> None:
    """A model from a reused k search must have been fitted on these very rows."""
    if model is None:  # a search without models (too few rows): nothing was fitted
        return
    same = len(model.labels_) == len(Z) and model.n_features_in_ == Z.shape[1]
    if same:
        nearest, _ = model.distances(Z)
        same = np.mean(nearest != model.labels_) <= 0.01  # ties may fall either way
    if not same:
        raise ConfigError(
            "k_choice comes from a run on other data or features; pass the k_choice of a run "
            "on the same table, features, scaling and missing policy, or leave it out"
        )


def versions() -> dict[str, str]:
    import sklearn

    return {
        "custseg": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scikit-learn": sklearn.__version__,
    }
