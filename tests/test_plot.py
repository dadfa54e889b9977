"""``seg.plot``: each chart is one call, and it is the report's own chart."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

import custseg
from custseg import CustsegError
from custseg.outputs.report import render_html

from .test_report import figures


@pytest.fixture(scope="module")
def seg():
    return custseg.segment(custseg.sample_customers(300, seed=1), seed=0)


@pytest.fixture(scope="module")
def page(seg):
    return figures(render_html(seg))


@pytest.fixture(scope="module")
def wide():
    """Five numeric features, two of them noise: the PCA view applies, and the features that
    separate the segments are known."""
    rng = np.random.default_rng(3)
    centre = rng.integers(0, 3, 600)
    frame = pd.DataFrame(
        {
            "noise_a": rng.normal(0, 1, 600),
            "visits": centre * 10 + rng.normal(0, 1, 600),
            "noise_b": rng.normal(0, 1, 600),
            "basket": centre * 50 + rng.normal(0, 5, 600),
            "tenure": rng.normal(0, 1, 600) + centre * 0.3,
        }
    )
    return custseg.segment(frame, k=3, seed=0)


def data_of(fig: go.Figure) -> list[dict]:
    """The traces as the report page stores them."""
    return json.loads(pio.to_json(fig, validate=False, remove_uids=True))["data"]


REPORT_KEYS = {
    "scatter": "scatter2d",
    "scatter_3d": "scatter3d",
    "elbow": "elbow",
    "criteria": "metrics",
    "silhouette": "silhouette",
    "profiles": "profiles",
    "sizes": "sizes",
    "distributions": "distributions",
    "pairs": "pairs",
}


def report_figure(page: dict, key: str) -> dict:
    found = [fig for chart_id, fig in page.items() if chart_id.endswith(f"-{key}")]
    assert len(found) == 1, key
    return found[0]


@pytest.mark.parametrize("name", sorted(REPORT_KEYS))
def test_each_chart_is_the_reports_chart(seg, page, name):
    fig = getattr(seg.plot, name)()
    assert isinstance(fig, go.Figure)
    assert fig.data, f"{name} has no traces"
    assert data_of(fig) == report_figure(page, REPORT_KEYS[name])["data"]
    assert fig.layout.title.text  # the chart says what it shows, on the figure itself


def test_pca_is_the_reports_chart(wide):
    fig = wide.plot.pca()
    assert data_of(fig) == report_figure(figures(render_html(wide)), "pca")["data"]
    assert "PCA" in fig.layout.title.text


def test_scatter_defaults_to_the_features_that_separate_the_segments(wide):
    # visits and basket carry the segments; the noise columns come first in the table
    assert wide.plot.scatter().layout.xaxis.title.text == "visits"
    assert wide.plot.scatter().layout.yaxis.title.text == "basket"
    scene = wide.plot.scatter_3d().layout.scene
    assert [scene.xaxis.title.text, scene.yaxis.title.text] == ["visits", "basket"]
    assert scene.zaxis.title.text == "tenure"  # the third best, weakly shifted by segment


def test_axes_features_and_sizes_as_asked(seg):
    fig = seg.plot.scatter("Age", y="income", height=300, width=500)
    assert fig.layout.xaxis.title.text == "Age"
    assert fig.layout.yaxis.title.text == "Annual Income (k$)"  # a role names its column
    assert (fig.layout.height, fig.layout.width) == (300, 500)
    assert seg.plot.scatter_3d(z="Age").layout.scene.zaxis.title.text == "Age"
    assert [t.name for t in seg.plot.distributions("spending").data][:1]
    assert "Spending" in seg.plot.distributions("spending").layout.title.text
    profiles = seg.plot.profiles(features=["Age", "income"]).data[0]
    assert list(profiles.x) == ["Age", "Annual Income (k$)"]
    assert len(seg.plot.pairs(features=["Age", "income"]).data[0].dimensions) == 2


def test_sampling_is_stated_on_the_chart(seg):
    fig = seg.plot.scatter(sample=50)
    assert "random sample of 50 of 300 customers" in fig.layout.title.text
    assert sum(len(t.x) for t in fig.data if t.showlegend is not False and t.x[0] is not None) == 50
    assert "all 300 customers" in seg.plot.scatter().layout.title.text


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda p: p.scatter("Age", "Age"), "x and y are both 'Age'"),
        (lambda p: p.scatter(x="shoe size"), "x='shoe size' is not a feature"),
        (lambda p: p.scatter_3d("Age", "income", "Age"), "x and z are both 'Age'"),
        (lambda p: p.distributions("nope"), "feature='nope' is not a feature"),
        (lambda p: p.distributions("Age", features=["Age"]), "not both"),
        (lambda p: p.profiles(features=[]), "features is empty"),
        (lambda p: p.pairs(features=["Age", "Age"]), "named twice"),
        (lambda p: p.scatter(sample=0), "sample must be a whole number"),
        (lambda p: p.scatter(sample=True), "sample must be a whole number"),
        (lambda p: p.sizes(height=10), "height must be a whole number of pixels"),
        (lambda p: p.pca(), "more than three model features"),
    ],
)
def test_bad_arguments_say_what_to_do(seg, call, message):
    with pytest.raises(CustsegError, match=message.replace("(", r"\(")):
        call(seg.plot)


def test_the_accessor_lists_its_charts(seg):
    assert "scatter" in dir(seg.plot)
    assert "profiles" in repr(seg.plot)


def test_reprs_show_the_headline_cards_and_reason(seg):
    text = repr(seg)
    assert text.startswith(f"Segmentation: {seg.k} segments of 300 customers")
    for p in seg.profiles:
        assert p.name in text
    assert seg.k_reason in text
    page = seg._repr_html_()
    assert "<script" not in page and "plotly" not in page.lower()
    assert page.count("segment ") >= seg.k  # one card per segment
    for p in seg.profiles:
        assert f"{p.size:,} customers" in page
    assert "Why k =" in page
