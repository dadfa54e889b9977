"""Feature guidance: which candidate columns help a segmentation, and why the others do not.

For each numeric column it says whether it

- is constant, a 0/1 flag, or id-like (whole numbers, nearly all different): not for K-Means;
- carries no group structure (noise): segments fitted on the other columns do not differ on it,
  so it only blurs the distances;
- duplicates a better column (|r| > 0.9): it counts the same thing twice;
- separates the segments: its separation is the share of its variance lying between segments
  (eta squared, 0..1).

How: K-Means on a seeded sample, then each column's separation against those segments; columns
below ``NOISE_SEPARATION`` are set aside and K-Means runs again on the rest, until the kept set
settles. Last, each kept column must also separate the segments found *without* it: a noise
column that pulled the segments its own way does not.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

GUIDE_ROWS = 3_000  # rows sampled (seeded): the advice costs well under a second on any table
DUPLICATE_R = 0.9
NOISE_SEPARATION = 0.05  # below this share of variance between segments: no group structure
# Whole numbers, at least this share distinct and packed densely (1, 2, 3, ...): an id or counter.
ID_LIKE_UNIQUE = 0.95
K_CANDIDATES = range(2, 9)
VERDICTS = ("use", "noise", "duplicate", "flag", "id-like", "constant")


@dataclass(frozen=True)
class FeatureAdvice:
    """The guidance on one column."""

    column: str
    verdict: str  # one of VERDICTS; only "use" columns are kept by features="auto"
    reason: str
    separation: float | None = None  # eta squared against the guide's segments, 0..1
    duplicate_of: str | None = None
    r: float | None = None  # correlation with ``duplicate_of``
    distinct: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def advise(
    frame: pd.DataFrame,
    columns: list[str] | None = None,
    *,
    k: int | None = None,
    seed: int = 0,
    label=str,
) -> list[FeatureAdvice]:
    """Advise on each candidate column of ``frame``.

    Parameters
    ----------
    frame : DataFrame
        The customer table.
    columns : list of str, optional
        The candidate numeric columns (default: every numeric column).
    k : int, optional
        Number of segments to judge separation by; default the best silhouette among 2..8.
    seed : int
        Seed of the row sample and of K-Means.
    label : callable, optional
        Column -> the name people read, for the reasons.

    Returns
    -------
    list of FeatureAdvice
        One per column, in the order given.
    """
    columns = list(columns if columns is not None else frame.select_dtypes("number").columns)
    if len(frame) > GUIDE_ROWS:
        frame = frame.sample(GUIDE_ROWS, random_state=seed)
    values = {c: pd.to_numeric(frame[c], errors="coerce").astype(float) for c in columns}
    advice: dict[str, FeatureAdvice] = {}
    candidates = []
    for c, v in values.items():
        present = v.dropna()
        distinct = int(present.nunique())
        if distinct <= 1:
            advice[c] = FeatureAdvice(
                c, "constant", "the same value for every customer", distinct=distinct
            )
        elif distinct == 2:
            advice[c] = FeatureAdvice(
                c, "flag", "a yes/no flag: compare segments on it, do not cluster on it",
                distinct=distinct,
            )  # fmt: skip
        elif _id_like(present, distinct):
            advice[c] = FeatureAdvice(
                c, "id-like", "numbers 1, 2, 3, ... nearly all different: an id or a counter",
                distinct=distinct,
            )  # fmt: skip
        else:
            candidates.append(c)
    if candidates:
        advice |= _judge(values, candidates, k, seed, label)
    return [advice[c] for c in columns]


def _id_like(present: pd.Series, distinct: int) -> bool:
    if distinct < max(20, ID_LIKE_UNIQUE * len(present)) or (present != present.round()).any():
        return False
    return present.max() - present.min() + 1 <= 1.5 * distinct  # money amounts spread wider


def _judge(values, candidates, k, seed, label) -> dict[str, FeatureAdvice]:
    X = np.column_stack([values[c].fillna(values[c].median()).to_numpy() for c in candidates])
    with np.errstate(all="ignore"):
        std = X.std(axis=0)
        X = (X - X.mean(axis=0)) / np.where(std > 0, std, 1)
    # Values too large to scale (validation reports them) carry no usable structure here.
    X = np.nan_to_num(X, nan=0.0, posinf=0.0, neginf=0.0)
    active = list(range(len(candidates)))
    separation = np.zeros(len(candidates))
    for _ in range(5):
        labels = _segments(X[:, active], k, seed)
        k = len(np.unique(labels))  # chosen once, on every candidate column
        separation = _eta_squared(X, labels)
        kept = [i for i in range(len(candidates)) if separation[i] >= NOISE_SEPARATION]
        if not kept:
            kept = [int(np.argmax(separation))]
        if kept == active:
            break
        active = kept
    # A column with real group structure shows it in the segments the *other* columns find;
    # a noise column that pulled the segments its own way does not.
    if len(active) > 2:
        alone = [i for i in active if _eta_squared(
            X[:, [i]], _segments(X[:, [j for j in active if j != i]], k, seed)
        )[0] < NOISE_SEPARATION]  # fmt: skip
        if alone and len(alone) < len(active):
            active = [i for i in active if i not in alone]
            separation = _eta_squared(X, _segments(X[:, active], k, seed))
    r = np.corrcoef(X, rowvar=False) if len(candidates) > 1 else np.ones((1, 1))
    out: dict[str, FeatureAdvice] = {}
    chosen: list[int] = []
    for i in sorted(active, key=lambda i: -separation[i]):
        twin = next((j for j in chosen if abs(r[i, j]) > DUPLICATE_R), None)
        c, sep = candidates[i], float(separation[i])
        if twin is None:
            chosen.append(i)
            out[c] = FeatureAdvice(
                c, "use", f"separates the segments ({sep:.0%} of its variance between them)",
                separation=sep, distinct=int(values[c].nunique()),
            )  # fmt: skip
        else:
            out[c] = FeatureAdvice(
                c, "duplicate",
                f"moves with {label(candidates[twin])} (r = {r[i, twin]:+.2f}): counts it twice",
                separation=sep, duplicate_of=candidates[twin], r=float(r[i, twin]),
                distinct=int(values[c].nunique()),
            )  # fmt: skip
    for i, c in enumerate(candidates):
        if c not in out:
            sep = float(separation[i])
            out[c] = FeatureAdvice(
                c, "noise",
                f"no group structure: segments differ little on it ({sep:.1%} of its variance "
                "between them); it only blurs the distances",
                separation=sep, distinct=int(values[c].nunique()),
            )  # fmt: skip
    return out


def _segments(X: np.ndarray, k: int | None, seed: int) -> np.ndarray:
    if k is not None:
        return KMeans(k, n_init=4, random_state=seed).fit_predict(X)
    best, best_score = None, -np.inf
    rows = np.random.default_rng(seed).choice(len(X), min(len(X), 2_000), replace=False)
    for n in K_CANDIDATES:
        if n >= len(X):
            break
        labels = KMeans(n, n_init=4, random_state=seed).fit_predict(X)
        if len(np.unique(labels[rows])) < 2:
            continue
        score = silhouette_score(X[rows], labels[rows])
        if score > best_score:
            best, best_score = labels, score
    return best if best is not None else np.zeros(len(X), dtype=int)


def _eta_squared(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per column: between-segment variance / total variance."""
    total = X.var(axis=0)
    means = np.array([X[labels == s].mean(axis=0) for s in np.unique(labels)])
    shares = np.array([np.mean(labels == s) for s in np.unique(labels)])
    between = (shares[:, None] * (means - X.mean(axis=0)) ** 2).sum(axis=0)
    return np.where(total > 0, between / np.where(total > 0, total, 1), 0.0)
