"""Charts of the data: distributions, gender mix, correlations and pairs of features.

The by-segment ones draw from the summary and :class:`ChartData`; ``feature_histograms``,
``pairs`` and ``correlation`` take a plain frame, so the table overview (before any
segmentation) draws them too. Histograms are binned here, so the page stays small whatever the
number of rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from custseg.outputs.report.chart_data import ChartData
from custseg.outputs.report.figures.base import (
    ACCENT,
    CATEGORY_COLORS,
    LOG_NOTE,
    Chart,
    esc,
    esc_hover,
    f32,
    label,
    log_ticks,
    on_log_scale,
    style,
    style_splom,
)
from custseg.text import plural

SPLOM_MAX_FEATURES = 8
MAX_GENDER_VALUES = 6


def _n_bins(n: int) -> int:
    return int(min(40, max(8, math.sqrt(max(n, 1)))))


def segment_histograms(v: np.ndarray, labels: np.ndarray, edges: np.ndarray, k: int) -> np.ndarray:
    """Counts per segment (rows) and bin (columns), as ``np.histogram`` bins them, in one pass.

    Bins are ``[e_i, e_i+1)``, the last one closed; values outside the edges are not counted.
    """
    n_bins = len(edges) - 1
    bins = np.searchsorted(edges, v, side="right") - 1
    bins[v == edges[-1]] = n_bins - 1
    inside = (bins >= 0) & (bins < n_bins)
    flat = labels[inside] * n_bins + bins[inside]
    return np.bincount(flat, minlength=k * n_bins).reshape(k, n_bins)


def _histogram_grid(
    features: list[str],
    bars: Callable[[int, str], list[go.Bar]],
    titles: list[str] | None = None,
    **layout,
) -> tuple[go.Figure, int]:
    """One histogram panel per feature, three to a row; ``bars(i, feature)`` draws panel i."""
    n_cols = min(3, len(features))
    n_rows = math.ceil(len(features) / n_cols)
    fig = make_subplots(
        rows=n_rows,
        cols=n_cols,
        subplot_titles=[esc(f) for f in (titles or features)],
        horizontal_spacing=0.07,
        vertical_spacing=min(0.12, 0.6 / n_rows) if n_rows > 1 else 0.1,
    )
    traces, rows, cols = [], [], []
    for i, feature in enumerate(features):
        for trace in bars(i, feature):
            traces.append(trace)
            rows.append(i // n_cols + 1)
            cols.append(i % n_cols + 1)
    if traces:
        fig.add_traces(traces, rows=rows, cols=cols)  # one call: plotly re-validates per call
    height = 250 * n_rows + 90
    style(fig, height, **layout)
    fig.update_layout(margin={"t": 50})
    fig.update_annotations(font_size=12)
    return fig, height


def distributions(
    summary: dict, data: ChartData, colors: dict[int, str], features: list[str] | None = None
) -> Chart | None:
    """A histogram per numeric feature, stacked by segment (binned here, so size stays small)."""
    features = list(features or summary["numeric_features"])
    if not features:
        return None
    used = data.used
    labels = data.labels[used]
    segments = summary["segments"]
    logged = set(summary.get("log_features") or ())
    tops: dict[int, float] = {}

    def by_segment(i: int, feature: str) -> list[go.Bar]:
        v = data.values[feature].to_numpy(dtype=float)[used]
        ok = np.isfinite(v)
        if not ok.any():
            return []
        if feature in logged:  # binned on the model's log scale; hover shows original units
            tops[i] = float(v[ok].max())
            v = on_log_scale(v)
        edges = np.histogram_bin_edges(v[ok], bins=_n_bins(int(ok.sum())))
        mids, widths = (edges[:-1] + edges[1:]) / 2, np.diff(edges)
        counts = segment_histograms(v[ok], labels[ok], edges, summary["k"])
        shown = np.expm1(mids) if feature in logged else mids
        hover = f"{esc_hover(feature)} %{{customdata:,.4g}}<br>%{{y:,}} customers"
        return [
            go.Bar(
                x=mids,
                y=counts[p["id"]],
                customdata=shown,
                width=widths,
                name=esc(p["name"]),
                legendgroup=str(p["id"]),
                showlegend=i == 0,
                marker={"color": colors[p["id"]], "line": {"width": 0}},
                hovertemplate=hover + f"<extra>{esc_hover(p['name'])}</extra>",
            )
            for p in segments
        ]

    titles = [label(summary, f) for f in features]
    fig, height = _histogram_grid(features, by_segment, titles, barmode="stack", bargap=0)
    caption = (
        "How each feature's values spread across the segmented customers; the colours show "
        "which segment each part of the distribution belongs to."
    )
    if tops:
        _label_log_panels(fig, tops)
        caption += (
            " Features marked (log scale) were log-transformed for the segmentation, so they "
            "are drawn on a log scale too; the axis shows their original values."
        )
    return Chart(
        "distributions",
        f"Distribution of {features[0] if len(features) == 1 else 'each feature'}, by segment",
        fig,
        caption,
        height=height,
        wide=True,
    )


def _label_log_panels(fig: go.Figure, tops: dict[int, float]) -> None:
    """Give the log-scale panels (by position) ticks in original units and a marked title."""
    for i, top in tops.items():
        fig.update_layout({"xaxis" if i == 0 else f"xaxis{i + 1}": log_ticks(top)})
        fig.layout.annotations[i].text += LOG_NOTE


def feature_histograms(values: pd.DataFrame) -> Chart | None:
    """A histogram per numeric column, before segmenting (binned here, so size stays small)."""
    features = list(values.columns)
    if not features:
        return None

    def plain(_i: int, feature: str) -> list[go.Bar]:
        v = values[feature].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        if not len(v):
            return []
        counts, edges = np.histogram(v, bins=_n_bins(len(v)))
        hover = f"{esc_hover(feature)} %{{x:,.4g}}<br>%{{y:,}} customers<extra></extra>"
        return [
            go.Bar(
                x=(edges[:-1] + edges[1:]) / 2,
                y=counts,
                width=np.diff(edges),
                marker={"color": ACCENT, "line": {"width": 0}},
                showlegend=False,
                hovertemplate=hover,
            )
        ]

    fig, height = _histogram_grid(features, plain, bargap=0.02)
    return Chart(
        "histograms",
        "Distribution of each numeric column",
        fig,
        "Look for long tails (a log transform may help) and for columns with a few values only.",
        height=height,
        wide=True,
    )


def pairs(values: pd.DataFrame, note: str) -> Chart | None:
    """Every pair of numeric columns (up to eight), before segmenting: look for groups."""
    features = list(values.columns)[:SPLOM_MAX_FEATURES]
    if len(features) < 2:
        return None
    fig = go.Figure(
        go.Splom(
            dimensions=[{"label": esc(f), "values": f32(values[f])} for f in features],
            marker={"color": ACCENT, "size": 3, "opacity": 0.5},
            diagonal={"visible": False},
            showupperhalf=False,
            showlegend=False,
        )
    )
    height = style_splom(fig, len(features))
    return Chart(
        "pairs",
        f"Pairs of numeric columns ({note})",
        fig,
        "Each panel plots one pair of columns; clouds that fall apart into groups are what "
        "segmentation will find.",
        height=height,
        wide=True,
    )


def gender_mix(summary: dict, data: ChartData) -> Chart | None:
    """Gender shares overall and per segment, when the table has a gender column."""
    if data.gender is None:
        return None
    column = data.gender.name
    used = data.used
    gender = data.gender.astype("string").fillna("unknown").to_numpy()[used]
    table = pd.crosstab(data.labels[used], gender)
    order = list(table.sum().sort_values(ascending=False).index)
    if len(order) > MAX_GENDER_VALUES:
        keep, rest = order[: MAX_GENDER_VALUES - 1], order[MAX_GENDER_VALUES - 1 :]
        table["other"] = table[rest].sum(axis=1)
        table = table[keep + ["other"]]
        order = keep + ["other"]
    segments = summary["segments"]
    rows = ["All customers"] + [esc(p["name"]) for p in segments]
    per_segment = [table.loc[p["id"]].to_numpy() for p in segments]
    counts = np.vstack([table.sum().to_numpy(), *per_segment])
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig = go.Figure()
    for j, value in enumerate(order):
        fig.add_trace(
            go.Bar(
                x=shares[:, j],
                y=rows,
                orientation="h",
                name=esc(value),
                marker={"color": CATEGORY_COLORS[j % len(CATEGORY_COLORS)]},
                text=[f"{s:.0%}" if s >= 0.06 else "" for s in shares[:, j]],
                textposition="inside",
                customdata=counts[:, j],
                hovertemplate=f"%{{y}}<br>{esc_hover(value)}: %{{x:.1%}} "
                "(%{customdata:,})<extra></extra>",
            )
        )
    height = max(260, 34 * len(rows) + 110)
    style(fig, height, barmode="stack")
    fig.update_layout(
        xaxis={"tickformat": ".0%", "range": [0, 1]},
        yaxis={"autorange": "reversed", "automargin": True},
    )
    return Chart(
        "gender",
        f"Gender mix ({column})",
        fig,
        "Share of each gender among all segmented customers and within each segment.",
        height=height,
    )


def correlation(values: pd.DataFrame) -> Chart | None:
    """Pearson correlation between the columns of ``values`` (numeric features)."""
    features = list(values.columns)
    if len(features) < 2:
        return None
    corr = values.corr().to_numpy()
    labels = [esc(f) for f in features]
    fig = go.Figure(
        go.Heatmap(
            z=np.round(corr, 3),
            x=labels,
            y=labels,
            zmin=-1,
            zmax=1,
            colorscale="RdBu_r",
            texttemplate="%{z:.2f}",
            hovertemplate="%{y} vs %{x}: %{z:.2f}<extra></extra>",
            colorbar={"title": {"text": "r"}, "thickness": 12},
        )
    )
    height = max(360, 48 * len(features) + 150)
    style(fig, height)
    fig.update_layout(
        yaxis={"autorange": "reversed", "automargin": True}, xaxis={"automargin": True}
    )
    return Chart(
        "correlation",
        "Correlation between features",
        fig,
        "Pearson correlation: 1 means two features rise together, -1 that one falls as the "
        "other rises, 0 no linear relation.",
        height=height,
    )


def feature_correlation(summary: dict, data: ChartData) -> Chart | None:
    """:func:`correlation` of the model's numeric features over the segmented customers."""
    return correlation(data.values.loc[data.used, list(summary["numeric_features"])])


