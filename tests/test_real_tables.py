"""Real customer tables as a new user meets them (issue 18, items 3, 4, 5 and 8): the tables are
built here, shaped like a marketing-campaign export (CamelCase counts, day-first dates, missing
incomes), a credit-card export (0-1 ratios beside skewed money) and files with a title row."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from custseg import SegmentOptions, load, segment
from custseg.cli import app
from custseg.exceptions import DataError
from custseg.read import date_order, parse_dates

runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def campaign(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Like the marketing-campaign table: counts with ~14 distinct values, day-first dates."""
    rng = np.random.default_rng(seed)
    days = pd.to_datetime("2012-07-30") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    income = rng.normal(52_000, 20_000, n).round()
    income[rng.choice(n, 24, replace=False)] = np.nan
    return pd.DataFrame(
        {
            "ID": np.arange(5000, 5000 + n),
            "Income": income,
            "MntWines": rng.gamma(0.8, 400, n).round(),
            "NumStorePurchases": rng.integers(0, 14, n),
            "NumCatalogPurchases": rng.integers(0, 14, n),
            "Dt_Customer": days.strftime("%d-%m-%Y"),
        }
    )


def test_imputation_is_a_note_in_the_terminal_and_the_summary(tmp_path):
    path = tmp_path / "campaign.csv"
    campaign().to_csv(path, index=False)
    out = tmp_path / "out"
    result = invoke("run", path, "--out", out, "--k", "3")
    assert result.exit_code == 0, result.output
    assert "filled 24 missing values with the column's median: 'Income' (24)" in " ".join(
        result.output.split()
    )
    notes = json.loads((out / "summary.json").read_text())["notes"]
    assert any("filled 24 missing values" in n for n in notes)


# ---------------------------------------------------------------- item 3: roles and dates


def test_count_columns_are_numeric_even_with_a_code_word_in_the_name():
    table = load(campaign())
    assert table.roles["NumStorePurchases"] == table.roles["NumCatalogPurchases"] == "numeric"
    codes = pd.DataFrame({"Channel": [1, 2, 1, 2, 1, 2] * 5, "Spend": np.arange(30.0)})
    assert load(codes).roles["Channel"] == "categorical"


