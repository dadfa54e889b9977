"""The k recommendation: natural groups, a confidence, and an honest "none"."""

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from custseg import choose_k, segment
from custseg.model import Segmenter
from custseg.pipeline.search import CONFIDENCE
from custseg.pipeline.separation import Valley, boundaries, hidden


def _groups(k=4, n=120, seed=0, spread=0.5):
    # Centres spread in both directions, so standardising keeps the groups round.
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0], [8, 8], [0, 8], [8, 0], [4, 14], [14, 4]])[:k]
    return StandardScaler().fit_transform(
        np.vstack([rng.normal(c, spread, (n, 2)) for c in centres])
    )


def _population(kind, n=800, seed=0):
    rng = np.random.default_rng(seed)
    if kind == "gaussian":
        X = rng.normal(size=(n, 3)) @ np.array([[2, 0.5, 0], [0, 1, 0.3], [0, 0, 0.5]])
    elif kind == "lognormal":
        X = np.exp(rng.normal(0, 0.8, (n, 3)))
    else:
        X = rng.uniform(0, [1, 2, 3], (n, 3))
    return StandardScaler().fit_transform(X)


@pytest.mark.parametrize("kind", ["gaussian", "lognormal", "uniform"])
def test_one_continuous_population_has_no_natural_segments(kind):
    choice = choose_k(_population(kind), "2..6", random_state=0)
    assert choice.confidence == "none"
    assert choice.recommended in range(2, 7)  # still a partition, for targeting
    assert "one continuous population" in choice.reason
    assert "convenient partition" in choice.reason
    assert choice.reason.endswith("Confidence: none.")


@pytest.mark.parametrize("k", [2, 3, 4, 6])
def test_clear_groups_are_found_and_never_called_none(k):
    choice = choose_k(_groups(k), "2..8", random_state=0)
    assert choice.recommended == k
    assert choice.confidence == "strong"
    assert choice.stability.weakest >= 0.85
    assert choice.reason.startswith(f"k={k}: the customers thin out")


def test_unequal_groups_are_not_split_for_their_size():
    # One big group and three small ones: splitting the big one scores well on the indices that
    # reward size; it is one group, so the valleys say no.
    rng = np.random.default_rng(2)
    X = np.vstack(
        [rng.normal([0, 0], 1.2, (1500, 2))]
        + [rng.normal(c, 0.4, (60, 2)) for c in ([7, 0], [0, 7], [7, 7])]
    )
    choice = choose_k(StandardScaler().fit_transform(X), "2..8", random_state=0)
    assert choice.recommended == 4
    assert choice.confidence != "none"


def test_choose_k_result_carries_recommendation_confidence_and_evidence():
    choice = choose_k(_groups(3, n=400), [2, 3, 4], random_state=0)
    assert choice.recommended == 3 and choice.confidence in CONFIDENCE
    assert [g["k"] for g in choice.groups] == [2, 3, 4]
    assert set(choice.votes) == {"elbow", "silhouette", "calinski_harabasz", "davies_bouldin"}
    assert choice.groups[2]["splits_group"]  # 4 cuts one of the three groups in two


def test_a_given_k_is_honoured_exactly_and_the_advice_kept(sample):
    seg = segment(sample, k=3)
    assert seg.k == 3 and seg.k_choice.recommended == 5
    assert len(seg.stability.segments) == 3


def test_valleys_between_and_inside_segments():
    X = _groups(2, n=200)
    labels = Segmenter(2, random_state=0).fit(X).labels_
    between = boundaries(X, labels, 2)
    assert len(between) == 1 and isinstance(between[0], Valley)
    assert between[0].significant and between[0].ratio < 0.2
    together = hidden(X, np.zeros(len(X), dtype=int), 1)
    assert together[0].significant  # one segment holding both groups hides them
    assert not any(v.significant for v in hidden(X, labels, 2))
