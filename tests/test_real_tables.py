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
    assert "filled 24 missing values with the column's median: 'Income' (24)" in result.output
    notes = json.loads((out / "summary.json").read_text())["notes"]
    assert any("filled 24 missing values" in n for n in notes)
