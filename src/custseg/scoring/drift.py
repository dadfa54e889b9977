"""Drift: have the new customers moved away from the ones the model was fitted on?

Two views, both against the reference stored in the model file:

- **Segment shares**: the share of customers per segment now against at training.
- **Feature distributions**: each numeric feature binned at the training deciles (each
  one-hot feature by category), compared with the population stability index (PSI)
  ``sum((now - then) * ln(now / then))`` and a chi-square test of the two samples' bin counts.

Status of each line (``THRESHOLDS``):

- ``stable``: PSI < 0.1.
- ``watch``: 0.1 <= PSI < 0.2 and the test says the difference is real (p < 0.05).
- ``moved``: PSI >= 0.2 and p < 0.05.
- ``inconclusive``: PSI >= 0.1 but p >= 0.05: too few rows to tell the change from chance
  (PSI alone is large for small batches even without drift).

Missing values are not part of the PSI (they are imputed when scoring); their share now and at
training is reported beside it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency

if TYPE_CHECKING:
    from custseg.scoring.scorer import SegmentModel

PSI_WATCH = 0.1
PSI_MOVED = 0.2
ALPHA = 0.05
EPSILON = 1e-4  # floor for empty bins in the PSI (ln 0 is undefined)
THRESHOLDS = {
    "psi_watch": PSI_WATCH,
    "psi_moved": PSI_MOVED,
    "p_value": ALPHA,
    "rule": (
        "stable: PSI < 0.1; watch: PSI >= 0.1 and p < 0.05; moved: PSI >= 0.2 and p < 0.05; "
        "inconclusive: PSI >= 0.1 but p >= 0.05 (too few rows to tell)"
    ),
}


def bin_index(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """Drift bin of each value: ``(-inf, e0], (e0, e1], ..., (e_last, inf)``."""
    return np.searchsorted(np.asarray(edges, dtype=float), values, side="left")


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two share vectors over the same bins."""
    e = np.clip(np.asarray(expected, dtype=float), EPSILON, None)
    a = np.clip(np.asarray(actual, dtype=float), EPSILON, None)
    e, a = e / e.sum(), a / a.sum()
    return float(np.sum((a - e) * np.log(a / e)))


def two_sample_p(expected_shares: np.ndarray, n_train: int, counts: np.ndarray) -> float | None:
    """p-value of a chi-square test that training and new rows fill the bins alike."""
    train = np.asarray(expected_shares, dtype=float) * max(n_train, 1)
    table = np.vstack([train, np.asarray(counts, dtype=float)])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or table[1].sum() == 0:
        return None
    try:
        return float(chi2_contingency(table, correction=False).pvalue)
    except ValueError:
        return None


def status(value: float, p: float | None) -> str:
    """``stable``, ``watch``, ``moved`` or ``inconclusive`` (see the module doc)."""
    if value < PSI_WATCH:
        return "stable"
    if p is None or p >= ALPHA:
        return "inconclusive"
    return "moved" if value >= PSI_MOVED else "watch"


@dataclass
class SegmentShift:
    """One segment's share of customers now and at training."""

    id: int
    name: str
    training: float
    now: float
    count: int

    @property
    def change(self) -> float:
        return self.now - self.training


@dataclass
class FeatureShift:
    """One feature's distribution now against training."""

    feature: str
    kind: str  # "numeric" or "categorical"
    psi: float
    p_value: float | None
    status: str
    missing_training: float | None
    missing_now: float
    bins: list[str]
    training: list[float]
    now: list[float]
    median_training: float | None = None
    median_now: float | None = None


@dataclass
class DriftReport:
    """Segment shares and feature distributions of new customers against training."""

    n_rows: int
    n_training: int
    segments: list[SegmentShift]
    segment_psi: float
    segment_p_value: float | None
    segment_status: str
    features: list[FeatureShift]
    thresholds: dict = field(default_factory=lambda: dict(THRESHOLDS))

    @property
    def moved(self) -> list[str]:
        """Names of what moved: features, and ``"segment shares"`` when they did."""
        names = [f.feature for f in self.features if f.status == "moved"]
        return (["segment shares"] if self.segment_status == "moved" else []) + names

    def to_dict(self) -> dict:
        """JSON-ready form (what ``drift.json`` holds)."""
        return {
            "n_rows": self.n_rows,
            "n_training": self.n_training,
            "moved": self.moved,
            "segment_shares": {
                "psi": self.segment_psi,
                "p_value": self.segment_p_value,
                "status": self.segment_status,
                "segments": [asdict(s) | {"change": s.change} for s in self.segments],
            },
            "features": [asdict(f) for f in self.features],
            "thresholds": self.thresholds,
        }


