"""Per-segment bootstrap stability (Hennig's clusterboot): seeded, bounded, and telling."""

import numpy as np
import pytest

from custseg import segment
from custseg.model import Segmenter
from custseg.pipeline.stability import (
    Stability,
    mean_pairwise_ari,
    segment_stability,
    stability_label,
)

INCOME, SPENDING = "Annual Income (k$)", "Spending Score (1-100)"


def _blobs(seed=0, sizes=(150, 150, 150), spread=0.3):
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0], [6, 0], [0, 6], [6, 6]])[: len(sizes)]
    return np.vstack([rng.normal(c, spread, (n, 2)) for c, n in zip(centres, sizes, strict=True)])


def _labels(X, k):
    return Segmenter(k, n_init=10, random_state=0).fit(X).labels_


def test_the_same_seed_gives_the_same_stability():
    X = _blobs()
    labels = _labels(X, 3)
    first = segment_stability(X, labels, resamples=10, seed=3)
    assert segment_stability(X, labels, resamples=10, seed=3) == first
    assert isinstance(first, Stability) and first.resamples == 10


def test_clearly_separated_segments_are_very_stable():
    X = _blobs()
    found = segment_stability(X, _labels(X, 3), resamples=20)
    assert found.weakest >= 0.95
    assert found.labels == ["very stable"] * 3
    assert found.ari > 0.95


def test_a_blob_cut_in_two_by_a_forced_k_is_unstable():
    # Three tight, separated groups and one large round blob: k=5 must cut the blob in two, in
    # an arbitrary direction, so its two halves do not come back when the rows are resampled.
    # Four dimensions: the rounder the blob, the more arbitrary the cut (in three, a sample's
    # slight elongation can steer every refit to nearly the same cut, near 0.75).
    rng = np.random.default_rng(1)
    X = np.vstack(
        [rng.normal(centre, 0.3, (100, 4)) for centre in np.eye(4)[:3] * 8]
        + [rng.normal(-8, 1.0, (600, 4))]
    )
    labels = _labels(X, 5)
    found = segment_stability(X, labels, resamples=20)
    halves = [i for i in range(5) if np.abs(X[labels == i].mean(axis=0) + 8).max() < 3]
    others = [i for i in range(5) if i not in halves]
    assert len(halves) == 2
    assert max(found.segments[i] for i in halves) < 0.75
    assert min(found.segments[i] for i in others) >= 0.95
    assert {found.labels[i] for i in halves} <= {"doubtful", "unstable", "dissolves"}


@pytest.mark.parametrize(
    "jaccard,label",
    [(0.99, "very stable"), (0.85, "very stable"), (0.8, "stable"), (0.75, "stable"),
     (0.7, "doubtful"), (0.6, "doubtful"), (0.55, "unstable"), (0.5, "dissolves"),
     (0, "dissolves")],
)  # fmt: skip
def test_hennig_thresholds(jaccard, label):
    assert stability_label(jaccard) == label


def test_large_tables_resample_a_bounded_sample():
    X = _blobs(sizes=(400, 400, 400))
    found = segment_stability(X, _labels(X, 3), resamples=4, max_rows=300)
    assert found.rows == 300 and found.n_rows == 1200 and found.sampled
    entry = found.to_dict()
    assert entry["method"] == "bootstrap" and entry["resamples"] == 4
    assert entry["sample_size"] == 300 and entry["n_rows"] == 1200
    assert [s["segment"] for s in entry["segments"]] == [0, 1, 2]
    assert found.segment(0) == {
        "stability": found.segments[0],
        "stability_label": found.labels[0],
    }


def test_mean_pairwise_ari():
    same = np.array([[0, 0, 1, 1], [1, 1, 0, 0]])
    assert mean_pairwise_ari(same, 2) == pytest.approx(1.0)
    assert mean_pairwise_ari(same[:1], 2) == 1.0


def test_a_run_carries_the_stability_of_its_segments(mall_path):
    seg = segment(mall_path, features=[INCOME, SPENDING])
    assert seg.k == 5
    assert seg.stability is seg.k_choice.stability
    assert len(seg.stability.segments) == 5 and seg.stability.weakest >= 0.75
    forced = segment(mall_path, features=[INCOME, SPENDING], k=3)
    assert len(forced.stability.segments) == 3
