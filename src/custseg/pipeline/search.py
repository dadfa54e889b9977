"""Choosing k: natural groups first, stability and the indices as evidence, and a confidence.

Each candidate k is fitted and described by the usual indices (the elbow of the WCSS curve,
silhouette, Calinski-Harabasz, Davies-Bouldin) and by density valleys (see ``separation``):

- a k *splits a group* when the middle between two neighbouring segments is too full for a
  border (more than 3/4 of the emptier end, by a 10% test): K-Means cut through one group;
- a k *hides groups* when a segment has a significant valley inside it: two groups share it.

The candidates are the k that neither split nor hide groups (those that hide none when every k
splits one; every k when all hide some). The recommendation is the candidate with the best
silhouette whose segments are all stable under bootstrap resampling (``stability``), trying
the best few; a k whose segments dissolve was cut through a group the valleys missed. The
valleys and the stability then set the confidence:

- ``strong``: natural groups, every segment stable (Jaccard >= 0.75);
- ``moderate``: natural groups with a doubtful segment (>= 0.6), or stable segments without
  clean valleys;
- ``weak``: anything else (a segment is unstable, or no k gives clean groups);
- ``none``: no valley anywhere, at any k: one continuous population (a single blob, a uniform
  or skewed spread). A k is still recommended, since a partition can serve targeting, but the
  reason says plainly that the segments are a convenient partition, not natural groups.

The elbow and the other indices stay as charts and as what each "points to"; they no longer
vote. ``benchmarks/kchoice.py`` measures the rule against each of them.
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
from custseg.pipeline.advice import explain, index_words
from custseg.pipeline.options import K_SEARCH_ROWS, SegmentOptions, candidate_ks
from custseg.pipeline.separation import Valley, boundaries, hidden
from custseg.pipeline.stability import (
    DOUBTFUL,
    STABILITY_ROWS,
    STABLE,
    Stability,
    segment_stability,
)

SILHOUETTE_EXACT_MAX = 5_000  # rows; beyond this silhouette is computed on a sample this size
PARALLEL_K_ROWS = 200_000  # up to this many rows, candidate k are fitted in parallel threads
SILHOUETTE_MEMORY_MB = 64  # distance chunks (scikit-learn's default of 1 GB doubles peak memory)
VALLEY_ROWS = STABILITY_ROWS  # valleys are counted on a seeded sample of at most this many rows
CUT_P = 0.1  # a middle this unlikely for a border means a group was cut
STABILITY_TRIES = 3  # candidate k whose stability is measured, best silhouette first
GROUPED_ALPHA = 0.05  # a valley this unlikely in one population, over every test made, means groups
CONFIDENCE = ("strong", "moderate", "weak", "none")


@dataclass
class KChoice:
    """Metrics per k, the recommendation, its confidence and its evidence.

    ``votes`` holds the k each single criterion points to (elbow, silhouette,
    Calinski-Harabasz, Davies-Bouldin), for charts; ``groups`` holds per k whether it splits or
    hides groups; ``stability`` is the bootstrap stability of the recommended k.
    """

    metrics: list[dict]
    recommended: int
    reason: str
    votes: dict[str, int | None]
    silhouette_sample: int | None = None
    models: dict[int, Segmenter] = field(default_factory=dict, repr=False)
    confidence: str = "weak"
    stability: Stability | None = None
    groups: list[dict] = field(default_factory=list, repr=False)

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
    """Fit K-Means for each candidate k and recommend one, with a confidence.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Scaled features.
    k_range : "2..10", list of int, optional
    silhouette_max : int
        Silhouette is exact up to this many rows, on a seeded sample of this size beyond.
    progress : callable(done, total), optional
        Called after each k.

    Returns
    -------
    KChoice
        ``.recommended``, ``.confidence`` ("strong", "moderate", "weak" or "none") and
        ``.reason`` in plain words.
    """
    X = np.asarray(X)
    ks = parse_k_range(k_range, len(X))
    seed = 0 if random_state is None else int(random_state)
    sample = None
    if len(X) > silhouette_max:
        sample = np.random.default_rng(random_state).choice(len(X), silhouette_max, replace=False)
    rows = None
    if len(X) > VALLEY_ROWS:
        rows = np.sort(np.random.default_rng([seed, 3]).choice(len(X), VALLEY_ROWS, replace=False))
    Xv = np.asarray(X if rows is None else X[rows], dtype=np.float64)

    def evaluate(k: int) -> tuple[dict, Segmenter, tuple[list[Valley], list[Valley]]]:
        model = Segmenter(k, n_init=n_init, random_state=random_state, engine=engine).fit(X)
        labels = model.labels_ if rows is None else model.labels_[rows]
        valleys = boundaries(Xv, labels, k), hidden(Xv, labels, k, seed)
        return _metrics(X, k, model, sample), model, valleys

    # Up to PARALLEL_K_ROWS rows, one K-Means per core beats one K-Means over all cores (threads
    # inside a small fit mostly wait on each other); every k is seeded, so results don't change.
    workers = min(len(ks), os.cpu_count() or 1) if len(X) <= PARALLEL_K_ROWS else 1
    metrics, models, valleys = [], {}, {}
    with threadpool_limits(limits=1 if workers > 1 else None), ThreadPoolExecutor(workers) as pool:
        for i, (row, model, found) in enumerate(pool.map(evaluate, ks)):
            metrics.append(row)
            models[row["k"]] = model
            valleys[row["k"]] = found
            if progress:
                progress(i + 1, len(ks))
    measured: dict[int, Stability] = {}

    def stability(k: int) -> Stability:
        if k not in measured:
            measured[k] = segment_stability(
                X, models[k].labels_, seed=seed, n_init=n_init,
                engine="auto" if engine == "spark" else engine,
            )  # fmt: skip
        return measured[k]

    size = len(sample) if sample is not None else None
    choice = recommend(metrics, models, size, valleys, stability)
    choice.confidence = confidence(choice, valleys)
    choice.reason = explain(choice)
    return choice


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


def splits_group(found: list[Valley]) -> bool:
    """Some neighbouring segments have no valley between them: one group was cut in two."""
    return any(v.p_border < CUT_P for v in found)


def hides_groups(found: list[Valley]) -> bool:
    """Some segment has a significant valley inside: two groups share it."""
    return any(v.significant for v in found)


def recommend(
    metrics: list[dict],
    models: dict[int, Segmenter],
    sample_size: int | None,
    valleys: dict[int, tuple[list[Valley], list[Valley]]] | None = None,
    stability: Callable[[int], Stability] | None = None,
) -> KChoice:
    """The recommended k from the metrics per k and, when given, the valleys per k.

    ``stability(k)`` measures the bootstrap stability of k; it is asked for at most
    ``STABILITY_TRIES`` candidates. Without valleys (Spark's k search), the k most criteria
    point to, ties going to the higher silhouette.
    """
    ks = [m["k"] for m in metrics]
    votes = {
        "elbow": knee(ks, [m["inertia"] for m in metrics]),
        "silhouette": _best(metrics, "silhouette"),
        "calinski_harabasz": _best(metrics, "calinski_harabasz"),
        "davies_bouldin": _best(metrics, "davies_bouldin", lower=True),
    }
    sil = {m["k"]: (m["silhouette"] if m["silhouette"] is not None else -1) for m in metrics}
    if valleys is None:
        counted = [k for k in votes.values() if k is not None]
        k = max(set(counted), key=lambda c: (counted.count(c), sil[c], -c)) if counted else ks[0]
        reason = f"k={k}: " + index_words(votes, k) + "."
        return KChoice(metrics, k, reason, votes, sample_size, models)
    groups = [
        {
            "k": k,
            "splits_group": splits_group(valleys[k][0]),
            "hides_groups": hides_groups(valleys[k][1]),
        }
        for k in ks
    ]
    natural = [g["k"] for g in groups if not g["splits_group"] and not g["hides_groups"]]
    whole = [g["k"] for g in groups if not g["hides_groups"]]
    ranked = sorted(natural or whole or ks, key=lambda c: (-sil[c], c))
    k, measured = ranked[0], None
    if stability is not None:
        # The best silhouette among the candidates whose segments are all stable; a k whose
        # segments dissolve under resampling was cut through a group the valleys missed.
        for candidate in ranked[:STABILITY_TRIES]:
            found = stability(candidate)
            if found.weakest >= STABLE:
                k, measured = candidate, found
                break
        else:
            measured = stability(k)
    return KChoice(metrics, k, "", votes, sample_size, models, stability=measured, groups=groups)


def grouped(valleys: dict[int, tuple[list[Valley], list[Valley]]]) -> bool:
    """A valley somewhere, at some k, too deep for one continuous population.

    Bonferroni over every valley tested at every k: many tests must not make a valley by chance.
    """
    p = [v.p for between, inside in valleys.values() for v in between + inside]
    return bool(p) and min(p) * len(p) < GROUPED_ALPHA


def confidence(choice: KChoice, valleys: dict[int, tuple[list[Valley], list[Valley]]]) -> str:
    """How far the recommendation can be trusted (see the module docstring)."""
    if not grouped(valleys):
        return "none"
    group = next(g for g in choice.groups if g["k"] == choice.recommended)
    natural = not group["splits_group"] and not group["hides_groups"]
    weakest = choice.stability.weakest if choice.stability else 0.0
    if natural and weakest >= STABLE:
        return "strong"
    if (natural and weakest >= DOUBTFUL) or weakest >= STABLE:
        return "moderate"
    return "weak"


# ---------------------------------------------------------------- the pipeline step


@dataclass
class Search:
    """The k search of one run: the evidence, the k used, the rows it compared k on, and the
    stability of the k used."""

    choice: KChoice
    k: int
    sample: np.ndarray | None  # row positions compared on (None: every row)
    stability: Stability | None = None


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
    return Search(choice, k, sample, _stability_of(choice, k, Zs, options))


def _stability_of(
    choice: KChoice, k: int, Z: np.ndarray, options: SegmentOptions
) -> Stability | None:
    """The stability of ``k``: the search's own for the recommended k, else measured now."""
    if k == choice.recommended and choice.stability is not None:
        return choice.stability
    model = choice.models.get(k)
    if k < 2 or model is None:
        return None
    engine = "auto" if options.engine == "spark" else options.engine
    return segment_stability(
        Z, model.labels_, seed=options.seed, n_init=options.n_init, engine=engine
    )


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