def _label(edges: list[float], i: int) -> str:
    if not edges:
        return "all"
    if i == 0:
        return f"<= {edges[0]:g}"
    if i == len(edges):
        return f"> {edges[-1]:g}"
    return f"({edges[i - 1]:g}, {edges[i]:g}]"


def drift_report(model: SegmentModel, X: pd.DataFrame, labels: np.ndarray) -> DriftReport:
    """Compare new customers with the model's training reference.

    Parameters
    ----------
    model : SegmentModel
    X : DataFrame
        The new customers' feature values (numeric as float, categorical as text), named as in
        the model (see :meth:`SegmentModel.features`).
    labels : array of int
        Their segments.
    """
    n = len(X)
    n_train = int(model.metadata.get("n_rows") or 0)
    training = model.training
    train_shares = {int(k): float(v) for k, v in training.get("shares", {}).items()}
    counts = np.bincount(np.asarray(labels, dtype=int), minlength=model.k)
    segments = [
        SegmentShift(
            id=i,
            name=model.names.get(i, f"Segment {i}"),
            training=train_shares.get(i, 0.0),
            now=float(counts[i] / n) if n else 0.0,
            count=int(counts[i]),
        )
        for i in range(model.k)
    ]
    expected = np.array([s.training for s in segments])
    seg_psi = psi(expected, counts / max(n, 1))
    seg_p = two_sample_p(expected, n_train, counts)
    features = []
    for col in model.plan.numeric:
        ref = training.get("bins", {}).get(col)
        if not ref:
            continue
        values = X[col].to_numpy(dtype=float)
        present = values[~np.isnan(values)]
        edges = ref["edges"]
        got = np.bincount(bin_index(present, edges), minlength=len(edges) + 1)
        shares_now = got / len(present) if len(present) else np.zeros(len(got))
        value = psi(ref["shares"], shares_now) if len(present) else 0.0
        p = two_sample_p(ref["shares"], round(n_train * (1 - ref.get("missing", 0.0))), got)
        quantiles = training.get("quantiles", {}).get(col)
        features.append(
            FeatureShift(
                feature=col,
                kind="numeric",
                psi=value,
                p_value=p,
                status=status(value, p),
                missing_training=float(ref.get("missing", 0.0)),
                missing_now=float(1 - len(present) / n) if n else 0.0,
                bins=[_label(edges, i) for i in range(len(edges) + 1)],
                training=[float(s) for s in ref["shares"]],
                now=shares_now.tolist(),
                median_training=float(quantiles[5]) if quantiles else None,
                median_now=float(np.median(present)) if len(present) else None,
            )
        )
    for col in model.plan.categorical:
        ref = training.get("categories", {}).get(col)
        if not ref:
            continue
        text = X[col].dropna().astype(str)
        cats = list(ref)
        got = np.array([int((text == c).sum()) for c in cats] + [int((~text.isin(cats)).sum())])
        expected_c = np.array([ref[c] for c in cats] + [0.0])
        shares_now = got / got.sum() if got.sum() else np.zeros(len(got))
        value = psi(expected_c, shares_now) if got.sum() else 0.0
        p = two_sample_p(expected_c, n_train, got)
        features.append(
            FeatureShift(
                feature=col,
                kind="categorical",
                psi=value,
                p_value=p,
                status=status(value, p),
                missing_training=None,  # categorical gaps were imputed, not counted
                missing_now=float(1 - len(text) / n) if n else 0.0,
                bins=[*cats, "(not seen in training)"],
                training=expected_c.tolist(),
                now=shares_now.tolist(),
            )
        )
    return DriftReport(
        n_rows=n,
        n_training=n_train,
        segments=segments,
        segment_psi=seg_psi,
        segment_p_value=seg_p,
        segment_status=status(seg_psi, seg_p),
        features=features,
    )
