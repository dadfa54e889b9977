"""The large-table path: k compared on a seeded sample, warm-started full fit, float32."""

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

import custseg.pipeline.fit as fit_step
import custseg.pipeline.prepare as prepare_step
from custseg import sample_customers, segment
from custseg.pipeline.search import k_search_sample


def test_sampling_rule():
    assert k_search_sample(25_000, seed=0) is None
    rows = k_search_sample(1_000_000, seed=0)
    assert len(rows) == 25_000 == len(np.unique(rows))
    assert (np.diff(rows) > 0).all() and rows.max() < 1_000_000
    np.testing.assert_array_equal(rows, k_search_sample(1_000_000, seed=0))
    assert not np.array_equal(rows, k_search_sample(1_000_000, seed=1))
    assert len(k_search_sample(10_000, seed=0, size=2_000)) == 2_000


@pytest.fixture(scope="module")
def big():
    return sample_customers(8_000, seed=3)


def test_warm_started_fit_matches_a_full_fit(big):
    full = segment(big, k=5, k_range="4..6")
    sampled = segment(big, k=5, k_range="4..6", k_search_rows=2_000)
    assert full.params["k_search_rows"] == 8_000
    assert sampled.params["k_search_rows"] == 2_000
    assert any("sample of 2,000 of 8,000 rows" in n for n in sampled.notes)
    assert sampled.model.inertia_ <= full.model.inertia_ * 1.005
    assert adjusted_rand_score(full.labels, sampled.labels) > 0.99


def test_sample_recommends_the_same_k(big):
    assert segment(big, k_search_rows=2_000, n_init=3).k == segment(big, n_init=3).k == 5


def test_float32_on_large_tables_gives_the_same_segments(big, monkeypatch):
    reference = segment(big, k=5, k_range=[5])
    monkeypatch.setattr(prepare_step, "FLOAT32_ROWS", 1_000)
    small = segment(big, k=5, k_range=[5])
    assert small.params["dtype"] == "float32" and reference.params["dtype"] == "float64"
    assert adjusted_rand_score(reference.labels, small.labels) > 0.999
    assert small.model.inertia_ == pytest.approx(reference.model.inertia_, rel=1e-4)


def test_progress_callback_reports_each_step(sample):
    seen = []
    segment(sample, progress=lambda step, done, total: seen.append((step, done, total)))
    assert ("choose k", 9, 9) in seen and ("fit segments", 1, 1) in seen


def test_summary_records_sampling(big):
    summary = segment(big, k=5, k_range="4..5", k_search_rows=2_000).summary()
    assert summary["params"]["k_search_rows"] == 2_000
    assert summary["params"]["k_search_seed"] == 0
    assert summary["silhouette_sample_size"] is None  # 2,000 rows: exact on the sample


def test_distance_to_centre_is_chunked_without_changing_values():
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(1000, 3)).astype(np.float32)
    centers = rng.normal(size=(4, 3)).astype(np.float32)
    labels = rng.integers(0, 4, size=1000)
    direct = np.sqrt(((Z - centers[labels]) ** 2).sum(axis=1))
    chunked = fit_step.distance_to_centre(Z, centers, labels, chunk=77)
    assert chunked.dtype == np.float64
    np.testing.assert_allclose(chunked, direct, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_column_median_imputes_like_the_median_strategy(dtype):
    from sklearn.impute import SimpleImputer

    from custseg.features import column_median

    rng = np.random.default_rng(0)
    X = rng.normal(size=(1001, 4)).astype(dtype)
    X[rng.random(X.shape) < 0.2] = np.nan
    X[:6, 3] = np.nan  # an even count of present values in some column is likely too
    ours = SimpleImputer(strategy=column_median).fit(X)
    theirs = SimpleImputer(strategy="median").fit(X)
    np.testing.assert_array_equal(ours.statistics_, theirs.statistics_)
    np.testing.assert_array_equal(ours.transform(X), theirs.transform(X))


def test_category_text_is_str_of_each_value_with_missing_as_nan():
    import pandas as pd

    from custseg.features import category_text

    cases = [
        pd.Series(["a", None, "b", "a"]),
        pd.Series([1.0, np.nan, 2.0]),
        pd.Series([1, "1", "x", None], dtype=object),
        pd.Series(pd.array(["x", None, "y"], dtype="string")),
        pd.Series([1, None, 1], dtype="Int64"),
        pd.Series(["a", "b", None], dtype="category"),
    ]
    for series in cases:
        expected = [np.nan if pd.isna(v) else str(v) for v in series.astype(object)]
        got = category_text(series).tolist()
        assert [("nan" if isinstance(v, float) else v) for v in got] == [
            ("nan" if isinstance(v, float) else v) for v in expected
        ]
        assert all(isinstance(v, str) or np.isnan(v) for v in got)
    # rows share one string object per category (no per-row strings on big tables)
    text = category_text(pd.Series(["Male", "Female"] * 1000))
    assert len({id(v) for v in text}) == 2
