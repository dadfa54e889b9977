"""Stability and the k choice's confidence, wherever a segment is shown: summary.json, the
terminal's table, the report and the model file."""

from __future__ import annotations

import dataclasses
import io
import json

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

import custseg
from custseg.cli import app, common
from custseg.pipeline.stability import THRESHOLDS
from custseg.text import humanise

runner = CliRunner()

# 17 features as real exports name them: snake_case, CamelCase, upper case, units.
WIDE_COLUMNS = [
    "BALANCE",
    "BALANCE_FREQUENCY",
    "PURCHASES",
    "ONEOFF_PURCHASES",
    "INSTALLMENTS_PURCHASES",
    "CASH_ADVANCE",
    "PURCHASES_FREQUENCY",
    "CASH_ADVANCE_TRX",
    "PURCHASES_TRX",
    "CREDIT_LIMIT",
    "PAYMENTS",
    "MINIMUM_PAYMENTS",
    "PRC_FULL_PAYMENT",
    "NumStorePurchases",
    "NumWebVisitsMonth",
    "annual_income_k",
    "Tenure (months)",
]


@pytest.fixture(scope="module")
def wide_csv(tmp_path_factory):
    """Three well separated groups of customers on 17 numeric features."""
    rng = np.random.default_rng(7)
    centres = rng.normal(0, 4, (3, len(WIDE_COLUMNS)))
    rows = np.vstack([c + rng.normal(0, 1, (150, len(WIDE_COLUMNS))) for c in centres])
    frame = pd.DataFrame(rows * 10 + 100, columns=WIDE_COLUMNS).round(2)
    path = tmp_path_factory.mktemp("wide") / "wide.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def mall_seg():
    return custseg.segment(custseg.sample_customers(), features="income,spending")


def test_humanise_turns_column_names_into_words():
    assert humanise("Annual Income (k$)") == "annual income (k$)"
    assert humanise("PURCHASES_TRX") == "purchases trx"
    assert humanise("NumStorePurchases") == "num store purchases"
    assert humanise("annual_income_k") == "annual income k"


def test_summary_has_stability_per_segment_and_for_the_whole_run(mall_seg):
    summary = mall_seg.summary()
    stability = mall_seg.stability
    for entry in summary["segments"]:
        assert entry["stability"] == pytest.approx(stability.segments[entry["id"]])
        assert entry["stability_label"] == stability.labels[entry["id"]]
        assert entry["stability"] >= 0.75  # the mall's five segments are all stable
    top = summary["stability"]
    assert top["method"] == "bootstrap" and top["resamples"] == stability.resamples
    assert top["sample_size"] == top["n_rows"] == 200
    assert 0.0 < top["ari"] <= 1.0
    assert summary["k_choice"]["confidence"] == "strong"
    assert summary["k_choice"]["recommended"] == summary["k"] == 5
    json.dumps(summary, allow_nan=False)  # what summary.json holds


def test_summary_without_stability_says_so(mall_seg):
    """A result that carries no stability (a Spark run, k < 2) still summarises."""
    bare = dataclasses.replace(mall_seg, stability=None)
    summary = bare.summary()
    assert summary["stability"] is None
    assert all(s["stability"] is None and s["stability_label"] is None for s in summary["segments"])
    table = render(common.segment_table(bare))
    assert "stability" not in table and "High income" in table


def render(table, width=80) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(table)
    return console.file.getvalue()


def test_wide_table_fits_80_columns(wide_csv, tmp_path, monkeypatch):
    """17 features at 80 columns: every cell readable, no line wider than the terminal."""
    monkeypatch.setattr(common, "out", Console(width=80, color_system=None))
    result = runner.invoke(app, ["run", str(wide_csv), "--out", str(tmp_path / "o"), "--k", "3"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "summary.json" in text and "report.html" in text
    table = text[text.index("3 segments of 450 customers") :]
    for header in ("segment", "name", "size", "share", "stability", "stands out by"):
        assert header in table
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    for entry in summary["segments"]:
        # each segment's most distinctive feature, humanised, with its level
        top = max(entry["zscores"], key=lambda f: abs(entry["zscores"][f]))
        words = f"{humanise(top)} {entry['levels'][top]}"
        assert words.split()[0] in table
        assert f"{entry['stability']:.2f}" in table
    # only the three most distinctive features per segment: not every column's mean
    assert "minimum payments" not in table or "num web visits month" not in table


def test_standout_names_three_features_in_words(mall_seg):
    seg = custseg.segment(custseg.sample_customers(), k=5)
    for p in seg.profiles:
        lines = common.standout(p).splitlines()
        assert 1 <= len(lines) <= 3
        assert all(line.rsplit(" ", 1)[1] in ("high", "low") for line in lines)
    older = next(p for p in seg.profiles if p.name == "Older")
    assert common.standout(older).splitlines()[0] == "age high"


def test_cli_prints_confidence_and_stability(tmp_path):
    result = runner.invoke(app, ["run", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "Confidence: strong" in result.output
    assert "very stable" in result.output


def test_report_shows_the_stability_chart_its_reading_and_the_confidence(mall_seg):
    html = mall_seg.report()
    assert "Stability of each segment" in html
    assert "How to read the stability chart" in html
    for bound, label in THRESHOLDS:
        assert f"{bound:.2f}" in html and label in html
    assert "Confidence: strong" in html


def test_report_says_no_natural_segments_plainly():
    rng = np.random.default_rng(0)
    blob = pd.DataFrame(rng.normal(size=(400, 2)), columns=["recency", "monetary"])
    seg = custseg.segment(blob, k_range="2..5")
    assert seg.k_choice.confidence == "none"
    html = seg.report()
    assert "No natural segments" in html
    assert "convenient partition" in html


def test_report_without_stability_still_renders(mall_seg):
    bare = dataclasses.replace(mall_seg, stability=None)
    html = bare.report()
    assert "Stability of each segment" not in html and "Why 5 segments" in html


def test_model_file_keeps_confidence_and_stability(mall_seg, tmp_path):
    path = mall_seg.save(tmp_path / "model.skops")
    model = custseg.load_model(path)
    assert model.metadata["k_confidence"] == "strong"
    assert model.metadata["stability"]["segments"][0]["stability"] == pytest.approx(
        mall_seg.stability.segments[0]
    )
