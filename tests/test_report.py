"""The HTML report (self-contained, escaped, sampled) and the static PNG charts."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest
from markupsafe import escape
from plotly.offline import get_plotlyjs

import custseg
from custseg.exceptions import ConfigError
from custseg.outputs.report import render_html, write_png
from custseg.text import humanise
from tests.conftest import shared_file

HOSTILE = "<script>alert(1)</script>"
EXTERNAL = re.compile(
    r"""<(?:script|link|img|iframe|source|embed)\b[^>]*\b(?:src|href)\s*=\s*["']?\s*"""
    r"""(?:https?:)?//""",
    re.IGNORECASE,
)
FIGURE = re.compile(
    r'<script type="application/json" data-plot="(chart-[\w-]+)">(.*?)</script>', re.DOTALL
)
SECTIONS = ("Data overview", "Choosing k", "Segments", "Segment cards")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def sample_seg():
    return custseg.segment(custseg.sample_customers(300, seed=1))


@pytest.fixture(scope="module")
def two_feature_seg():
    return custseg.segment(custseg.sample_customers(300, seed=1), features="income,spending")


@pytest.fixture(scope="module")
def wholesale_seg():
    return custseg.segment(shared_file("wholesale_customers.csv"))


@pytest.fixture(scope="module")
def large_seg():
    data = custseg.sample_customers(60_000, seed=2)
    return custseg.segment(data, k_range="4..6", n_init=2)


@pytest.fixture(params=["sample_seg", "two_feature_seg", "wholesale_seg"])
def seg(request):
    return request.getfixturevalue(request.param)


# ---------------------------------------------------------------- helpers
def figures(page: str) -> dict[str, dict]:
    """Chart id -> parsed Plotly figure, from the page's JSON script blocks."""
    return {key: json.loads(body) for key, body in FIGURE.findall(page)}


def figure(page: str, key: str) -> dict:
    found = [fig for chart_id, fig in figures(page).items() if chart_id.endswith(f"-{key}")]
    assert len(found) == 1, f"expected one {key!r} chart, found {len(found)}"
    return found[0]


def array(values) -> np.ndarray:
    """A Plotly data array, plain list or base64 typed array, as numpy."""
    if isinstance(values, dict) and "bdata" in values:
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
    return np.asarray(values)


def n_values(values) -> int:
    return len(array(values))


def trace_colors(fig: dict) -> dict[str, str]:
    """Segment trace name -> its colour (first trace of each name that has one colour)."""
    out: dict[str, str] = {}
    for trace in fig["data"]:
        color = trace.get("marker", {}).get("color")
        if isinstance(color, str) and trace.get("name"):
            out.setdefault(trace["name"], color)
    return out


