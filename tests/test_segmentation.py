import json

import numpy as np
import pandas as pd
import pytest

from custseg import segment
from custseg.exceptions import ConfigError, DataError

INCOME, SPENDING = "Annual Income (k$)", "Spending Score (1-100)"


def test_sample_data_has_five_segments(sample):
    seg = segment(sample)
    assert seg.k == seg.k_choice.recommended == 5
    assert seg.features == ["Age", INCOME, SPENDING]
    assert any("CustomerID" in n for n in seg.notes)


def test_assignments_keep_every_row_untouched(mall_path):
    raw = pd.read_csv(mall_path, dtype=str)
    seg = segment(mall_path, features=[INCOME, SPENDING])
    out = seg.assignments()
    assert len(out) == len(raw)
    pd.testing.assert_frame_equal(out[raw.columns].astype(str), raw, check_dtype=False)
    assert out["segment"].notna().all()
    assert set(out["segment_name"]) == {p.name for p in seg.profiles}


def test_centres_in_original_units_match_segment_means(mall_path):
    seg = segment(mall_path, features=[INCOME, SPENDING])
    means = pd.DataFrame([p.means for p in seg.profiles])[[INCOME, SPENDING]]
    np.testing.assert_allclose(seg.centers.to_numpy(), means.to_numpy(), rtol=1e-6)


@pytest.mark.parametrize("scale", ["standard", "minmax", "robust", "none"])
def test_scalers(sample, scale):
    seg = segment(sample, scale=scale, k=5)
    assert seg.k == 5 and seg.plan.scale == scale
    assert seg.centers.shape == (5, 3)


def test_log_and_one_hot(wholesale_path):
    seg = segment(wholesale_path, log="auto", one_hot="Channel", k=4)
    assert "Fresh" in seg.plan.log
    assert seg.plan.categorical == ("Channel",)
    # Centres come back in original (not log) units.
    fresh = seg.centers["Fresh"]
    assert fresh.min() > 100


def test_missing_values_imputed_or_dropped(sample):
    frame = sample.copy()
    frame.loc[[1, 5, 9], "Age"] = np.nan
    imputed = segment(frame, k=5)
    assert imputed.missing == {"Age": 3, INCOME: 0, SPENDING: 0}
    assert (imputed.labels >= 0).all()
    dropped = segment(frame, k=5, missing="drop")
    assert (dropped.labels == -1).sum() == 3
    assert dropped.assignments()["segment"].isna().sum() == 3
    with pytest.raises(DataError, match="3 missing values"):
        segment(frame, missing="error")


def test_given_k_overrides_and_keeps_the_evidence(sample):
    seg = segment(sample, k=3)
    assert seg.k == 3 and seg.k_choice.recommended == 5
    assert len(seg.k_choice.metrics) == 9


def test_summary_schema(sample):
    summary = segment(sample).summary()
    for key in ("n_rows", "features", "k", "k_recommended", "metrics", "segments", "versions"):
        assert key in summary
    assert set(summary["metrics"][0]) >= {
        "k",
        "inertia",
        "silhouette",
        "calinski_harabasz",
        "davies_bouldin",
    }
    seg0 = summary["segments"][0]
    assert set(seg0) >= {"id", "name", "size", "share", "means"}
    json.dumps(summary, allow_nan=False)


def test_bad_parameters(sample):
    # The library names the parameter; the CLI shows its flag (test_cli).
    with pytest.raises(ConfigError, match="^k must be 'auto' or a whole number, not 'many'"):
        segment(sample, k="many")
    with pytest.raises(ConfigError, match="^scale must be one of standard"):
        segment(sample, scale="zscore")
    with pytest.raises(ConfigError, match="^kk is not an option of a run; did you mean 'k'"):
        segment(sample, kk=3)
    with pytest.raises(DataError, match="fewer than the 300 segments"):
        segment(sample, k=300)


def test_overflowing_values_are_a_clear_error():
    frame = pd.DataFrame({"a": [1e308, -1e308, 1.0, 2.0] * 5, "b": np.arange(20.0)})
    with pytest.raises(DataError, match="too large"):
        segment(frame, k=2)


def test_notebook_repr(sample):
    seg = segment(sample)
    html = seg._repr_html_()
    assert "segments of 200 customers" in html and "<script" not in html
    assert all(p.name in html for p in seg.profiles)  # a card per segment


def test_a_chosen_k_is_shown_as_chosen_everywhere(sample):
    auto = segment(sample)
    chosen = segment(sample, k=3)
    assert auto.k_reason == auto.k_choice.reason
    assert chosen.k == 3 and chosen.k_choice.recommended == auto.k != 3
    reason = chosen.k_reason
    assert reason.startswith(f"You chose k = 3; the recommendation was k = {auto.k}: ")
    assert chosen.summary()["k_reason"] == reason
    page = chosen.report()
    assert "Why 3 segments?" in page and f"Why {auto.k} segments?" not in page
