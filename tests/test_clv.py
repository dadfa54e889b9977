"""Customer value for RFM (issue 15, item 3): BG/NBD and Gamma-Gamma through PyMC-Marketing."""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize
from scipy.special import betaln, gammaln
from typer.testing import CliRunner

from custseg.cli import app
from custseg.exceptions import MissingDependencyError, OptionError
from custseg.rfm import RFMOptions, rfm_features, segment_rfm
from custseg.rfm.value import VALUE_COLUMNS, customer_value

pytest.importorskip("pymc_marketing", reason="needs the clv extra")


def transactions(n: int = 300, seed: int = 0, weeks: int = 52) -> pd.DataFrame:
    """Purchases drawn from the BG/NBD story: each customer buys at their own rate and may stop
    for good after any purchase; spend per purchase varies around a customer's own mean."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.5, 1 / 2.0, n)  # purchases per week
    drop = rng.beta(1.0, 4.0, n)
    start = pd.Timestamp("2024-01-01")
    rows = []
    for i in range(n):
        week, mean = rng.uniform(0, weeks / 2), rng.gamma(4, 2.5)
        while week < weeks:
            day = start + pd.Timedelta(days=int(week * 7))
            rows.append((f"C{i:04d}", day, round(rng.gamma(6, mean / 6), 2)))
            if rng.random() < drop[i]:
                break
            week += rng.exponential(1 / rate[i])
    return pd.DataFrame(rows, columns=["customer", "date", "amount"])


def bgnbd_mle(features: pd.DataFrame) -> dict[str, float]:
    """BG/NBD maximum likelihood (Fader, Hardie & Lee 2005, eq. 6), in weeks, with scipy."""
    x = features["repeat_purchases"].to_numpy(float)
    t_x = (features["tenure"] - features["recency"]).to_numpy(float) / 7
    T = features["tenure"].to_numpy(float) / 7

    def minus_log_likelihood(log_params: np.ndarray) -> float:
        r, alpha, a, b = np.exp(log_params)
        common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        alive = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
        with np.errstate(divide="ignore", invalid="ignore"):
            gone = np.where(
                x > 0,
                betaln(a + 1, b + x - 1) - betaln(a, b) - (r + x) * np.log(alpha + t_x),
                -np.inf,
            )
        return -float((common + np.logaddexp(alive, gone)).sum())

    fit = minimize(minus_log_likelihood, np.zeros(4), method="L-BFGS-B")
    assert fit.success, fit.message
    return dict(zip(("r", "alpha", "a", "b"), np.exp(fit.x), strict=True))


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return transactions()


@pytest.fixture(scope="module")
def seg(small):
    return segment_rfm(small, k=3, k_range=[3], n_init=2, clv=True, as_of="2024-12-31")


# ---------------------------------------------------------------- options and inputs


def test_options_check_horizon_rate_and_method():
    assert RFMOptions().clv is False
    assert (RFMOptions().horizon, RFMOptions().discount_rate) == (365, 0.1)
    with pytest.raises(OptionError, match="horizon must be a whole number of days, at least 30"):
        RFMOptions(horizon=7)
    with pytest.raises(OptionError, match=r"for 10% write 0.1"):
        RFMOptions(discount_rate=10)
    with pytest.raises(OptionError, match="map .* or mcmc"):
        RFMOptions(clv_method="nuts")


def test_repeat_purchases_count_days_not_invoices_and_spend_leaves_out_the_first_day():
    table = pd.DataFrame(
        {
            "customer": ["a", "a", "a", "a", "b", "c", "c"],
            "invoice": ["1", "2", "3", "4", "5", "6", "C7"],
            "date": ["2024-01-01", "2024-01-01", "2024-02-01", "2024-03-01", "2024-01-05"]
            + ["2024-01-03", "2024-03-01"],
            "amount": [10.0, 5.0, 30.0, 20.0, 7.0, 4.0, 1.0],
        }
    )
    features, _ = rfm_features(table, clv=True)
    got = features.set_index("customer")
    assert got.loc["a", "frequency"] == 4  # invoices, for the segments
    assert got.loc["a", "repeat_purchases"] == 2  # 3 purchase days, the first one not a repeat
    assert got.loc["a", "mean_repeat_spend"] == pytest.approx((30 + 20) / 2)
    assert got.loc["b", "repeat_purchases"] == 0 and np.isnan(got.loc["b", "mean_repeat_spend"])
    assert got.loc["c", "repeat_purchases"] == 0  # a cancellation is not a purchase
    assert "repeat_purchases" not in rfm_features(table)[0].columns


# ---------------------------------------------------------------- the models


def test_purchase_model_is_the_maximum_likelihood_fit(small):
    features, _ = rfm_features(small, clv=True, as_of="2024-12-31")
    values, report = customer_value(features, RFMOptions(clv=True))
    mle = bgnbd_mle(features)
    for name, value in mle.items():
        assert report["parameters"][name] == pytest.approx(value, rel=0.01), name
    assert list(values.columns) == list(VALUE_COLUMNS)
    assert (values["p_alive"].between(0, 1)).all()
    assert (values["expected_purchases"] >= 0).all() and (values["clv"] >= 0).all()
    # One-time buyers get the population's mean spend; repeat buyers are pulled towards theirs.
    once = features["repeat_purchases"].to_numpy() == 0
    assert values["expected_avg_spend"][once].nunique() == 1


def test_discounting_and_horizon_change_value_as_they_should(small):
    features, _ = rfm_features(small, clv=True, as_of="2024-12-31")
    base, _ = customer_value(features, RFMOptions(clv=True, discount_rate=0.0))
    discounted, _ = customer_value(features, RFMOptions(clv=True, discount_rate=0.5))
    longer, _ = customer_value(features, RFMOptions(clv=True, horizon=730, discount_rate=0.0))
    assert (discounted["clv"] <= base["clv"] + 1e-9).all()
    assert discounted["clv"].sum() < 0.9 * base["clv"].sum()
    assert (longer["expected_purchases"] >= base["expected_purchases"]).all()
    # Undiscounted, value is expected purchases times expected spend.
    np.testing.assert_allclose(
        base["clv"], base["expected_purchases"] * base["expected_avg_spend"], rtol=1e-3, atol=1e-3
    )


def test_too_few_repeat_customers_is_a_clear_error():
    table = pd.DataFrame(
        {"customer": ["a", "b", "c"], "date": ["2024-01-01"] * 3, "amount": [1.0, 2.0, 3.0]}
    )
    features, _ = rfm_features(table, clv=True)
    with pytest.raises(Exception, match="at least 2 customers who bought again"):
        customer_value(features, RFMOptions(clv=True))


# ---------------------------------------------------------------- segments, summary, report


def test_summary_ranks_segments_by_value(seg):
    summary = seg.summary()["clv"]
    assert summary["method"] == "MAP"
    assert set(summary["parameters"]) == {"r", "alpha", "a", "b", "p", "q", "v"}
    assert "weeks" in summary["time_unit"]
    rows = summary["segments"]
    totals = [row["total_clv"] for row in rows]
    assert totals == sorted(totals, reverse=True)
    assert sum(row["customers"] for row in rows) == seg.n_used
    table = seg.rfm_table
    assert sum(totals) == pytest.approx(table["clv"].sum(), rel=1e-6)
    for row in rows:
        members = seg.assignments().query("segment == @row['segment']")
        assert row["mean_p_alive"] == pytest.approx(members["p_alive"].mean(), abs=1e-6)
    assert seg.params["clv_method"] == "map"


def test_cli_writes_values_and_the_report_ranks_segments(small, seg, tmp_path):
    source = tmp_path / "tx.csv"
    small.to_csv(source, index=False)
    before = source.read_bytes()
    out = tmp_path / "out"
    args = ["rfm", str(source), "--clv", "--as-of", "2024-12-31", "--k", "3", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Segments by customer value" in result.output
    assert source.read_bytes() == before
    written = pd.read_csv(out / "rfm_features.csv")
    assert set(VALUE_COLUMNS) <= set(written.columns)
    # Deterministic: this run's values are those of the same fit in Python (fixture ``seg``).
    for column in VALUE_COLUMNS:
        np.testing.assert_allclose(written[column], seg.rfm_table[column], rtol=1e-9, atol=1e-9)
    summary = json.loads((out / "summary.json").read_text())
    names = [row["name"] for row in summary["clv"]["segments"]]
    page = (out / "report.html").read_text()
    assert 'id="value"' in page
    section = page[page.index('id="value"') :]
    assert [section.index(name) for name in names] == sorted(section.index(n) for n in names)


def test_cli_bad_rate_exits_2_naming_the_flag(small, tmp_path):
    source = tmp_path / "tx.csv"
    small.to_csv(source, index=False)
    result = CliRunner().invoke(app, ["rfm", str(source), "--clv", "--discount-rate", "8"])
    assert result.exit_code == 2
    assert "--discount-rate must be a yearly rate" in result.output
    assert "Traceback" not in result.output


def test_without_the_extra_clv_names_it(small, tmp_path, monkeypatch):
    # The extra is installed here: hide it as an environment without it would.
    for name in [m for m in sys.modules if m.split(".")[0] in ("pymc_marketing", "pymc_extras")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pymc_marketing", None)
    features, _ = rfm_features(small, clv=True)
    with pytest.raises(MissingDependencyError, match=r"pip install 'custseg\[clv\]'"):
        customer_value(features, RFMOptions(clv=True))
    source = tmp_path / "tx.csv"
    small.to_csv(source, index=False)
    result = CliRunner().invoke(app, ["rfm", str(source), "--clv", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "custseg[clv]" in result.output
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------- CDNOW


def test_cdnow_purchase_model_matches_a_direct_likelihood_fit(cdnow_path):
    """Calibration 1997-01-01 to 1997-09-30, as in Fader, Hardie & Lee's own use of CDNOW."""
    features, report = rfm_features(cdnow_path, clv=True, as_of="1997-10-01")
    assert report["customers"] == 23_570
    _, fitted = customer_value(features, RFMOptions(clv=True))
    mle = bgnbd_mle(features)
    for name, value in mle.items():
        assert fitted["parameters"][name] == pytest.approx(value, rel=0.05), name
