"""The k recommendation in plain words: what the valleys, the stability and the indices say."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from custseg.pipeline.stability import STABLE

if TYPE_CHECKING:
    from custseg.pipeline.search import KChoice


def explain(choice: KChoice) -> str:
    """The recommendation and its evidence in plain words."""
    k, by_k = choice.recommended, {g["k"]: g for g in choice.groups}
    group = by_k[k]
    if choice.confidence == "none":
        parts = [
            f"k={k}: the customers look like one continuous population, with no natural groups "
            f"at any k; these {k} segments are a convenient partition for targeting, not "
            "natural groups"
        ]
    elif not group["splits_group"] and not group["hides_groups"]:
        parts = [f"k={k}: the customers thin out between neighbouring segments and no segment "
                 "hides two groups"]  # fmt: skip
    elif not group["hides_groups"]:
        parts = [f"k={k}: no segment hides two groups, though some neighbouring segments "
                 "are not clearly apart"]  # fmt: skip
    else:
        parts = [f"k={k}: every k leaves some segment holding two groups; this one has the best "
                 "silhouette"]  # fmt: skip
    if choice.stability is not None:
        s = choice.stability
        weakest = int(np.argmin(s.segments))
        if s.weakest >= STABLE:
            said = f"all {k} segments come back when the customers are resampled"
        else:
            label = s.labels[weakest]
            verb = label if label == "dissolves" else f"is {label}"
            said = f"segment {weakest} {verb} when the customers are resampled"
        parts.append(
            f"{said} (lowest stability {s.weakest:.2f}, {s.labels[weakest]}, over "
            f"{s.resamples} bootstrap resamples)"
        )
    parts.append(index_words(choice.votes, k))
    if choice.confidence != "none":
        above, below = by_k.get(k + 1), by_k.get(k - 1)
        if above and above["splits_group"]:
            parts.append(f"{k + 1} would cut a group in two")
        if below and below["hides_groups"]:
            parts.append(f"{k - 1} would put two groups in one segment")
    return "; ".join(parts) + f". Confidence: {choice.confidence}."


def index_words(votes: dict[str, int | None], k: int) -> str:
    """What the single criteria point to, relative to ``k``."""
    labels = {
        "elbow": "the elbow (knee of the WCSS curve)",
        "silhouette": "the best silhouette",
        "calinski_harabasz": "the best Calinski-Harabasz score",
        "davies_bouldin": "the best (lowest) Davies-Bouldin index",
    }
    agree = [labels[n] for n, v in votes.items() if v == k]
    disagree = [f"{labels[n]} points to {v}" for n, v in votes.items() if v is not None and v != k]
    words = []
    if agree:
        verb = {1: "points", 2: "both point"}.get(len(agree), "all point")
        words.append(f"{join(agree)} {verb} here")
    if disagree:
        words.append(join(disagree))
    if votes.get("elbow") is None:
        words.append("the WCSS curve has no clear elbow")
    return "; ".join(words) if words else "no criterion could be computed"


def join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
