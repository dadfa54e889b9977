"""Wide real tables in the dashboard and the report (#18 item 11): the 2D chart shows the two
features that separate the segments, and long segment names are not cut off."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

import custseg
from custseg.outputs.report._common import separating_features
from custseg.outputs.report.chart_data import ChartData
from tests.test_app import fresh_caches, no_access_settings, no_failure, start, upload  # noqa: F401


def wide_table(seed: int = 0) -> pd.DataFrame:
    """Snake_case columns; only the 4th and 6th hold the groups, the first ones are noise."""
    rng = np.random.default_rng(seed)
    n, groups = 450, np.repeat([0, 1, 2], 150)
    frame = pd.DataFrame({f"noise_{i}": rng.uniform(0, 1, n) for i in range(3)})
    frame.insert(3, "purchases_trx", rng.normal([5, 40, 80], 4, (n, 3))[np.arange(n), groups])
    frame.insert(4, "balance_frequency", rng.uniform(0, 1, n))
    frame.insert(
        5,
        "oneoff_purchases_frequency",
        rng.normal([0.9, 0.1, 0.5], 0.04, (n, 3))[np.arange(n), groups],
    )
    return frame


def axis_titles(figure: dict) -> tuple[str, str]:
    layout = figure["layout"]
    return layout["xaxis"]["title"]["text"], layout["yaxis"]["title"]["text"]


def test_the_2d_view_defaults_to_the_features_that_separate_the_segments():
    def axes(seg):
        return separating_features(seg.summary(), ChartData.from_result(seg), 2)

    assert set(axes(custseg.segment(wide_table(), k=3))) == {
        "purchases_trx",
        "oneoff_purchases_frequency",
    }
    sample = custseg.segment(custseg.sample_customers(), k=5)
    assert axes(sample) == ["Annual Income (k$)", "Spending Score (1-100)"]


def test_dashboard_on_a_wide_table_draws_separating_axes_and_whole_size_labels():
    at = start()
    upload(at, "cards.csv", wide_table().to_csv(index=False).encode())
    no_failure(at)
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    scatter, sizes = figures
    # in words (#14): "purchases trx", not "purchases_trx"
    assert set(axis_titles(scatter)) == {"purchases trx", "oneoff purchases frequency"}
    names, labels = sizes["layout"]["yaxis"]["tickvals"], sizes["layout"]["yaxis"]["ticktext"]
    assert names == sizes["data"][0]["y"]
    for name, label in zip(names, labels, strict=True):
        lines = label.split("<br>")
        assert all(len(line) <= 26 or " " not in line for line in lines)
        assert " ".join(lines) == re.sub(r"\s+", " ", name)  # nothing cut off


@pytest.mark.parametrize("name", ["Short", "High purchases_trx, high oneoff_purchases_frequency"])
def test_wrapped_labels_keep_every_word(name):
    from custseg.outputs.report.figures.base import wrapped

    assert wrapped(name).replace("<br>", " ") == name