def test_role_flag_overrides_the_recognised_role(tmp_path):
    path = tmp_path / "campaign.csv"
    campaign().to_csv(path, index=False)
    out = tmp_path / "out"
    result = invoke(
        "run", path, "--out", out, "--k", "3",
        "--role", "NumStorePurchases=categorical", "--role", "mnt_wines=ignore",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["roles"]["NumStorePurchases"] == "categorical"
    assert summary["roles"]["MntWines"] == "ignore"
    assert "MntWines" not in summary["features"]
    assert "NumStorePurchases" not in summary["features"]
    explored = invoke("explore", path, "--role", "NumCatalogPurchases=categorical")
    assert explored.exit_code == 0, explored.output
    assert "categorical" in next(
        line for line in explored.output.splitlines() if "NumCatalogPurc" in line
    )


@pytest.mark.parametrize(
    ("role", "message"),
    [("Income=money", "--role: 'money' (for 'Income') is not a role"),
     ("Income", "--role must look like COLUMN=ROLE"),
     ("Incme=numeric", "--role: there is no column 'Incme'. Did you mean 'Income'?")],
)  # fmt: skip
def test_a_bad_role_is_a_clear_error_naming_the_flag(tmp_path, role, message):
    path = tmp_path / "campaign.csv"
    campaign().to_csv(path, index=False)
    result = invoke("run", path, "--out", tmp_path / "out", "--role", role)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_the_library_takes_the_same_roles():
    seg = segment(campaign(), SegmentOptions(k=3, roles={"ID": "numeric", "Income": "ignore"}))
    assert "ID" in seg.features and "Income" not in seg.features
    assert seg.table.id_column is None
    with pytest.raises(DataError, match=r"'Income' is set to be ignored \(--role\)"):
        segment(campaign(), k=3, features="Income,MntWines", roles={"Income": "ignore"})


@pytest.mark.parametrize(
    ("dates", "order", "ambiguous"),
    [
        (["21-08-2013", "04-09-2012", "01-01-2014"], "day-first", False),
        (["08/21/2013", "04/09/2012", "01/01/2014"], "month-first", False),
        (["04-09-2012", "05-06-2013", "01-01-2014"], "day-first", True),
        (["2013-08-21", "2012-09-04", "2014-01-01"], "year-first", False),
    ],
)
def test_dates_are_recognised_with_their_order(dates, order, ambiguous):
    frame = pd.DataFrame({"Dt_Customer": dates * 10, "Spend": np.arange(30.0)})
    table = load(frame)
    assert table.roles["Dt_Customer"] == "date"
    note = next(n for n in table.notes if "Dt_Customer" in n)
    assert "--tenure" in note
    assert ("no day or month above 12" in note) == ambiguous
    found = date_order(frame["Dt_Customer"])
    assert (found.order, found.ambiguous) == (order, ambiguous)
    parsed = parse_dates(frame["Dt_Customer"], found)
    assert parsed.notna().all()
    assert parsed.iloc[0] == (
        pd.Timestamp("2013-08-21") if not ambiguous else pd.Timestamp("2012-09-04")
    )


def test_tenure_adds_days_since_a_date_as_a_feature(tmp_path):
    frame = campaign()
    path = tmp_path / "campaign.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    result = invoke("run", path, "--out", out, "--k", "3", "--tenure", "Dt_Customer")
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert "days since Dt_Customer" in summary["features"]
    rows = pd.read_csv(out / "segments.csv")
    dates = pd.to_datetime(frame["Dt_Customer"], format="%d-%m-%Y")
    expected = (dates.max() - dates).dt.days
    np.testing.assert_array_equal(rows["days since Dt_Customer"], expected)
    assert rows["Dt_Customer"].tolist() == frame["Dt_Customer"].tolist()  # untouched
    # named features plus --tenure: the days join them
    seg = segment(frame, k=3, features="Income", tenure="Dt_Customer")
    assert seg.features == ["Income", "days since Dt_Customer"]
    bad = invoke("run", path, "--out", tmp_path / "o2", "--tenure", "Income")
    assert bad.exit_code == 2 and "does not hold dates" in bad.output
    # predict counts a later batch's days to the training's "as of" day, not the batch's newest
    batch = frame.loc[dates.sort_values().index[:40]]  # the 40 oldest customers
    batch.to_csv(tmp_path / "batch.csv", index=False)
    model, scores = out / "model.skops", tmp_path / "p.csv"
    scored = invoke("predict", model, tmp_path / "batch.csv", "-o", scores)
    assert scored.exit_code == 0, scored.output
    predicted = pd.read_csv(scores)
    np.testing.assert_array_equal(predicted["days since Dt_Customer"], expected[batch.index])
    assert (predicted["segment"].to_numpy() == rows["segment"][batch.index].to_numpy()).all()


# ---------------------------------------------------------------- item 8: title rows


def _with_title(frame: pd.DataFrame, path, titles=("Customer extract - Q3 2024 (confidential)",)):
    if path.suffix == ".xlsx":
        import openpyxl  # noqa: PLC0415 (writes the test file)

        book = openpyxl.Workbook()
        sheet = book.active
        for title in titles:
            sheet.append([title])
        sheet.append(list(frame.columns))
        for row in frame.astype(object).where(frame.notna(), None).itertuples(index=False):
            sheet.append(list(row))
        book.save(path)
    else:
        width = frame.shape[1]
        with open(path, "w", newline="") as fh:
            for title in titles:
                fh.write(title + "," * (width - 1) + "\n")
            frame.to_csv(fh, index=False)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("titles", [1, 2])
def test_title_rows_above_the_header_are_skipped_with_a_note(tmp_path, suffix, titles):
    frame = campaign(60)
    names = ("Customer extract - Q3 2024 (confidential)", "exported by the CRM")[:titles]
    path = _with_title(frame, tmp_path / f"extract{suffix}", names)
    table = load(path)
    assert list(table.frame.columns) == list(frame.columns)
    assert len(table.frame) == 60
    assert any(f"took row {titles + 1} as the column names" in n for n in table.notes)
    assert table.where(0) == f"line {titles + 2}"  # messages point at the file's own lines
    np.testing.assert_allclose(table.frame["MntWines"], frame["MntWines"])


def test_header_row_flag_and_a_plain_file_is_read_as_before(tmp_path):
    frame = campaign(60)
    plain = tmp_path / "plain.csv"
    frame.to_csv(plain, index=False)
    table = load(plain)
    assert list(table.frame.columns) == list(frame.columns) and len(table.frame) == 60
    assert not any("column names" in n for n in table.notes)
    path = _with_title(frame, tmp_path / "extract.xlsx", ("Title", "Subtitle"))
    result = invoke("explore", path, "--header-row", "3")
    assert result.exit_code == 0, result.output
    assert "60 rows, 6 columns" in " ".join(result.output.split())
    result = invoke("run", path, "--header-row", "0", "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert "--header-row must be the row number" in " ".join(result.output.split())


# ---------------------------------------------------------------- item 4: log transforms


def credit_card(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Like the credit-card table: skewed money beside 0-1 ratios that are skewed too."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "BALANCE": rng.gamma(0.7, 2000, n).round(2),
            "PURCHASES": rng.gamma(0.5, 1500, n).round(2),
            "PURCHASES_TRX": rng.poisson(rng.gamma(0.6, 20, n)),
            "PRC_FULL_PAYMENT": rng.beta(0.3, 2, n).round(3),
            # a few values just above 1, as in the real export
            "CASH_ADVANCE_FREQUENCY": (rng.beta(0.2, 3, n) * 1.01).round(3),
        }
    )


def test_log_auto_takes_money_and_counts_but_not_ratios():
    frame = credit_card()
    assert frame["PRC_FULL_PAYMENT"].skew() > 1 and frame["CASH_ADVANCE_FREQUENCY"].skew() > 1
    seg = segment(frame, k=3, log="auto")
    assert set(seg.plan.log) == {"BALANCE", "PURCHASES", "PURCHASES_TRX"}
    assert any("kept 0-1 ratio columns unlogged" in n for n in seg.notes)


def test_charts_of_logged_features_use_a_log_scale_in_original_units():
    from custseg.outputs.report.figures import build_charts

    seg = segment(credit_card(), k=3, log="auto", features="BALANCE,PURCHASES,PRC_FULL_PAYMENT")
    charts = {c.key: c for c in build_charts(seg).overview + build_charts(seg).segments}
    scatter = charts["scatter2d"].figure
    points, logged = scatter.data[0], 0
    for j, axis in enumerate(("xaxis", "yaxis")):  # the axes that separate the segments best
        title = scatter.layout[axis].title.text
        column = {v: c for c, v in seg.display_names.items()}[title.removesuffix(" (log scale)")]
        assert (title.endswith(" (log scale)")) == (column in seg.plan.log)
        if column in seg.plan.log:
            logged += 1
            assert "1k" in scatter.layout[axis].ticktext
            # drawn on the model's log1p scale; the hover shows the original amounts
            drawn = points.x if axis == "xaxis" else points.y
            np.testing.assert_allclose(np.log1p(points.customdata[:, j]), drawn, rtol=1e-5)
    assert logged  # two of the three features are logged: every pair shows one
    histograms = charts["distributions"].figure
    titles = [a.text for a in histograms.layout.annotations]
    # column names in words (#14), the logged ones marked
    assert titles == ["balance (log scale)", "purchases (log scale)", "prc full payment"]
    balance = [t for t in histograms.data if t.xaxis == "x"]
    top = seg.values()["BALANCE"].max()
    assert max(t.x.max() for t in balance) < np.log1p(top)  # bins on the log scale
    assert histograms.layout.xaxis3.ticktext is None  # the ratio keeps its own units
    assert "log scale" in charts["distributions"].caption


def test_rfm_frequency_and_monetary_charts_use_a_log_scale():
    from custseg.outputs.report.figures import build_charts
    from custseg.rfm import segment_rfm

    rng = np.random.default_rng(1)
    n = 1500
    tx = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 200, n),
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), "D"),
            "amount": rng.gamma(0.8, 60, n).round(2),
        }
    )
    seg = segment_rfm(tx, k=3)
    charts = build_charts(seg)
    histograms = next(c for c in charts.overview if c.key == "distributions").figure
    titles = [a.text for a in histograms.layout.annotations]
    assert "frequency (log scale)" in titles and "monetary (log scale)" in titles


def test_png_scatter_of_logged_features_uses_a_log_scale():
    from custseg.outputs.report import static
    from custseg.outputs.report._common import summary_colors
    from custseg.outputs.report.chart_data import ChartData

    seg = segment(credit_card(), k=3, log="auto", features="BALANCE,PURCHASES")
    summary = seg.summary()
    fig = static._scatter(summary, ChartData.from_result(seg), summary_colors(summary))
    ax = fig.axes[0]
    assert ax.get_xlabel() in ("BALANCE (log scale)", "PURCHASES (log scale)")
    assert ax.get_xscale() == ax.get_yscale() == "function"
    assert "1k" in [t.get_text() for t in ax.get_xticklabels()]
