"""The feature plan (which columns, how transformed) and its scikit-learn preprocessing pipeline.

New data goes through the very pipeline fitted on the training data, so it is transformed
exactly alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MinMaxScaler,
    OneHotEncoder,
    RobustScaler,
    StandardScaler,
)

from custseg.exceptions import ConfigError
from custseg.read import Table, auto_features, numeric_view, resolve_columns

SCALERS = {
    "standard": StandardScaler,
    "minmax": MinMaxScaler,
    "robust": RobustScaler,
    "none": None,
}
SKEW_LIMIT = 1.0  # "auto" log-transforms non-negative columns skewed beyond this
# A column whose values are (nearly all) between 0 and 1 is a ratio or share
# (PRC_FULL_PAYMENT, CASH_ADVANCE_FREQUENCY): a log would barely change it and its axis would read
# as a transformed amount. A few rounding overshoots (1.2) are allowed.
RATIO_SHARE = 0.99


@dataclass(frozen=True)
class FeaturePlan:
    """What goes into the model and how: numeric and one-hot columns, log columns, scaling."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...] = ()
    log: tuple[str, ...] = ()
    scale: str = "standard"
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *self.categorical]


def plan_features(
    table: Table,
    features: Sequence[str] | str | None = None,
    *,
    scale: str = "standard",
    log: bool | str | Sequence[str] | None = None,
    one_hot: Sequence[str] | str | None = None,
) -> FeaturePlan:
    """Choose the feature columns and their transforms.

    Parameters
    ----------
    table : Table
        The loaded data.
    features : list of str or comma-separated str, optional
        Numeric columns (names, format-insensitive, or roles such as ``"income"``). Default:
        every numeric non-id column.
    scale : {"standard", "minmax", "robust", "none"}
    log : bool, "auto", or list of columns
        Log-transform (``log1p``) skewed money-like columns: ``"auto"``/``True`` picks the
        non-negative columns with skewness above 1 that are not 0-1 ratios or shares.
    one_hot : list of str, optional
        Categorical columns (e.g. ``Gender``) to one-hot encode and add to the features.
    """
    if scale not in SCALERS:
        raise ConfigError(f"--scale must be one of {', '.join(SCALERS)}, not {scale!r}")
    notes: list[str] = []
    if isinstance(features, str):
        features = features.split(",")
    if features:
        numeric = resolve_columns(table, features)
    else:
        numeric, notes = auto_features(table)
    if isinstance(one_hot, str):
        one_hot = one_hot.split(",")
    categorical = resolve_columns(table, one_hot, "--one-hot") if one_hot else []
    numeric = [c for c in numeric if c not in categorical]
    if log in (True, "auto"):
        log_cols = [c for c in numeric if _is_skewed(table.frame[c])]
        if log_cols:
            notes.append(
                f"log-transformed skewed money-like and count columns: {', '.join(log_cols)} "
                "(charts of them use a log axis)"
            )
        ratios = [
            c for c in numeric if c not in log_cols and is_ratio(numeric_view(table.frame[c]))
        ]
        if ratios:
            notes.append(f"kept 0-1 ratio columns unlogged: {', '.join(ratios)}")
    elif isinstance(log, str) and log.lower() in ("", "none", "false", "no"):
        log_cols = []
    elif log:
        log_cols = resolve_columns(table, log.split(",") if isinstance(log, str) else log, "--log")
        outside = [c for c in log_cols if c not in numeric]
        if outside:
            raise ConfigError(f"--log: {outside!r} are not among the features {numeric!r}")
    else:
        log_cols = []
    return FeaturePlan(tuple(numeric), tuple(categorical), tuple(log_cols), scale, tuple(notes))


def _is_skewed(series: pd.Series) -> bool:
    """Money-like or count-like: non-negative, not a 0-1 ratio, and skewed beyond SKEW_LIMIT."""
    values = numeric_view(series).dropna()
    if len(values) <= 2 or values.min() < 0 or is_ratio(values):
        return False
    return bool(values.skew() > SKEW_LIMIT)


def is_ratio(values: pd.Series) -> bool:
    """Whether a column holds ratios or shares: nearly every value between 0 and 1."""
    values = values.dropna()
    return bool(len(values) and (values.between(0, 1).mean() >= RATIO_SHARE))


def feature_frame(frame: pd.DataFrame, plan: FeaturePlan, dtype=np.float64) -> pd.DataFrame:
    """The plan's columns from raw rows: numeric ones as ``dtype``, categorical ones as text."""
    data = {c: numeric_view(frame[c]).astype(dtype) for c in plan.numeric}
    for c in plan.categorical:
        data[c] = category_text(frame[c])
    # copy=False: one block per column, sharing the source's memory where the dtype matches.
    return pd.DataFrame(data, index=frame.index, copy=False)


def category_text(series: pd.Series) -> pd.Series:
    """Each value as text (``str``), missing as NaN (imputed later with the most frequent).

    Built from the distinct values, not row by row: the rows share one string per category.
    """
    codes = series.astype("category")
    text = np.array([str(v) for v in codes.cat.categories] + [np.nan], dtype=object)
    return pd.Series(text[codes.cat.codes.to_numpy()], index=series.index, dtype=object)  # -1: NaN


def log1p_columns(X, mask):
    """``log1p`` on the masked columns (negative values clipped to 0 first)."""
    X = np.array(X, dtype=float, copy=True)
    X[:, mask] = np.log1p(np.clip(X[:, mask], 0, None))
    return X


def column_median(values: np.ndarray) -> float:
    """The imputer's fill value: the median of a column's present values.

    The same number as ``SimpleImputer(strategy="median")``, which sorts a masked copy of the whole
    matrix with int64 indices (1.3 GB more at 10M x 6); this works one column at a time.
    """
    return float(np.median(values)) if len(values) else np.nan


def expm1_columns(X, mask):
    X = np.array(X, dtype=float, copy=True)
    X[:, mask] = np.expm1(X[:, mask])
    return X


def build_preprocessor(plan: FeaturePlan) -> ColumnTransformer:
    """Impute (median / most frequent), log-transform, scale and one-hot encode, per the plan."""
    mask = [c in plan.log for c in plan.numeric]
    steps = [("impute", SimpleImputer(strategy=column_median))]
    if any(mask):
        steps.append(
            (
                "log",
                FunctionTransformer(
                    log1p_columns,
                    inverse_func=expm1_columns,
                    kw_args={"mask": mask},
                    inv_kw_args={"mask": mask},
                    check_inverse=False,
                    feature_names_out="one-to-one",
                ),
            )
        )
    scaler = SCALERS[plan.scale]
    steps.append(("scale", scaler() if scaler else "passthrough"))
    transformers = [("num", Pipeline(steps), list(plan.numeric))]
    if plan.categorical:
        transformers.append(
            (
                "cat",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="most_frequent")),
                        ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
                    ]
                ),
                list(plan.categorical),
            )
        )
    return ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)


def numeric_to_original(preprocessor: ColumnTransformer, plan: FeaturePlan, Z: np.ndarray):
    """Map model-space points back to original units for the numeric features."""
    pipe = preprocessor.named_transformers_["num"]
    Zn = np.asarray(Z, dtype=float)[:, : len(plan.numeric)]
    for name in ("scale", "log"):
        if name in pipe.named_steps and pipe.named_steps[name] != "passthrough":
            Zn = pipe.named_steps[name].inverse_transform(Zn)
    return pd.DataFrame(Zn, columns=list(plan.numeric))