def scatter_matrix(
    summary: dict, data: ChartData, colors: dict[int, str], features: list[str] | None = None
) -> Chart | None:
    """Every pair of numeric features (up to eight), coloured by segment."""
    numeric = list(features or summary["numeric_features"])
    features = numeric[:SPLOM_MAX_FEATURES]
    if len(features) < 2:
        return None
    xs = data.values.iloc[data.positions][features].to_numpy(dtype=float)
    labels = data.labels[data.positions]
    logged = [j for j, f in enumerate(features) if f in set(summary.get("log_features") or ())]
    tops = {j: np.nanmax(xs[:, j], initial=0.0) for j in logged}
    for j in logged:
        xs[:, j] = on_log_scale(xs[:, j])
    names = [esc(f) + (LOG_NOTE if j in tops else "") for j, f in enumerate(features)]
    fig = go.Figure()
    for p in summary["segments"]:
        rows = labels == p["id"]
        fig.add_trace(
            go.Splom(
                dimensions=[
                    {"label": names[j], "values": f32(xs[rows, j])} for j in range(len(features))
                ],
                name=esc(p["name"]),
                legendgroup=str(p["id"]),
                marker={"color": colors[p["id"]], "size": 3, "opacity": 0.6},
                diagonal={"visible": False},
                showupperhalf=False,
            )
        )
    height = style_splom(fig, len(features))
    for j, top in tops.items():  # a splom's dimension j is drawn on axes j+1
        ticks = log_ticks(top)
        fig.update_layout({f"xaxis{j + 1}" if j else "xaxis": ticks})
        fig.update_layout({f"yaxis{j + 1}" if j else "yaxis": ticks})
    extra = len(numeric) - len(features)
    caption = "Each panel plots one pair of features; look for pairs where the colours separate."
    if extra > 0:
        caption += (
            f" Showing the first {plural(len(features), 'feature')} ({extra} more not shown)."
        )
    return Chart(
        "pairs", f"Pairs of features ({data.note})", fig, caption, height=height, wide=True
    )
