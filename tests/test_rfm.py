"""RFM from transactions (issue 7): features, messy-data rules, scores, naming, CLI."""

from __future__ import annotations

import html
import json
import re
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from custseg import ConfigError, DataError, SourceError, sample_customers, segment
from custseg.cli import app
from custseg.pipeline.explain import describe, load_rules
from custseg.rfm import (
    RF_GRID,
    parse_dates,
    quintile_scores,
    recognise_columns,
    rfm_features,
    rfm_rules_path,
    rfm_scores,
    segment_rfm,
)

RFM_NAMES = {
    "Champions",
    "Loyal",
    "Potential loyalists",
    "New",
    "Promising",
    "Need attention",
    "About to sleep",
    "At risk",
    "Can't lose them",
    "Hibernating",
    "Big spenders",
}


def base_name(name: str) -> str:
    return name.split(",")[0].split(" (")[0]


def known() -> pd.DataFrame:
    """Six order lines of three customers; the answer is worked out by hand in the test."""
    return pd.DataFrame(
        {
            "InvoiceNo": ["1001", "1001", "1002", "1003", "C1004", "1005"],
            "CustomerID": ["A", "A", "A", "B", "A", "C"],
            "InvoiceDate": [
                "2024-01-01 09:30",
                "2024-01-01 09:30",
                "2024-01-15 17:00",
                "2023-12-01 10:00",
                "2024-01-20 12:00",
                "2024-01-31 08:00",
            ],
            "Quantity": [2, 1, 1, 4, -1, 1],
            "UnitPrice": [10.0, 5.0, 30.0, 2.5, 5.0, 100.0],
        }
    )


def by_customer(features: pd.DataFrame) -> pd.DataFrame:
    return features.set_index("customer")


# ---------------------------------------------------------------- CDNOW


def test_cdnow_features_match_the_documented_totals(cdnow_path):
    features, report = rfm_features(cdnow_path)
    assert len(features) == 23_570
    assert report["customers"] == 23_570
    assert report["rows_read"] == report["rows_used"] == 69_659
    assert report["total_spend"] == pytest.approx(2_500_315.63, abs=0.005)
    assert features["monetary"].sum() == pytest.approx(2_500_315.63, abs=0.005)
    assert (report["first_date"], report["last_date"]) == ("1997-01-01", "1998-06-30")
    assert report["as_of"] == "1998-07-01"
    assert report["columns"] == {
        "customer": "customer",
        "date": "date",
        "amount": "amount",
        "quantity": "quantity",
        "price": None,
        "invoice": None,
    }
    assert features["first_purchase"].min() == date(1997, 1, 1)
    assert features["last_purchase"].max() == date(1998, 6, 30)
    # Zero-padded ids keep their zeros; the first customer bought once, on 1997-01-01.
    first = by_customer(features).loc["00001"]
    assert (first["recency"], first["frequency"], first["tenure"]) == (546, 1, 546)
    assert first["monetary"] == pytest.approx(11.77)


