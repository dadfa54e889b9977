"""Choosing k: elbow (WCSS) and its knee, silhouette, Calinski-Harabasz and Davies-Bouldin.

Each criterion votes for one k; the k with most votes is recommended, ties going to the higher
silhouette. The reason says in plain words what each criterion prefers.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from kneed import KneeLocator
from sklearn import config_context
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
from threadpoolctl import threadpool_limits

from custseg.charts.k import KChoicePlot, k_summary
from custseg.exceptions import ConfigError, DataError
from custseg.model import Segmenter
from custseg.pipeline.options import K_SEARCH_ROWS, SegmentOptions, candidate_ks

SILHOUETTE_EXACT_MAX = 5_000  # rows; beyond this silhouette is computed on a sample this size
PARALLEL_K_ROWS = 200_000  # up to this many rows, candidate k are fitted in parallel threads
SILHOUETTE_MEMORY_MB = 64  # distance chunks (scikit-learn's default of 1 GB doubles peak memory)


@dataclass
class KChoice:
    """Metrics per k and the recommendation."""

    metrics: list[dict]
    recommended: int
    reason: str
    votes: dict[str, int | None]
    silhouette_sample: int | None = None
    models: dict[int, Segmenter] = field(default_factory=dict, repr=False)

    @property
    def ks(self) -> list[int]:
        return [m["k"] for m in self.metrics]

    def metric(self, name: str) -> list[float]:
        return [m[name] for m in self.metrics]

    @property
    def plot(self) -> KChoicePlot:
        """The k evidence as charts: ``choice.plot()`` (the elbow), ``choice.plot.criteria()``."""
        summary = k_summary(self.metrics, self.votes, self.recommended, self.silhouette_sample)
        return KChoicePlot(summary)


def parse_k_range(value: str | Sequence[int] | None, n_rows: int | None = None) -> list[int]:
    """``"2..10"``, ``"2-10"``, ``"3,5,8"`` or a sequence -> sorted list of candidate k, kept
    below ``n_rows`` (the number of distinct customers) when given."""
    ks = candidate_ks("k_range", value)
    if n_rows is not None:
        ks = [k for k in ks if k < n_rows]
        if not ks:
            raise ConfigError(
                f"Only {n_rows} rows: too few to compare numbers of segments; pass --k"
            )
    return ks


def knee(ks: Sequence[int], inertia: Sequence[float]) -> int | None:
    """The knee of the elbow curve (Kneedle), or ``None`` when the curve has none."""
    if len(ks) < 3:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = KneeLocator(list(ks), list(inertia), curve="convex", direction="decreasing").knee
    return int(found) if found is not None else None


def choose_k(
    X,
    k_range: str | Sequence[int] | None = None,
    *,
    n_init: int = 10,
    random_state: int | None = 0,
    engine: str = "auto",
    silhouette_max: int = SILHOUETTE_EXACT_MAX,
    progress: Callable[[int, int], None] | None = None,
) -> KChoice:
    """Fit K-Means for each candidate k and recommend one.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Scaled features.
    k_range : "2..10", list of int, optional
    silhouette_max : int
        Silhouette is exact up to this many rows, on a seeded sample of this size beyond.
    progress : callable(done, total), optional
        Called after each k.
    """
    X = np.asarray(X)
    ks = parse_k_range(k_range, len(X))
    sample = None
    if len(X) > silhouette_max:
        sample = np.random.default_rng(random_state).choice(len(X), silhouette_max, replace=False)

    def evaluate(k: int) -> tuple[dict, Segmenter]:
        model = Segmenter(k, n_init=n_init, random_state=random_state, engine=engine).fit(X)
        return _metrics(X, k, model, sample), model

    # Up to PARALLEL_K_ROWS rows, one K-Means per core beats one K-Means over all cores (threads
    # inside a small fit mostly wait on each other); every k is seeded, so results don't change.
    workers = min(len(ks), os.cpu_count() or 1) if len(X) <= PARALLEL_K_ROWS else 1
    metrics, models = [], {}
    with threadpool_limits(limits=1 if workers > 1 else None), ThreadPoolExecutor(workers) as pool:
        for i, (row, model) in enumerate(pool.map(evaluate, ks)):
            metrics.append(row)
            models[row["k"]] = model
            if progress:
                progress(i + 1, len(ks))
    return recommend(metrics, models, len(sample) if sample is not None else None)


def _metrics(X: np.ndarray, k: int, model: Segmenter, sample: np.ndarray | None) -> dict:
    """WCSS, silhouette (on ``sample`` when given), Calinski-Harabasz and Davies-Bouldin."""
    labels = model.labels_
    row = {"k": k, "inertia": model.inertia_}
    if len(np.unique(labels)) < 2:
        return row | {"silhouette": None, "calinski_harabasz": None, "davies_bouldin": None}
    rows = slice(None) if sample is None else sample
    # float64: scikit-learn's float32 distance path upcasts chunk by chunk, much slower.
    Xs, ls = np.asarray(X[rows], dtype=np.float64), labels[rows]
    with config_context(working_memory=SILHOUETTE_MEMORY_MB):
        sil = silhouette_score(Xs, ls) if len(np.unique(ls)) > 1 else None
    return row | {
        "silhouette": None if sil is None else float(sil),
        "calinski_harabasz": float(calinski_harabasz_score(X, labels)),
        "davies_bouldin": float(davies_bouldin_score(X, labels)),
    }


def _best(metrics: list[dict], name: str, lower: bool = False) -> int | None:
    rows = [m for m in metrics if m[name] is not None]
    if not rows:
        return None
    pick = min if lower else max
    return pick(rows, key=lambda m: m[name])["k"]


def recommend(metrics, models, sample_size) -> KChoice:
    ks = [m["k"] for m in metrics]
    votes = {
        "elbow": knee(ks, [m["inertia"] for m in metrics]),
        "silhouette": _best(metrics, "silhouette"),
        "calinski_harabasz": _best(metrics, "calinski_harabasz"),
        "davies_bouldin": _best(metrics, "davies_bouldin", lower=True),
    }
    counted = [k for k in votes.values() if k is not None]
    if not counted:
        k = ks[0]
        return KChoice(metrics, k, f"k={k}: no criterion could be computed", votes, sample_size)
    sil = {m["k"]: (m["silhouette"] if m["silhouette"] is not None else -1) for m in metrics}
    k = max(set(counted), key=lambda c: (counted.count(c), sil[c], -c))
    labels = {
        "elbow": "the elbow (knee of the WCSS curve)",
        "silhouette": "the best silhouette",
        "calinski_harabasz": "the best Calinski-Harabasz score",
        "davies_bouldin": "the best (lowest) Davies-Bouldin index",
    }
    agree = [labels[n] for n, v in votes.items() if v == k]
    disagree = [f"{labels[n]} points to {v}" for n, v in votes.items() if v is not None and v != k]
    verb = {1: "points", 2: "both point"}.get(len(agree), "all point")
    reason = f"k={k}: {_join(agree)} {verb} here"
    if disagree:
        reason += f"; {_join(disagree)}"
    if votes["elbow"] is None:
        reason += "; the WCSS curve has no clear elbow"
    return KChoice(metrics, k, reason + ".", votes, sample_size, models)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# ---------------------------------------------------------------- the pipeline step


@dataclass
class Search:
    """The k search of one run: the evidence, the k used, and the rows it compared k on."""

    choice: KChoice
    k: int
    sample: np.ndarray | None  # row positions compared on (None: every row)


def k_search_sample(n_rows: int, seed: int, size: int = K_SEARCH_ROWS) -> np.ndarray | None:
    """Row positions the k search uses: ``None`` (all rows) up to ``size`` rows, else a seeded
    uniform sample of ``size`` rows, sorted."""
    if n_rows <= size:
        return None
    return np.sort(np.random.default_rng(seed).choice(n_rows, size, replace=False))


def search_k(
    Z: np.ndarray,
    options: SegmentOptions,
    *,
    features: Sequence[str],
    k_choice: KChoice | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> Search:
    """Compare the candidate k on ``Z`` (a seeded sample of a large table) and settle on one.

    ``features`` name the columns of ``Z`` in messages.
    ``k_choice``, from an earlier run on the same rows, is reused instead of searching again.
    """
    k = options.k
    sample = k_search_sample(len(Z), options.seed, options.k_search_rows)
    # Customers with identical features count once: k cannot exceed the distinct ones.
    distinct = len(np.unique(Z if sample is None else Z[sample], axis=0))
    if k != "auto" and k > distinct:
        raise DataError(
            f"Only {distinct} distinct customer{'s' if distinct != 1 else ''} on "
            f"{list(features)!r}, fewer than the {k} segments asked for; lower --k"
        )
    ks = candidates(options, distinct)
    # The sample is small: float64 keeps scikit-learn on its fast distance path.
    Zs = Z if sample is None else Z[sample].astype(np.float64)
    if k_choice is not None:
        choice = k_choice
    elif ks:
        step = (lambda done, total: progress("choose k", done, total)) if progress else None
        choice = choose_k(
            Zs, ks, n_init=options.n_init, random_state=options.seed, engine=options.engine,
            progress=step,
        )  # fmt: skip
    else:
        choice = too_few_rows()
    if k == "auto":
        k = choice.recommended
    if k_choice is not None:
        _check_reused(choice.models.get(k) or next(iter(choice.models.values()), None), Zs)
    return Search(choice, k, sample)


def candidates(options: SegmentOptions, n_distinct: int) -> list[int]:
    """The k to compare: ``options.k_range`` below ``n_distinct`` (none when that is 2 or
    fewer), plus a fixed ``options.k`` that is not among them."""
    k = options.k
    ks = parse_k_range(options.k_range, n_distinct) if n_distinct > 2 else []
    if k != "auto" and k not in ks and k > 1:
        ks = sorted({*ks, k})
    return ks


def too_few_rows() -> KChoice:
    """The k search's answer when there are no candidates to compare."""
    return KChoice([], 1, "too few rows to compare numbers of segments", {})


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
