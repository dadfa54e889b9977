"""``seg.plot``: each chart is one call, and it is the report's own chart."""

from __future__ import annotations

import copy
import dataclasses
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


def assert_close(a, b, path="data"):
    """Equal traces, numbers within rounding (a run summary keeps ten digits, a k search all)."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            assert_close(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-8), path
    else:
        assert a == b, path


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
    assert fig.layout.xaxis.title.text == "age"  # column names in words (#14)
    assert fig.layout.yaxis.title.text == "annual income (k$)"  # a role names its column
    assert (fig.layout.height, fig.layout.width) == (300, 500)
    assert seg.plot.scatter_3d(z="Age").layout.scene.zaxis.title.text == "age"
    assert [t.name for t in seg.plot.distributions("spending").data][:1]
    assert "Spending" in seg.plot.distributions("spending").layout.title.text
    profiles = seg.plot.profiles(features=["Age", "income"]).data[0]
    assert list(profiles.x) == ["age", "annual income (k$)"]
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
    assert f"Why k = {seg.k}: " + seg.k_reason.split(": ", 1)[1] in text
    page = seg._repr_html_()
    assert "<script" not in page and "plotly" not in page.lower()
    assert page.count("segment ") >= seg.k  # one card per segment
    for p in seg.profiles:
        assert f"{p.size:,} customers" in page
    assert "Why k =" in page


def test_a_k_search_draws_the_reports_k_charts(seg, page):
    choice = seg.k_choice  # recommended k == seg.k here, so the marks are the same
    assert seg.k == choice.recommended
    assert_close(data_of(choice.plot()), report_figure(page, "elbow")["data"])
    assert_close(data_of(choice.plot.elbow()), report_figure(page, "elbow")["data"])
    assert_close(data_of(choice.plot.criteria()), report_figure(page, "metrics")["data"])
    standalone = custseg.choose_k(seg.model_space(), "2..6")
    fig = standalone.plot(height=300)
    assert fig.layout.height == 300 and len(fig.data) >= 2
    with pytest.raises(CustsegError, match="height must be"):
        standalone.plot.criteria(height=-1)


def test_a_loaded_model_draws_the_profiles(seg, tmp_path):
    model = custseg.load_model(seg.save(tmp_path / "model.skops"))
    loaded, fitted = model.plot.profiles().data[0], seg.plot.profiles().data[0]
    assert (loaded.x, loaded.y, loaded.text) == (fitted.x, fitted.y, fitted.text)
    # the model file keeps full precision, the run summary ten digits
    np.testing.assert_allclose(loaded.z, fitted.z)
    np.testing.assert_allclose(loaded.customdata, fitted.customdata, rtol=1e-8)


def test_confidence_is_in_the_headline_when_the_k_search_rated_it(seg):
    choice = copy.copy(seg.k_choice)
    choice.confidence = "strong"
    rated = dataclasses.replace(seg, k_choice=choice)
    assert "strong confidence in k" in repr(rated)
    assert "strong confidence in k" in rated._repr_html_()
    assert f"{seg.k_choice.confidence} confidence in k" in repr(seg)  # every search rates it
