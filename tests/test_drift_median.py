"""Drift's median check: a x1.5 money column is flagged, resamples of training stay quiet."""

import numpy as np
import pandas as pd
import pytest

from custseg import load_model, segment
from custseg.scoring.drift import MEDIAN_MOVED, median_shift


@pytest.fixture(scope="module")
def training():
    rng = np.random.default_rng(0)
    n = 8950
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(n),
            # Skewed amounts, a fifth of them zero, as credit-card purchases are.
            "purchases": np.round(
                np.where(rng.random(n) < 0.2, 0, rng.lognormal(np.log(873), 1.3, n)), 2
            ),
            "balance": np.round(rng.lognormal(np.log(1500), 0.9, n), 2),
            "tenure": rng.integers(6, 13, n),
            "purchases_frequency": rng.random(n),
        }
    )
    return frame


@pytest.fixture(scope="module")
def model(training, tmp_path_factory):
    seg = segment(training, seed=0, id_column="customer_id")
    return load_model(seg.save(tmp_path_factory.mktemp("m") / "model.skops"))


@pytest.mark.parametrize("column", ["purchases", "balance"])
def test_money_column_times_one_and_a_half_is_flagged(model, training, column):
    batch = training.sample(2000, random_state=99).copy()
    batch[column] = batch[column] * 1.5
    drift = model.predict(batch).drift
    shift = next(f for f in drift.features if f.feature == column)
    if column == "purchases":  # zeros and a long tail: the PSI alone calls this stable
        assert shift.psi_status == "stable" and shift.psi < 0.1
    assert shift.status in ("watch", "moved")
    assert shift.median_change > 0.3 and shift.median_p_value < 1e-6
    others = [f.status for f in drift.features if f.feature != column]
    assert others == ["stable"] * len(others)


def test_resamples_of_training_stay_stable(model, training):
    alarms = 0
    for seed in range(20):
        drift = model.predict(training.sample(2000, random_state=seed)).drift
        flagged = [f.feature for f in drift.features if f.status != "stable"]
        alarms += bool(flagged or drift.moved)
        assert all(abs(f.median_change or 0) < 0.15 for f in drift.features)
    assert alarms <= 1


def test_median_check_skips_columns_that_are_not_amounts():
    ref = {"edges": [-2.0, -1.0, 0.0, 1.0], "shares": [0.2] * 5}
    quantiles = [-3.0, -2.5, -2.0, -1.5, -1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0]
    assert median_shift(np.array([5.0, 6.0]), quantiles, ref) is None  # negative values
    zero_median = [0.0] * 6 + [1.0, 2.0, 3.0, 4.0, 5.0]
    assert median_shift(np.array([5.0]), zero_median, {"edges": [0.0, 1.0], "shares": []}) is None


def test_a_doubled_median_is_moved():
    quantiles = [float(q) for q in range(0, 110, 10)]
    ref = {"edges": quantiles[1:-1], "shares": [0.1] * 10}
    now = np.linspace(0, 200, 500)
    shift = median_shift(now, quantiles, ref)
    assert shift.change == pytest.approx(1.0) and shift.change >= MEDIAN_MOVED
    assert shift.status == "moved" and shift.crossed < -0.2
