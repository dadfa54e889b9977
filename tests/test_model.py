import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from custseg import Segmenter


@parametrize_with_checks(
    [Segmenter(n_clusters=3, n_init=2, random_state=0)],
    expected_failed_checks=lambda est: {
        # Same as scikit-learn's own KMeans: k-means++ seeding is not weight-equivalent.
        "check_sample_weight_equivalence_on_dense_data": "KMeans init is stochastic",
    },
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


CENTRES = [[0, 0], [8, 0], [0, 8], [8, 8]]


def _blobs(seed=0, n=300):
    """Well-separated groups: K-Means' optimum is unique, so invariances must hold exactly."""
    return make_blobs(n_samples=n, centers=CENTRES, cluster_std=1.0, random_state=seed)


def test_same_input_and_seed_same_segments():
    X, _ = _blobs()
    a = Segmenter(4, random_state=7).fit(X)
    b = Segmenter(4, random_state=7).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)


def test_ids_are_ordered_by_size():
    X, _ = make_blobs(n_samples=[50, 200, 100], centers=None, random_state=1, cluster_std=0.5)
    model = Segmenter(3, random_state=0).fit(X)
    sizes = np.bincount(model.labels_)
    assert list(sizes) == sorted(sizes, reverse=True) == [200, 100, 50]
    np.testing.assert_array_equal(model.predict(X), model.labels_)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), data_seed=st.integers(0, 50))
def test_row_order_does_not_change_groups_or_ids(seed, data_seed):
    X, _ = _blobs(data_seed)
    order = np.random.default_rng(seed).permutation(len(X))
    a = Segmenter(4, random_state=0).fit(X)
    b = Segmenter(4, random_state=0).fit(X[order])
    assert adjusted_rand_score(a.labels_, b.labels_[np.argsort(order)]) == 1.0
    # Size-then-centre ordering makes even the ids identical.
    np.testing.assert_array_equal(a.labels_, b.labels_[np.argsort(order)])


def test_transform_and_score():
    X, _ = _blobs()
    model = Segmenter(4, random_state=0).fit(X)
    dist = model.transform(X)
    assert dist.shape == (len(X), 4)
    assert model.score(X) == pytest.approx(-model.inertia_, rel=1e-6)


def test_warm_start_from_centres():
    X, _ = _blobs()
    first = Segmenter(4, random_state=0).fit(X)
    warm = Segmenter(4, init=first.cluster_centers_).fit(X)
    assert warm.inertia_ == pytest.approx(first.inertia_, rel=1e-9)
