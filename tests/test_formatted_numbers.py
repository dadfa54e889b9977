"""Money as exports write it ("3,202.47", "$1,234.50", "1.234,50 €") is read as numbers everywhere:
roles, features, statistics, explore, predict and the dashboard; nothing is dropped silently."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from custseg import load, segment
from custseg.cli import app
from custseg.exceptions import DataError
from custseg.read import NUMERIC_ROLES, numeric_view, parse_numbers

runner = CliRunner()
MONEY = ["account_balance", "CreditLimit", "AnnualSpend"]


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})
    assert "Traceback" not in result.output
    return result


def customers(n: int = 120, seed: int = 0) -> pd.DataFrame:
    """The true numbers: two clear groups, so segments differ in every money column."""
    rng = np.random.default_rng(seed)
    rich = np.arange(n) % 2 == 0
    return pd.DataFrame(
        {
            "CustomerID": [f"C{i:04d}" for i in range(n)],
            "Age": rng.integers(18, 80, n),
            # always 1,000 or more: every value has a thousands separator
            "account_balance": np.round(np.where(rich, 15000, 2000) + rng.uniform(0, 900, n), 2),
            # some under 1,000 (no separator), some over
            "CreditLimit": np.round(np.where(rich, 5000, 300) + rng.uniform(0, 600, n), 2),
            "AnnualSpend": np.round(np.where(rich, 25000, 700) + rng.uniform(0, 500, n), 2),
        }
    )


def as_exported(truth: pd.DataFrame) -> pd.DataFrame:
    """The same customers as a spreadsheet exports them: text with separators and signs."""
    text = truth.copy()
    text["account_balance"] = [f"{v:,.2f}" for v in truth["account_balance"]]
    text["CreditLimit"] = [f"{v:,.2f}" for v in truth["CreditLimit"]]
    text["AnnualSpend"] = [f"${v:,.2f}" for v in truth["AnnualSpend"]]
    return text


def write_csv(truth: pd.DataFrame, path):
    as_exported(truth).to_csv(path, index=False)
    assert '"3,' in path.read_text() or '",' in path.read_text()  # quoted thousands
    return path


def test_parse_numbers_reads_formatted_amounts_and_reports_the_rest():
    values = pd.Series(
        ["3,202.47", "950.00", "$1,234.50", "(1,234.50)", "-$5", "12.5%", "EUR 1,000", "1 234.5"]
        + ["forty", "1,23", "612 345 678", "", None]
    )
    numbers = parse_numbers(values)
    expected = [3202.47, 950, 1234.5, -1234.5, -5, 12.5, 1000, 1234.5]
    np.testing.assert_allclose(numbers.values[:8], expected)
    assert np.isnan(numbers.values[8:]).all()
    assert numbers.bad.tolist() == [8, 9, 10]  # blanks and missing are missing, not bad
    assert numbers.removed == (
        "thousands separators",
        "'$'",
        "'EUR'",
        "'%'",
        "brackets around negative amounts",
    )
    commas = parse_numbers(pd.Series(["1.234,50 €", "12,5", "1.234", "(5,00 €)"]), decimal=",")
    np.testing.assert_allclose(commas.values, [1234.5, 12.5, 1234, -5])


def test_plain_numbers_read_as_before():
    values = pd.Series(["12", " 3.5 ", "1e3", "-0.25", "inf", "", None, "x"])
    before = pd.to_numeric(values.astype("string").str.strip(), errors="coerce").astype(float)
    pd.testing.assert_series_equal(numeric_view(values), before, check_names=False)


@pytest.mark.parametrize("column", MONEY)
def test_load_reads_money_columns_as_numbers(tmp_path, column):
    truth = customers()
    table = load(write_csv(truth, tmp_path / "c.csv"))
    assert table.roles[column] in NUMERIC_ROLES
    np.testing.assert_allclose(numeric_view(table.frame[column]), truth[column])
    assert table.frame[column].iloc[0] == as_exported(truth)[column].iloc[0]  # values untouched
    assert f"read {column!r} as numbers: removed thousands separators" in " ".join(table.notes)
    assert "read 'AnnualSpend' as numbers: removed thousands separators and '$'" in table.notes


def test_segment_uses_money_columns_with_their_true_values(tmp_path):
    truth = customers()
    seg = segment(load(write_csv(truth, tmp_path / "c.csv")), k=2)
    assert set(MONEY) <= set(seg.features)
    labels = seg.assignments()["segment"].to_numpy()
    for profile in seg.profiles:
        rows = truth[labels == profile.id]
        for col in MONEY:
            assert profile.means[col] == pytest.approx(rows[col].mean())


def summary_stats_match(out, truth: pd.DataFrame, columns) -> None:
    """Every mean, median, min and max in summary.json equals the one of the true numbers."""
    summary = json.loads((out / "summary.json").read_text())
    assigned = pd.read_csv(out / "segments.csv", dtype=str)
    labels = assigned["segment"].astype(int).to_numpy()
    assert set(columns) <= set(summary["features"])
    for seg in summary["segments"]:
        rows = truth[labels == seg["id"]]
        for col in columns:
            for stat, field in (("mean", "means"), ("median", "medians")):
                assert seg[field][col] == pytest.approx(getattr(rows[col], stat)()), (col, stat)
            assert seg["mins"][col] == pytest.approx(rows[col].min())
            assert seg["maxs"][col] == pytest.approx(rows[col].max())


def test_run_uses_quoted_thousands_and_computes_true_statistics(tmp_path):
    """The acceptance: quoted thousands in every money column, snake_case and CamelCase."""
    truth = customers()
    path = write_csv(truth, tmp_path / "c.csv")
    out = tmp_path / "out"
    result = invoke("run", path, "--out", out, "--k", "2")
    assert result.exit_code == 0, result.output
    assert "free text" not in result.output
    assert "read 'AnnualSpend' as numbers: removed thousands separators and '$'" in result.output
    summary_stats_match(out, truth, MONEY)
    written = pd.read_csv(out / "segments.csv", dtype=str)
    pd.testing.assert_frame_equal(
        written[list(truth.columns)], pd.read_csv(path, dtype=str)
    )  # the user's values, as written


def test_naming_money_columns_as_features(tmp_path):
    """Once "holds free text ... remove it from --features" (always a separator), or an error
    (a separator in some rows only)."""
    truth = customers()
    out = tmp_path / "out"
    path = write_csv(truth, tmp_path / "c.csv")
    result = invoke("run", path, "-f", "account_balance", "-f", "CreditLimit", "--out", out, "-q")
    assert result.exit_code == 0, result.output
    summary_stats_match(out, truth, ["account_balance", "CreditLimit"])


def test_explore_statistics_use_every_value(tmp_path, monkeypatch):
    from custseg.cli import common

    monkeypatch.setattr(common.out, "width", 200)  # one table row per line, whatever the terminal
    truth = customers()
    result = invoke("explore", write_csv(truth, tmp_path / "c.csv"))
    assert result.exit_code == 0, result.output
    for col in MONEY:
        rows = result.output.splitlines()
        line = next(ln for ln in rows if re.search(rf"│ {col}\b", ln))
        for stat in ("mean", "min", "max"):
            assert f"{getattr(truth[col], stat)():,.2f}" in line, (col, stat, line)


def test_a_value_that_is_not_a_number_is_reported_never_dropped(tmp_path):
    truth = customers()
    text = as_exported(truth)
    text.loc[5, "account_balance"] = "about 3k"
    path = tmp_path / "c.csv"
    text.to_csv(path, index=False)
    table = load(path)
    assert any("'account_balance' has 1 value that is not a number" in n for n in table.notes)
    explored = invoke("explore", path)
    assert "'about 3k'" in explored.output  # explore's statistics say what they leave out
    result = invoke("run", path, "--out", tmp_path / "out")
    assert result.exit_code != 0
    assert "'about 3k' on line 7" in result.output
    with pytest.raises(DataError, match="'about 3k' on line 7"):
        segment(table, features=["account_balance", "Age"])


def test_decimal_comma_file_with_currency(tmp_path):
    truth = customers()
    text = truth.copy()
    for col in MONEY:
        text[col] = [f"{v:,.2f} €".replace(",", " ").replace(".", ",") for v in truth[col]]
    text["CreditLimit"] = [f"{v:,.2f}".replace(",", "x").replace(".", ",").replace("x", ".")
                           for v in truth["CreditLimit"]]  # fmt: skip
    path = tmp_path / "eu.csv"
    text.to_csv(path, index=False, sep=";")
    assert "15 0" in path.read_text() and "." in path.read_text()
    table = load(path)
    for col in MONEY:
        np.testing.assert_allclose(numeric_view(table.frame[col]), truth[col])
    assert "read 'CreditLimit' as numbers: removed thousands separators" in table.notes
    assert "read 'AnnualSpend' as numbers: removed thousands separators and '€'" in table.notes
    out = tmp_path / "out"
    result = invoke("run", path, "--out", out, "--k", "2", "-q")
    assert result.exit_code == 0, result.output
    summary_stats_match(out, truth, MONEY)


def test_predict_reads_formatted_money(tmp_path):
    truth = customers(200, seed=1)
    plain = tmp_path / "plain.csv"
    truth.to_csv(plain, index=False)
    out = tmp_path / "out"
    assert invoke("run", plain, "--out", out, "--k", "2", "-q").exit_code == 0
    model = out / "model.skops"
    new = customers(80, seed=2)
    expected = tmp_path / "expected.csv"
    new.to_csv(tmp_path / "new_plain.csv", index=False)
    assert invoke("predict", model, tmp_path / "new_plain.csv", "-o", expected, "-q").exit_code == 0
    formatted = write_csv(new, tmp_path / "new.csv")
    got = tmp_path / "got.csv"
    result = invoke("predict", model, formatted, "-o", got, "--drift", tmp_path / "d.json", "-q")
    assert result.exit_code == 0, result.output
    want = pd.read_csv(expected)
    have = pd.read_csv(got)
    assert have["segment"].tolist() == want["segment"].tolist()
    np.testing.assert_allclose(have["distance"], want["distance"])
    assert have["account_balance"].iloc[0] == as_exported(new)["account_balance"].iloc[0]


# ---------------------------------------------------------------- properties

CELL_TEXT = st.text("0123456789 ,.'$€£()-+%EURSDkrx\u00a0", max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), CELL_TEXT)), st.sampled_from([".", ","]))
def test_every_cell_is_missing_a_number_or_reported(cells, decimal):
    series = pd.Series(cells, dtype=object)
    numbers = parse_numbers(series, decimal=decimal)
    blank = series.astype("string").str.strip().fillna("").eq("").to_numpy()
    read = ~np.isnan(numbers.values)
    bad = np.zeros(len(cells), dtype=bool)
    bad[numbers.bad] = True
    assert (blank.astype(int) + read + bad == 1).all()


@settings(max_examples=300, deadline=None)
@given(
    st.floats(-1e9, 1e9, allow_nan=False),
    st.sampled_from(
        [
            ("{:,.2f}", "{:.2f}"),
            ("${:,.2f}", "{:.2f}"),
            ("{:,.2f} EUR", "{:.2f}"),
            ("({:,.0f})", "-{:.0f}"),
            ("{:.1f}%", "{:.1f}"),
        ]
    ),  # fmt: skip
)
def test_formatted_amounts_read_back(value, styles):
    written, plain = styles
    value = abs(value) if written.startswith("(") else value
    (number,) = parse_numbers(pd.Series([written.format(value)])).values
    assert number == float(plain.format(value))


def test_dashboard_reads_formatted_money(tmp_path):
    pytest.importorskip("streamlit", reason="the dashboard needs the 'app' extra")
    import streamlit as st

    from custseg.app import state

    from .test_app import no_failure, shown, start, upload

    st.cache_resource.clear()
    st.cache_data.clear()
    truth = customers()
    content = write_csv(truth, tmp_path / "c.csv").read_bytes()
    try:
        at = upload(start(), "money.csv", content)
        no_failure(at)
        seg = shown(at)
        assert set(MONEY) <= set(seg.features)
        rows = state.overview("money", tuple(seg.table.roles.items()), seg.table)
        for col in MONEY:
            row = rows.set_index("column").loc[col]
            assert row["mean"] == pytest.approx(truth[col].mean())
            assert row["max"] == pytest.approx(truth[col].max())
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()