def plotly_text(text: str) -> str:
    """How the report puts user text into a Plotly label."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------- HTML
def test_report_is_self_contained(seg):
    page = render_html(seg)
    assert page.startswith("<!DOCTYPE html>")
    assert not EXTERNAL.search(page), EXTERNAL.search(page).group(0)
    assert "<script src" not in page.lower()
    assert "@import" not in page and "fonts.googleapis" not in page
    assert page.count(get_plotlyjs()) == 1
    assert page.count("Plotly.newPlot(") == 1  # one loader for every figure


def test_report_has_sections_segments_and_charts(seg):
    page = render_html(seg)
    for title in SECTIONS:
        assert f">{title}</h2>" in page
    for name in seg.names.values():
        assert str(escape(name)) in page
    figs = figures(page)
    keys = {chart_id.rsplit("-", 1)[1] for chart_id in figs}
    assert {
        "distributions",
        "correlation",
        "pairs",
        "elbow",
        "metrics",
        "silhouette",
        "scatter2d",
        "profiles",
        "sizes",
    } <= keys
    assert ("scatter3d" in keys) == (len(seg.plan.numeric) >= 3)
    assert ("pca" in keys) == (len(seg.features) > 3)
    assert ("gender" in keys) == bool(seg.table.columns_with("gender"))
    for fig in figs.values():
        assert fig["data"], "every chart has data"
    # every JSON block is inert inside <script>: it cannot close the element
    for _, body in FIGURE.findall(page):
        assert "<" not in body and ">" not in body
    assert f"k={seg.k}" in page
    assert str(escape(seg.k_choice.reason)) in page


def test_segment_names_in_legends_with_one_colour_each(seg):
    page = render_html(seg)
    names = {plotly_text(n) for n in seg.names.values()}
    scatter = trace_colors(figure(page, "scatter2d"))
    histogram = trace_colors(figure(page, "distributions"))
    assert names <= set(scatter)
    assert names <= set(histogram)
    for name in names:
        assert scatter[name] == histogram[name]
    assert len({scatter[n] for n in names}) == len(names)
    sizes = figure(page, "sizes")["data"][0]
    assert sizes["y"] == [plotly_text(p.name) for p in seg.profiles]
    assert sizes["marker"]["color"] == [scatter[plotly_text(p.name)] for p in seg.profiles]


def test_scatter_prefers_income_and_spending(sample_seg):
    fig = figure(render_html(sample_seg), "scatter2d")
    titles = fig["layout"]["xaxis"]["title"]["text"], fig["layout"]["yaxis"]["title"]["text"]
    # column names in words, units in brackets kept
    assert titles == ("annual income (k$)", "spending score (1-100)")
    scene = figure(render_html(sample_seg), "scatter3d")["layout"]["scene"]
    assert [scene[a]["title"]["text"] for a in ("xaxis", "yaxis", "zaxis")] == [
        "age",
        "annual income (k$)",
        "spending score (1-100)",
    ]


def test_elbow_marks_knee_and_chosen_k(sample_seg):
    fig = figure(render_html(sample_seg), "elbow")
    names = [t.get("name", "") for t in fig["data"]]
    knee = sample_seg.k_choice.votes["elbow"]
    assert knee is not None
    assert f"knee (elbow) k={knee}" in names
    assert f"chosen k={sample_seg.k}" in names


def test_hostile_text_is_escaped(tmp_path):
    data = custseg.sample_customers(200, seed=3).rename(columns={"Age": HOSTILE})
    csv = tmp_path / 'shop <u>"x".csv'
    data.to_csv(csv, index=False)
    seg = custseg.segment(csv)
    assert HOSTILE in seg.features
    page = render_html(seg, title="<img src=x onerror=alert(2)>")
    assert HOSTILE not in page
    assert "<img src=x" not in page
    assert "<u>" not in page
    assert "shop &lt;u&gt;&#34;x&#34;.csv" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    # in the charts, labels are entity-escaped so Plotly shows them as text, not markup
    shown = plotly_text(HOSTILE)
    assert shown == "&lt;script&gt;alert(1)&lt;/script&gt;"
    titles = [a["text"] for a in figure(page, "distributions")["layout"]["annotations"]]
    assert plotly_text(humanise(HOSTILE)) in titles  # column names are shown in words
    assert shown in figure(page, "correlation")["data"][0]["x"]
    assert shown in [d["label"] for d in figure(page, "pairs")["data"][0]["dimensions"]]


def test_report_writes_file_atomically(sample_seg, tmp_path):
    target = tmp_path / "out" / "report.html"
    page = render_html(sample_seg, target)
    assert target.read_text(encoding="utf-8") == page
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.html"]
    plain = tmp_path / "out" / "plain.txt"
    plain.write_text("x")
    assert target.stat().st_mode == plain.stat().st_mode  # not a private temp-file mode
    plain.unlink()
    target.write_text("old")
    assert sample_seg.report(target) == page
    assert target.read_text(encoding="utf-8") == page
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.html"]


def test_report_is_deterministic(sample_seg):
    assert render_html(sample_seg) == render_html(sample_seg)


def test_max_points_is_checked(sample_seg):
    with pytest.raises(ConfigError, match="max_points"):
        render_html(sample_seg, max_points=0)


def test_small_max_points_samples_and_says_so(sample_seg):
    page = render_html(sample_seg, max_points=50)
    assert "random sample of 50 of 300 customers" in page
    fig = figure(page, "scatter2d")
    shown = sum(
        n_values(t["x"]) for t in fig["data"] if t.get("legendgroup") and t.get("showlegend", True)
    )
    assert shown == 50


def test_large_table_gives_small_sampled_report(large_seg, tmp_path):
    target = tmp_path / "report.html"
    page = render_html(large_seg, target)
    size = target.stat().st_size
    assert size < 10 * 1024 * 1024, f"report is {size:,} bytes"
    assert "random sample of 5,000 of 60,000 customers" in page
    assert "random sample of 3,000 of 60,000 customers" in page  # the silhouette plot
    for key in ("scatter2d", "scatter3d"):
        fig = figure(page, key)
        points = sum(
            n_values(t["x"])
            for t in fig["data"]
            if t.get("showlegend", True) and t.get("name") and t["name"] != "segment centre"
        )
        assert points == 5000, key
    splom = figure(page, "pairs")
    assert sum(n_values(t["dimensions"][0]["values"]) for t in splom["data"]) == 5000


def test_rows_left_out_and_one_hot_features():
    data = custseg.sample_customers(300, seed=4)
    data.loc[data.index[:7], "Age"] = np.nan
    seg = custseg.segment(data, missing="drop", one_hot="Gender")
    page = render_html(seg)
    assert "dropped 7 rows" in page
    assert "pca" in {chart_id.rsplit("-", 1)[1] for chart_id in figures(page)}
    histogram = figure(page, "distributions")
    age = [t for t in histogram["data"] if t.get("xaxis", "x") == "x"]
    assert len(age) == seg.k
    assert sum(int(array(t["y"]).sum()) for t in age) == 293  # the segmented rows only


def test_one_segment_is_refused_with_a_clear_message():
    with pytest.raises(custseg.ConfigError, match=r"^k must be at least 2 \(a segmentation"):
        custseg.segment(custseg.sample_customers(100, seed=5), k=1, k_range="2..3")


# ---------------------------------------------------------------- PNG
def test_write_png(seg, tmp_path):
    folder = tmp_path / "charts"
    paths = write_png(seg, folder)
    assert [p.name for p in paths] == [
        "elbow.png",
        "metrics_by_k.png",
        "segments_scatter.png",
        "segment_sizes.png",
        "profile_heatmap.png",
    ]
    for path in paths:
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        assert len(data) > 5_000
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in paths)


def test_write_png_with_hostile_and_dollar_names(tmp_path):
    data = custseg.sample_customers(200, seed=6).rename(
        columns={"Age": HOSTILE, "Spending Score (1-100)": "$pend $core"}
    )
    paths = write_png(custseg.segment(data), tmp_path)
    assert len(paths) == 5
    assert all(p.stat().st_size > 5_000 for p in paths)


def test_write_png_leaves_pyplot_backend_alone(sample_seg, tmp_path):
    import matplotlib

    before = matplotlib.get_backend()
    write_png(sample_seg, tmp_path)
    assert matplotlib.get_backend() == before


# ---------------------------------------------------------------- explore --html


def test_overview_page_describes_the_table_before_segmenting(tmp_path):
    from custseg.outputs.report.overview import render_overview
    from custseg.read import load

    frame = custseg.sample_customers(8000, seed=5)
    frame[HOSTILE] = np.arange(len(frame)) % 7 * 1.5  # a numeric column with a hostile name
    frame.loc[:9, "Age"] = np.nan
    table = load(frame)
    page = render_overview(table, tmp_path / "overview.html", max_points=1000)
    assert (tmp_path / "overview.html").read_text(encoding="utf-8") == page
    assert not EXTERNAL.search(page) and page.count(get_plotlyjs()) == 1
    assert HOSTILE not in page and str(escape(HOSTILE)) in page
    assert "8,000" in page and "10 (0.1%)" in page  # rows; Age's missing values
    figs = {chart_id.rsplit("-", 1)[1]: fig for chart_id, fig in figures(page).items()}
    assert set(figs) == {"histograms", "correlation", "pairs"}
    numeric = table.columns_with("age", "income", "spending", "numeric")
    bars = figs["histograms"]["data"]
    assert len(bars) == len(numeric)
    present = frame[numeric].notna().sum()
    assert sorted(_total(b["y"]) for b in bars) == sorted(present.tolist())
    dimensions = figs["pairs"]["data"][0]["dimensions"]
    assert [d["label"] for d in dimensions] == [str(escape(c)) for c in numeric]
    assert all(_length(d["values"]) == 1000 for d in dimensions)
    assert "random sample of 1,000 of 8,000 customers" in page


def _array(y) -> np.ndarray:
    """A Plotly array: a list, or a base64-packed typed array."""
    if isinstance(y, dict):
        return np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"])
    return np.asarray(y)


def _total(y) -> int:
    return int(_array(y).sum())


def _length(y) -> int:
    return len(_array(y))
