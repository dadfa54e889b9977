import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import StandardScaler

from custseg import choose_k
from custseg.exceptions import ConfigError
from custseg.pipeline.search import knee, parse_k_range

INCOME, SPENDING = "Annual Income (k$)", "Spending Score (1-100)"


def _mall(path, cols):
    return StandardScaler().fit_transform(pd.read_csv(path)[cols])


def test_mall_income_spending_recommends_5(mall_path):
    choice = choose_k(_mall(mall_path, [INCOME, SPENDING]))
    assert choice.recommended == 5
    assert choice.votes["elbow"] == 5 and choice.votes["silhouette"] == 5
    assert "k=5" in choice.reason
    assert choice.ks == list(range(2, 11))


def test_mall_three_features_recommends_5_or_6(mall_path):
    choice = choose_k(_mall(mall_path, ["Age", INCOME, SPENDING]))
    assert choice.recommended in (5, 6)
    # Disagreeing criteria are named in the reason.
    others = {v for v in choice.votes.values() if v is not None and v != choice.recommended}
    for k in others:
        assert f"points to {k}" in choice.reason


def test_metrics_per_k_are_complete():
    X = np.random.default_rng(0).normal(size=(120, 3))
    choice = choose_k(X, "2..4", n_init=2)
    for row in choice.metrics:
        assert set(row) == {"k", "inertia", "silhouette", "calinski_harabasz", "davies_bouldin"}
    inertia = choice.metric("inertia")
    assert inertia == sorted(inertia, reverse=True)


def test_silhouette_is_sampled_beyond_the_limit():
    X = np.random.default_rng(0).normal(size=(600, 2))
    choice = choose_k(X, [2, 3], n_init=1, silhouette_max=200)
    assert choice.silhouette_sample == 200
    assert choose_k(X, [2, 3], n_init=1).silhouette_sample is None


def test_knee():
    assert knee([1, 2, 3, 4, 5, 6], [100, 40, 20, 17, 15, 14]) in (2, 3)
    assert knee([2, 3], [2.0, 1.0]) is None


@pytest.mark.parametrize(
    "text,expected", [("2..5", [2, 3, 4, 5]), ("3-4", [3, 4]), ("8,3,5", [3, 5, 8])]
)
def test_parse_k_range(text, expected):
    assert parse_k_range(text) == expected


@pytest.mark.parametrize("bad", ["1..4", "a..b", ""])
def test_parse_k_range_errors(bad):
    with pytest.raises(ConfigError):
        parse_k_range(bad)