def test_cdnow_features_agree_with_an_independent_pandas_computation(cdnow_path):
    raw = pd.read_csv(
        cdnow_path,
        sep=r"\s+",
        header=None,
        names=["cust", "date", "qty", "amount"],
        dtype={"cust": str, "date": str},
    )
    raw["day"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    as_of = raw["day"].max() + pd.Timedelta(days=1)
    expected = raw.groupby("cust").agg(
        first=("day", "min"), last=("day", "max"), days=("day", "nunique"), spend=("amount", "sum")
    )
    got = by_customer(rfm_features(cdnow_path)[0]).loc[expected.index]
    assert (got["recency"].to_numpy() == (as_of - expected["last"]).dt.days.to_numpy()).all()
    assert (got["tenure"].to_numpy() == (as_of - expected["first"]).dt.days.to_numpy()).all()
    assert (got["frequency"].to_numpy() == expected["days"].to_numpy()).all()
    np.testing.assert_allclose(got["monetary"], expected["spend"], atol=1e-6)
    np.testing.assert_allclose(got["avg_order_value"], expected["spend"] / expected["days"])


def test_cdnow_segmentation_has_sensible_rfm_names(cdnow_path):
    seg = segment_rfm(cdnow_path, k=4, k_range=[4], n_init=2)
    assert seg.k == 4 and int(seg.used.sum()) == 23_570
    assert seg.plan.log == ("frequency", "monetary")
    assert {base_name(n) for n in seg.names.values()} <= RFM_NAMES
    centers = seg.profile_table()
    best = centers["recency"].idxmin()  # most recent ...
    worst = centers["recency"].idxmax()  # ... and most lapsed segment
    assert centers.loc[best, "frequency"] == centers["frequency"].max()
    assert base_name(seg.names[best]) == "Champions"
    assert base_name(seg.names[worst]) == "Hibernating"
    # The classic scores agree: Champions score high on R, F, M; Hibernating low.
    means = seg.score_means()
    assert means.loc[best, ["R", "F", "M"]].min() > 4
    assert means.loc[worst, ["R", "F"]].max() < 2.5
    summary = seg.summary()
    assert summary["rfm"]["customers"] == 23_570
    crosstab = summary["rfm"]["crosstab"][seg.names[best]]
    assert max(crosstab, key=crosstab.get) == "Champions"
    json.dumps(summary)


def test_report_shows_the_segments_against_the_classic_grid(cdnow_path):
    seg = segment_rfm(cdnow_path, k=3, k_range=[3], n_init=1)
    page = seg.report()
    assert '<a href="#rfm">RFM</a>' in page
    start = page.index('<section id="rfm">')
    section = page[start : page.index("</section>", start)]
    assert "23,570 customers" in section and "2,500,315.63" in section
    crosstab = seg.comparison()
    rows = re.findall(
        r"<tr><td class=\"name\"><i class=\"swatch\"[^>]*></i>(.*?)</td>(.*?)</tr>", section, re.S
    )
    assert [html.unescape(name) for name, _ in rows] == [p.name for p in seg.profiles]
    header = re.findall(r'<th class="num">(.*?)</th>', section)[3:]  # after R, F, M
    for profile, (_, cells) in zip(seg.profiles, rows, strict=True):
        numbers = [int(n.replace(",", "")) for n in re.findall(r">([\d,]+)</td>", cells)]
        assert sum(numbers) == profile.size
        counts = crosstab.loc[profile.name]
        assert numbers == [int(counts.get(html.unescape(c), 0)) for c in header]
        top = re.search(r'class="num top"[^>]*>([\d,]+)<', cells).group(1)
        assert int(top.replace(",", "")) == counts.max()
    assert '<section id="rfm">' not in segment(sample_customers(200)).report()


# ---------------------------------------------------------------- known answer


def test_known_answer_by_hand():
    features, report = rfm_features(known())  # columns recognised by name
    assert report["columns"] == {
        "customer": "CustomerID",
        "date": "InvoiceDate",
        "amount": None,
        "quantity": "Quantity",
        "price": "UnitPrice",
        "invoice": "InvoiceNo",
    }
    assert report["as_of"] == "2024-02-01"  # the day after the last transaction
    got = by_customer(features)
    assert list(got.index) == ["A", "B", "C"]
    # A: invoices 1001 (2x10 + 1x5) and 1002 (30); C1004 returns 5 on 2024-01-20.
    expected = {
        "A": dict(recency=17, frequency=2, monetary=50.0, tenure=31, avg_order_value=25.0),
        "B": dict(recency=62, frequency=1, monetary=10.0, tenure=62, avg_order_value=10.0),
        "C": dict(recency=1, frequency=1, monetary=100.0, tenure=1, avg_order_value=100.0),
    }
    for cust, values in expected.items():
        for col, value in values.items():
            assert got.loc[cust, col] == pytest.approx(value), (cust, col)
    assert got.loc["A", "last_purchase"] == date(2024, 1, 15)
    assert report["returns"] == {"rule": "net", "rows": 1, "amount_netted": -5.0}
    assert report["total_spend"] == pytest.approx(160.0)


def test_explicit_columns_and_as_of():
    features, report = rfm_features(
        known(),
        customer="CustomerID",
        date="InvoiceDate",
        quantity="Quantity",
        price="UnitPrice",
        invoice="InvoiceNo",
        as_of="2024-01-31",
    )
    got = by_customer(features)
    assert report["as_of"] == "2024-01-31"
    assert got.loc["A", "recency"] == 16 and got.loc["C", "recency"] == 0


def test_row_order_does_not_matter():
    frame = known()
    shuffled = frame.sample(frac=1, random_state=3).reset_index(drop=True)
    a, _ = rfm_features(frame)
    b, _ = rfm_features(shuffled)
    pd.testing.assert_frame_equal(a, b)


# ---------------------------------------------------------------- messy-data rules


def test_cancellations_are_netted_not_counted_as_orders():
    got = by_customer(rfm_features(known())[0])
    # C1004 (a cancellation dated after A's last purchase) lowers spend but is not an order
    # and does not make A more recent.
    assert got.loc["A", "frequency"] == 2
    assert got.loc["A", "recency"] == 17
    assert got.loc["A", "monetary"] == pytest.approx(50.0)


def test_cancellation_with_a_positive_amount_still_counts_negative():
    frame = pd.DataFrame(
        {
            "customer": ["A", "A"],
            "invoice": ["1", "c2"],
            "date": ["2024-01-01", "2024-01-02"],
            "amount": [40.0, 15.0],  # some exports give cancellations a positive amount
        }
    )
    features, report = rfm_features(frame)
    assert features.loc[0, "monetary"] == pytest.approx(25.0)
    assert report["returns"]["rows"] == 1


def test_returns_exclude_drops_return_rows():
    features, report = rfm_features(known(), returns="exclude")
    got = by_customer(features)
    assert got.loc["A", "monetary"] == pytest.approx(55.0)
    assert report["dropped_rows"]["returns and cancellations (excluded)"] == 1
    assert report["returns"]["amount_netted"] == 0.0


def test_negative_quantity_without_invoice_is_a_return():
    frame = pd.DataFrame(
        {
            "customer": ["A", "A", "A"],
            "date": ["20240101", "20240105", "20240110"],
            "quantity": [3, 1, -1],
            "price": [10.0, 10.0, 10.0],
        }
    )
    features, report = rfm_features(frame)
    row = features.iloc[0]
    assert (row["frequency"], row["monetary"], row["recency"]) == (2, 30.0, 6)
    assert report["frequency_counts"] == "purchase days"


def test_rows_without_customer_id_are_dropped_and_counted():
    frame = pd.DataFrame(
        {
            "customer": ["A", None, "", "  ", "B", np.nan],
            "date": ["2024-01-01"] * 6,
            "amount": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )
    features, report = rfm_features(frame)
    assert list(features["customer"]) == ["A", "B"]
    assert report["dropped_rows"]["missing customer id"] == 4
    assert report["total_spend"] == pytest.approx(6.0)
    assert any("4 rows with missing customer id" in n for n in report["notes"])


def test_rows_without_date_or_amount_are_dropped_and_counted():
    frame = pd.DataFrame(
        {
            "customer": ["A", "A", "A", "B"],
            "date": ["2024-01-01", None, "2024-01-03", "2024-01-04"],
            "amount": [1.0, 2.0, None, 4.0],
        }
    )
    features, report = rfm_features(frame)
    assert report["dropped_rows"]["missing date"] == 1
    assert report["dropped_rows"]["missing amount"] == 1
    assert by_customer(features).loc["A", "monetary"] == 1.0


def test_customers_with_only_returns_are_dropped():
    frame = pd.DataFrame(
        {
            "customer": ["A", "B"],
            "date": ["2024-01-01", "2024-01-02"],
            "amount": [10.0, -5.0],
        }
    )
    features, report = rfm_features(frame)
    assert list(features["customer"]) == ["A"]
    assert report["customers_only_returns"] == 1


def test_negative_net_spend_becomes_zero_and_zero_spend_is_kept():
    frame = pd.DataFrame(
        {
            "customer": ["A", "A", "B", "C", "C"],
            "date": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"],
            "amount": [10.0, -25.0, 0.0, 0.1, 0.2],
        }
    )
    features, report = rfm_features(frame)
    got = by_customer(features)
    assert got.loc["A", "monetary"] == 0.0 and got.loc["A", "frequency"] == 1
    assert got.loc["B", "monetary"] == 0.0 and got.loc["B", "frequency"] == 1  # a free order
    assert got.loc["C", "monetary"] == 0.3  # no float dust (0.30000000000000004)
    assert report["customers_negative_net"] == 1
    assert report["customers_zero_spend"] == 1


def test_rows_after_as_of_are_ignored():
    features, report = rfm_features(known(), as_of=date(2024, 1, 10))
    got = by_customer(features)
    assert "C" not in got.index
    assert got.loc["A", "frequency"] == 1 and got.loc["A", "monetary"] == 25.0
    assert report["dropped_rows"]["after as-of date"] == 3
    assert (report["first_date"], report["last_date"]) == ("2023-12-01", "2024-01-01")
    assert report["as_of"] == "2024-01-10"


def test_empty_invoice_numbers_count_one_order_per_day():
    frame = pd.DataFrame(
        {
            "customer": ["A", "A", "A", "A"],
            "invoice": ["9", None, None, ""],
            "date": ["2024-01-01", "2024-01-01", "2024-01-01", "2024-01-02"],
            "amount": [1.0, 1.0, 1.0, 1.0],
        }
    )
    assert rfm_features(frame)[0].loc[0, "frequency"] == 3  # invoice 9, day 1, day 2


@pytest.mark.parametrize(
    ("values", "dayfirst"),
    [
        (["20240115", "20231201"], False),
        ([20240115, 20231201], False),
        (["2024-01-15", "2023-12-01"], False),
        (["2024-01-15 08:26:00", "2023-12-01T23:59:59"], False),
        (["2024/01/15", "2023/12/01"], False),
        (["01/15/2024", "12/1/2023"], False),
        (["15/01/2024", "01/12/2023"], True),
        (["15.01.2024", "1.12.2023"], True),
        (["15-01-24", "01-12-23"], True),
        ([pd.Timestamp("2024-01-15 13:00"), pd.Timestamp("2023-12-01")], False),
    ],
)
def test_date_formats(values, dayfirst):
    frame = pd.DataFrame({"customer": ["A", "B"], "date": values, "amount": [1.0, 2.0]})
    features, report = rfm_features(frame, dayfirst=dayfirst)
    got = by_customer(features)
    assert got.loc["A", "last_purchase"] == date(2024, 1, 15)
    assert got.loc["B", "last_purchase"] == date(2023, 12, 1)
    assert got.loc["B", "recency"] == 46


def test_day_first_dates_need_dayfirst():
    frame = pd.DataFrame({"c": ["A", "B"], "date": ["13/01/2024", "01/02/2024"], "amount": [1, 2]})
    with pytest.raises(DataError, match=r"'13/01/2024'.*--dayfirst"):
        rfm_features(frame, customer="c")
    month_first = frame.assign(date=["01/13/2024", "01/02/2024"])
    with pytest.raises(DataError, match=r"'01/13/2024'.*drop --dayfirst"):
        rfm_features(month_first, customer="c", dayfirst=True)


def test_ambiguous_slashed_dates_are_read_month_first_with_a_note():
    frame = pd.DataFrame({"customer": ["A"], "date": ["01/02/2024"], "amount": [1.0]})
    features, report = rfm_features(frame)
    assert features.loc[0, "last_purchase"] == date(2024, 1, 2)
    assert any("mm/dd/yyyy" in n and "--dayfirst" in n for n in report["notes"])
    assert rfm_features(frame, dayfirst=True)[0].loc[0, "last_purchase"] == date(2024, 2, 1)


def test_values_that_are_not_dates_are_an_error():
    frame = pd.DataFrame({"customer": ["A", "B"], "date": ["2024-01-15", "soon"], "amount": [1, 2]})
    with pytest.raises(DataError, match=r"'date' has 1 distinct value that is not a date.*'soon'"):
        rfm_features(frame)
    numbers = frame.assign(date=[5, 7])
    with pytest.raises(DataError, match="not dates written as YYYYMMDD"):
        rfm_features(numbers)


def test_amounts_with_currency_signs_and_bad_amounts():
    frame = pd.DataFrame(
        {"customer": ["A", "A"], "date": ["2024-01-01", "2024-01-02"], "amount": ["$1,234.50", "5"]}
    )
    assert rfm_features(frame)[0].loc[0, "monetary"] == pytest.approx(1239.5)
    bad = frame.assign(amount=["12", "twelve"])
    with pytest.raises(DataError, match=r"'amount' has 1 value that is not a number.*'twelve'"):
        rfm_features(bad)


def test_float_customer_ids_lose_the_decimal():
    frame = pd.DataFrame(
        {"CustomerID": [17850.0, np.nan, 13047.0], "date": ["2024-01-01"] * 3, "amount": [1, 2, 3]}
    )
    features, report = rfm_features(frame)
    assert list(features["customer"]) == [13047, 17850]
    assert report["dropped_rows"]["missing customer id"] == 1


def test_parquet_input(tmp_path):
    frame = known()
    frame["InvoiceDate"] = pd.to_datetime(frame["InvoiceDate"])
    path = tmp_path / "tx.parquet"
    frame.to_parquet(path)
    features, report = rfm_features(path)
    expected, _ = rfm_features(known())
    pd.testing.assert_frame_equal(features, expected)
    assert report["source"] == str(path)


def test_headerless_fixed_width_file(tmp_path):
    path = tmp_path / "tx.txt"
    lines = [
        " 00007 19970101  1   11.77",
        " 00012 19970112  1   12.00",
        " 00012 19970112  5   77.00",
        " 00012 19970301  2   20.50",
    ]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    features, report = rfm_features(path)
    got = by_customer(features)
    assert list(got.index) == ["00007", "00012"]
    assert got.loc["00012", "frequency"] == 2  # two purchase days
    assert got.loc["00012", "monetary"] == pytest.approx(109.5)
    assert report["as_of"] == "1997-03-02"
    assert "no header row" in report["notes"][0]
    # Positions name columns of headerless files.
    again, rep = rfm_features(path, customer="1", date="2", amount="4")
    pd.testing.assert_frame_equal(features, again)


def test_headerless_csv_with_text_ids(tmp_path):
    path = tmp_path / "tx.csv"
    path.write_text("C1,2024-01-01,10.5\nC2,2024-01-02,3\nC1,2024-01-03,1.5\n")
    features, _ = rfm_features(path)
    assert by_customer(features).loc["C1", "monetary"] == pytest.approx(12.0)


def test_csv_with_header_keeps_zero_padded_ids(tmp_path):
    path = tmp_path / "tx.csv"
    path.write_text("Customer ID;Order Date;Sales Amount\n007;2024-01-01;1.5\n007;2024-01-02;2\n")
    features, report = rfm_features(path)
    assert list(features["customer"]) == ["007"]
    assert report["columns"]["amount"] == "Sales Amount"


def test_unrecognised_columns_are_a_config_error():
    frame = pd.DataFrame({"who": ["A"], "when": ["2024-01-01"], "much": [1.0]})
    with pytest.raises(ConfigError, match=r"customer id \(--customer COL\).*'who', 'when', 'much'"):
        rfm_features(frame)
    with pytest.raises(ConfigError, match=r"--date: there is no column 'whn'. Did you mean 'when'"):
        rfm_features(frame, customer="who", date="whn", amount="much")
    with pytest.raises(ConfigError, match="quantity to multiply the unit price"):
        recognise_columns(["customer", "date", "price"])


def test_missing_file_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="No such file"):
        rfm_features(tmp_path / "nope.csv")


def test_parse_dates_returns_day_numbers():
    days = parse_dates(pa.array(["1970-01-02", None, "19700101"]))
    assert days[0] == 1 and np.isnan(days[1]) and days[2] == 0


# ---------------------------------------------------------------- scores and names


def test_quintile_scores_keep_ties_together():
    values = pd.Series([1, 1, 1, 1, 1, 1, 2, 3, 4, 5])
    assert quintile_scores(values).tolist() == [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]
    recency = pd.Series([1, 10, 100, 1000, 10000])
    assert quintile_scores(recency, higher_is_better=False).tolist() == [5, 4, 3, 2, 1]


def test_rfm_scores_and_classic_segments():
    features = pd.DataFrame(
        {
            "recency": [1, 2, 300, 400, 500],
            "frequency": [10, 1, 9, 1, 2],
            "monetary": [900.0, 10.0, 500.0, 5.0, 50.0],
        }
    )
    scores = rfm_scores(features)
    assert scores["R"].tolist() == [5, 4, 3, 2, 1]
    assert scores["F"].tolist() == [5, 1, 4, 1, 3]
    assert scores["M"].tolist() == [5, 2, 4, 1, 3]
    assert scores["RFM"].tolist() == ["555", "412", "344", "211", "133"]
    assert scores["rfm_segment"].tolist() == [
        "Champions",
        "Promising",
        "Loyal",
        "Hibernating",
        "At risk",
    ]
    assert len(RF_GRID) == 5 and all(len(row) == 5 for row in RF_GRID)


def synthetic_customers(seed: int = 0) -> pd.DataFrame:
    """Three kinds of customers: recent big frequent buyers, lapsed one-off buyers, and new."""
    rng = np.random.default_rng(seed)
    rows = []
    end = pd.Timestamp("2024-12-31")
    for i in range(60):  # champions: 15-25 orders, the last within 20 days
        for j in range(rng.integers(15, 26)):
            day = end - pd.Timedelta(
                days=int(rng.integers(0, 20) if j == 0 else rng.integers(0, 700))
            )
            rows.append((f"champ{i}", f"I{i}-{j}", day, rng.uniform(80, 200)))
    for i in range(120):  # hibernating: one small order 1.5-2 years ago
        day = end - pd.Timedelta(days=int(rng.integers(550, 720)))
        rows.append((f"lapsed{i}", f"L{i}", day, rng.uniform(5, 20)))
    for i in range(80):  # in between: 3-5 orders, last 60-200 days ago
        for j in range(rng.integers(3, 6)):
            day = end - pd.Timedelta(
                days=int(rng.integers(60, 200) if j == 0 else rng.integers(200, 400))
            )
            rows.append((f"mid{i}", f"M{i}-{j}", day, rng.uniform(20, 60)))
    return pd.DataFrame(rows, columns=["customer", "invoice", "date", "amount"])


def test_synthetic_segments_are_named_in_rfm_language():
    seg = segment_rfm(synthetic_customers(), k=3, k_range=[3], n_init=3)
    by_name = {}
    frame = seg.assignments()
    for name, group in frame.groupby("segment_name"):
        by_name[name] = set(group["customer"].str.rstrip("0123456789"))
    assert by_name["Champions"] == {"champ"}
    assert by_name["Hibernating"] == {"lapsed"}
    assert len(by_name) == 3 and all(base_name(n) in RFM_NAMES for n in by_name)
    champions = next(p for p in seg.profiles if p.name == "Champions")
    assert champions.levels == {"recency": "low", "frequency": "high", "monetary": "high"}
    assert "valuable customers" in champions.persona  # no superlative a second champion breaks


def test_features_and_log_options():
    seg = segment_rfm(
        synthetic_customers(),
        features="recency,frequency,monetary,tenure,aov",
        k=3,
        k_range=[3],
        n_init=2,
    )
    assert seg.features == ["recency", "frequency", "monetary", "tenure", "avg_order_value"]
    assert seg.plan.log == ("frequency", "monetary", "avg_order_value")
    seg = segment_rfm(synthetic_customers(), log="none", k=2, k_range=[2], n_init=2)
    assert seg.plan.log == ()
    with pytest.raises(ConfigError, match=r"features: 'age'; RFM features are recency"):
        segment_rfm(synthetic_customers(), features=["age"])
    with pytest.raises(ConfigError, match="returns must be net or exclude"):
        rfm_features(known(), returns="keep")


def test_same_named_segments_get_relative_words():
    # Two segments are both recent, frequent big spenders (Champions); one buys more often.
    values = pd.DataFrame(
        {
            "recency": [5, 6, 7, 8, 9, 10, *range(400, 412)],
            "frequency": [30, 31, 32, 8, 9, 10, *[1] * 12],
            "monetary": [900, 950, 990, 800, 850, 870, *range(10, 22)],
        },
        dtype=float,
    )
    labels = np.array([0, 0, 0, 1, 1, 1, *[2] * 12])
    roles = {c: c for c in values.columns}
    profiles = describe(values, labels, roles, rules=load_rules(rfm_rules_path()))
    assert [p.name for p in profiles] == [
        "Champions, more frequent",
        "Champions, less frequent",
        "Hibernating",
    ]


def test_default_rules_still_name_by_words():
    values = pd.DataFrame({"Income": [10.0, 11, 90, 95], "Score": [5.0, 6, 90, 99]})
    roles = {"Income": "income", "Score": "spending"}
    profiles = describe(values, np.array([0, 0, 1, 1]), roles)
    assert [p.name for p in profiles] == ["Low income, low spending", "High income, high spending"]


def test_bad_level_basis_is_a_config_error(tmp_path):
    text = rfm_rules_path().read_text().replace('basis = "rank"', 'basis = "median"')
    path = tmp_path / "rules.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="basis must be 'mean' or 'rank'"):
        segment_rfm(known(), rules=path, k=2, k_range=[2])


# ---------------------------------------------------------------- CLI


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def tx_csv(tmp_path):
    path = tmp_path / "tx.csv"
    synthetic_customers().to_csv(path, index=False)
    return path


def test_cli_writes_all_outputs(runner, tx_csv, tmp_path):
    out = tmp_path / "out"
    args = ["rfm", str(tx_csv), "--out", str(out), "--k", "3", "--k-range", "3", "--n-init", "2"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    for name in ("segments.csv", "summary.json", "model.skops", "report.html", "rfm_features.csv"):
        assert (out / name).is_file(), name
    assert "Champions" in result.output and "most common RFM segment" in result.output
    rfm = pd.read_csv(out / "rfm_features.csv")
    assert len(rfm) == 260
    assert {"customer", "recency", "frequency", "monetary", "R", "F", "M", "rfm_segment"} <= set(
        rfm.columns
    )
    segments = pd.read_csv(out / "segments.csv")
    assert {"segment", "segment_name"} <= set(segments.columns)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rfm"]["customers"] == 260 and summary["k"] == 3
    report = (out / "report.html").read_text()
    assert "Champions" in report and "Hibernating" in report
    # A second run without --force refuses and keeps the outputs.
    again = runner.invoke(app, [*args, "--quiet"])
    assert again.exit_code == 2
    assert "--force" in again.output and "Traceback" not in again.output
    forced = runner.invoke(app, [*args, "--quiet", "--force"])
    assert forced.exit_code == 0 and forced.output == ""


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--customer", "nobody"], "--customer: there is no column 'nobody'"),
        (["--as-of", "someday"], "--as-of"),
        (["--returns", "keep"], "--returns must be net or exclude"),
        (["--features", "age"], "RFM features are recency"),
        (["--k", "many"], "--k must be 'auto' or a whole number"),
    ],
)
def test_cli_bad_options_exit_2_with_a_message(runner, tx_csv, tmp_path, extra, message):
    result = runner.invoke(app, ["rfm", str(tx_csv), "--out", str(tmp_path / "o"), *extra])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_cli_bad_data_exit_2(runner, tmp_path):
    missing = runner.invoke(app, ["rfm", str(tmp_path / "none.csv"), "--out", str(tmp_path)])
    assert missing.exit_code == 2 and "No such file" in missing.output
    path = tmp_path / "dmy.csv"
    path.write_text("customer,date,amount\nA,13/01/2024,1\nB,01/02/2024,2\n")
    result = runner.invoke(app, ["rfm", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "--dayfirst" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o" / "segments.csv").exists()


def test_mixed_date_formats_in_one_column():
    frame = pd.DataFrame(
        {
            "customer": ["A", "B", "C"],
            "date": ["20240115", "2024-01-15T10:00", "1/15/2024 10:00"],
            "amount": [1.0, 2.0, 3.0],
        }
    )
    features, _ = rfm_features(frame)
    assert (features["last_purchase"] == date(2024, 1, 15)).all()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "d"]),
            st.integers(0, 60),
            st.integers(-3, 5).filter(lambda q: q != 0),
            st.floats(0, 100, allow_nan=False).map(lambda v: round(v, 2)),
        ),
        min_size=1,
        max_size=40,
    ),
    st.randoms(use_true_random=False),
)
def test_invariants_on_random_transactions(rows, rnd):
    frame = pd.DataFrame(rows, columns=["customer", "day", "quantity", "price"])
    frame["date"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(frame.pop("day"), unit="D")
    if (frame["quantity"] > 0).sum() == 0:
        with pytest.raises(DataError, match="No purchases are left"):
            rfm_features(frame)
        return
    features, report = rfm_features(frame)
    buys = frame[frame["quantity"] > 0]
    assert set(features["customer"]) == set(buys["customer"])
    assert (features["recency"] >= 1).all() and (features["recency"] <= features["tenure"]).all()
    assert (features["monetary"] >= 0).all()
    days = buys.groupby("customer")["date"].nunique()
    assert (features.set_index("customer")["frequency"] == days).all()
    net = (frame["quantity"] * frame["price"]).groupby(frame["customer"]).sum()
    expected = net.loc[features["customer"]].clip(lower=0).to_numpy()
    np.testing.assert_allclose(features["monetary"], expected, atol=1e-6)
    shuffled = frame.sample(frac=1, random_state=rnd.randint(0, 1000))
    pd.testing.assert_frame_equal(rfm_features(shuffled)[0], features)


def test_quoted_fields_and_float_ids_in_a_csv_export(tmp_path):
    path = tmp_path / "retail.csv"
    path.write_text(
        "InvoiceNo,Description,Quantity,InvoiceDate,UnitPrice,CustomerID\n"
        '536365,"SET OF 3, RED",6,12/1/2010 8:26,2.55,17850.0\n'
        "536366,LANTERN,6,12/1/2010 8:28,3.39,\n"
        "536367,LANTERN,1,12/2/2010 9:00,3.39,17850\n"
    )
    features, report = rfm_features(path)
    assert features["customer"].tolist() == ["17850"]
    assert features.loc[0, "frequency"] == 2
    assert features.loc[0, "monetary"] == pytest.approx(6 * 2.55 + 3.39)
    assert report["dropped_rows"]["missing customer id"] == 1
    assert any(n.startswith("columns used: customer='CustomerID'") for n in report["notes"])


def test_rfm_features_csv_is_published_with_the_other_outputs(tx_csv, tmp_path):
    from custseg.outputs.export import write_csv, write_outputs

    seg = segment_rfm(tx_csv, k=2, k_range=[2], n_init=1)
    out = tmp_path / "out"
    (out / "rfm_features.csv").parent.mkdir()
    (out / "rfm_features.csv").write_text("old")
    extra = {"rfm_features.csv": lambda path: write_csv(seg.rfm_table, path)}
    with pytest.raises(FileExistsError, match="rfm_features.csv"):
        write_outputs(seg, out, extra=extra)
    assert not (out / "segments.csv").exists()  # nothing was written
    placed = write_outputs(seg, out, extra=extra, force=True)
    assert set(placed) == {
        "segments.csv",
        "summary.json",
        "model.skops",
        "report.html",
        "rules.sql",
        "rfm_features.csv",
        "manifest.json",
    }
    assert pd.read_csv(out / "rfm_features.csv")["customer"].nunique() == 260
