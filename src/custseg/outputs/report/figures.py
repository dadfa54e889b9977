"""The report's interactive charts (Plotly), drawn from a ``Segmentation``.

Every chart is a :class:`Chart`: a plain-text title and caption (escaped by the template) and a
Plotly figure. User text (column and segment names) goes into figures through :func:`esc`, so
Plotly, which reads a little HTML in labels, shows it literally. Scatter charts draw one seeded
sample of at most ``max_points`` rows and say so in their title; histograms are binned here, so
the report stays small whatever the number of rows.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from custseg.outputs.report._common import (
    INDEX_OCTAVES,
    SEED,
    SILHOUETTE_SAMPLE_MAX,
    index_colour,
    model_space_rows,
    pick_axes,
    profile_matrix,
    sample_note,
    sample_positions,
    segment_colors,
)

if TYPE_CHECKING:
    from custseg.segmentation import Segmentation

FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
INK, MUTED, ACCENT, KNEE = "#1f2937", "#6b7280", "#4f46e5", "#f28e2b"
CATEGORY_COLORS = ("#6366f1", "#14b8a6", "#f59e0b", "#ec4899", "#84cc16", "#0ea5e9", "#a8a29e")
SPLOM_MAX_FEATURES = 8
MAX_GENDER_VALUES = 6


@dataclass
class Chart:
    """One chart of the report."""

    key: str
    title: str
    figure: go.Figure
    caption: str = ""
    height: int = 440
    wide: bool = False


@dataclass
class Charts:
    """The report's charts by section, and facts about how they were drawn."""

    overview: list[Chart] = field(default_factory=list)
    choosing_k: list[Chart] = field(default_factory=list)
    segments: list[Chart] = field(default_factory=list)
    points_shown: int = 0
    points_total: int = 0
    silhouette_sample: int | None = None


def esc(text: object) -> str:
    """User text for a Plotly label: shown as written, never read as markup."""
    return html.escape(str(text), quote=False)


def esc_hover(text: object) -> str:
    """User text for a Plotly hover template: also keeps ``%{...}`` from being substituted."""
    return esc(text).replace("%", "&#37;")


def build_charts(seg: Segmentation, *, max_points: int = 5000) -> Charts:
    """Draw every chart of the report for ``seg``."""
    colors = segment_colors(seg)
    values = seg.values()
    positions = sample_positions(seg, max_points)
    total = int(seg.used.sum())
    charts = Charts(points_shown=len(positions), points_total=total)
    note = sample_note(len(positions), total)

    charts.overview = _drop_none(
        distributions(seg, values, colors),
        gender_mix(seg),
        correlation(values.loc[seg.used, list(seg.plan.numeric)]),
        scatter_matrix(seg, values, positions, colors, note),
    )
    silhouette = silhouette_plot(seg, colors)
    if silhouette is not None:
        charts.silhouette_sample = silhouette[1]
    charts.choosing_k = _drop_none(
        elbow(seg), silhouette[0] if silhouette else None, metrics_by_k(seg)
    )
    charts.segments = _drop_none(
        scatter_2d(seg, values, positions, colors, note),
        segment_sizes(seg, colors),
        profile_heatmap(seg),
        scatter_3d(seg, values, positions, colors, note),
        pca_view(seg, positions, colors, note),
    )
    return charts


def _drop_none(*charts: Chart | None) -> list[Chart]:
    return [c for c in charts if c is not None]


def _style(fig: go.Figure, height: int, **layout) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 60, "r": 20, "t": 40, "b": 50},
        font={"family": FONT, "size": 12, "color": INK},
        hoverlabel={"font": {"family": FONT}},
        legend={"itemsizing": "constant", "font": {"size": 11}, "traceorder": "normal"},
        **layout,
    )
    return fig


def _style_splom(fig: go.Figure, n_features: int) -> int:
    """Style a scatter matrix (box-select to highlight); returns its height."""
    height = int(min(900, max(460, 150 * n_features + 80)))
    _style(fig, height, dragmode="select")
    return height


def _f32(array) -> np.ndarray:
    return np.asarray(array, dtype=np.float32)


# ---------------------------------------------------------------- data overview
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
    features: list[str], bars: Callable[[int, str], list[go.Bar]], **layout
) -> tuple[go.Figure, int]:
    """One histogram panel per feature, three to a row; ``bars(i, feature)`` draws panel i."""
    n_cols = min(3, len(features))
    n_rows = math.ceil(len(features) / n_cols)
    fig = make_subplots(
        rows=n_rows,
        cols=n_cols,
        subplot_titles=[esc(f) for f in features],
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
    _style(fig, height, **layout)
    fig.update_layout(margin={"t": 50})
    fig.update_annotations(font_size=12)
    return fig, height


def distributions(seg: Segmentation, values: pd.DataFrame, colors: dict[int, str]) -> Chart | None:
    """A histogram per numeric feature, stacked by segment (binned here, so size stays small)."""
    features = list(seg.plan.numeric)
    if not features:
        return None
    used = seg.used
    labels = seg.labels[used]

    def by_segment(i: int, feature: str) -> list[go.Bar]:
        v = values[feature].to_numpy(dtype=float)[used]
        ok = np.isfinite(v)
        if not ok.any():
            return []
        edges = np.histogram_bin_edges(v[ok], bins=_n_bins(int(ok.sum())))
        mids, widths = (edges[:-1] + edges[1:]) / 2, np.diff(edges)
        counts = segment_histograms(v[ok], labels[ok], edges, seg.k)
        hover = f"{esc_hover(feature)} %{{x:,.4g}}<br>%{{y:,}} customers"
        return [
            go.Bar(
                x=mids,
                y=counts[p.id],
                width=widths,
                name=esc(p.name),
                legendgroup=str(p.id),
                showlegend=i == 0,
                marker={"color": colors[p.id], "line": {"width": 0}},
                hovertemplate=hover + f"<extra>{esc_hover(p.name)}</extra>",
            )
            for p in seg.profiles
        ]

    fig, height = _histogram_grid(features, by_segment, barmode="stack", bargap=0)
    return Chart(
        "distributions",
        "Distribution of each feature, by segment",
        fig,
        "How each feature's values spread across the segmented customers; the colours show "
        "which segment each part of the distribution belongs to.",
        height=height,
        wide=True,
    )


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
            dimensions=[{"label": esc(f), "values": _f32(values[f])} for f in features],
            marker={"color": ACCENT, "size": 3, "opacity": 0.5},
            diagonal={"visible": False},
            showupperhalf=False,
            showlegend=False,
        )
    )
    height = _style_splom(fig, len(features))
    return Chart(
        "pairs",
        f"Pairs of numeric columns ({note})",
        fig,
        "Each panel plots one pair of columns; clouds that fall apart into groups are what "
        "segmentation will find.",
        height=height,
        wide=True,
    )


def gender_mix(seg: Segmentation) -> Chart | None:
    """Gender shares overall and per segment, when the table has a gender column."""
    columns = seg.table.columns_with("gender")
    if not columns:
        return None
    column = columns[0]
    used = seg.used
    gender = seg.table.frame[column].astype("string").fillna("unknown").to_numpy()[used]
    labels = seg.labels[used]
    table = pd.crosstab(labels, gender)
    order = list(table.sum().sort_values(ascending=False).index)
    if len(order) > MAX_GENDER_VALUES:
        keep, rest = order[: MAX_GENDER_VALUES - 1], order[MAX_GENDER_VALUES - 1 :]
        table["other"] = table[rest].sum(axis=1)
        table = table[keep + ["other"]]
        order = keep + ["other"]
    rows = ["All customers"] + [esc(p.name) for p in seg.profiles]
    per_segment = [table.loc[p.id].to_numpy() for p in seg.profiles]
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
    _style(fig, height, barmode="stack")
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
    _style(fig, height)
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


def scatter_matrix(
    seg: Segmentation,
    values: pd.DataFrame,
    positions: np.ndarray,
    colors: dict[int, str],
    note: str,
) -> Chart | None:
    """Every pair of numeric features (up to eight), coloured by segment."""
    features = list(seg.plan.numeric)[:SPLOM_MAX_FEATURES]
    if len(features) < 2:
        return None
    data = values.iloc[positions][features].to_numpy(dtype=float)
    labels = seg.labels[positions]
    fig = go.Figure()
    for p in seg.profiles:
        rows = labels == p.id
        fig.add_trace(
            go.Splom(
                dimensions=[
                    {"label": esc(f), "values": _f32(data[rows, j])} for j, f in enumerate(features)
                ],
                name=esc(p.name),
                legendgroup=str(p.id),
                marker={"color": colors[p.id], "size": 3, "opacity": 0.6},
                diagonal={"visible": False},
                showupperhalf=False,
            )
        )
    height = _style_splom(fig, len(features))
    extra = len(seg.plan.numeric) - len(features)
    caption = "Each panel plots one pair of features; look for pairs where the colours separate."
    if extra > 0:
        caption += f" Showing the first {len(features)} features ({extra} more not shown)."
    return Chart("pairs", f"Pairs of features ({note})", fig, caption, height=height, wide=True)


# ---------------------------------------------------------------- choosing k
def elbow(seg: Segmentation) -> Chart | None:
    """WCSS by k with the knee and the chosen k marked."""
    choice = seg.k_choice
    if not choice.metrics:
        return None
    ks, inertia = choice.ks, choice.metric("inertia")
    by_k = dict(zip(ks, inertia, strict=True))
    fig = go.Figure(
        go.Scatter(
            x=ks,
            y=inertia,
            mode="lines+markers",
            name="WCSS",
            line={"color": "#4e79a7", "width": 2.5},
            marker={"size": 8},
            hovertemplate="k=%{x}<br>WCSS %{y:,.4g}<extra></extra>",
        )
    )
    knee = choice.votes.get("elbow")
    if knee is not None and knee in by_k:
        fig.add_vline(x=knee, line={"color": KNEE, "dash": "dash", "width": 1.5})
        fig.add_trace(
            go.Scatter(
                x=[knee],
                y=[by_k[knee]],
                mode="markers",
                name=f"knee (elbow) k={knee}",
                marker={"color": KNEE, "size": 15, "symbol": "circle-open", "line": {"width": 3}},
                hovertemplate="knee k=%{x}<extra></extra>",
            )
        )
    if seg.k in by_k:
        fig.add_vline(x=seg.k, line={"color": "#e15759", "width": 1.5})
        fig.add_trace(
            go.Scatter(
                x=[seg.k],
                y=[by_k[seg.k]],
                mode="markers",
                name=f"chosen k={seg.k}",
                marker={"color": "#e15759", "size": 16, "symbol": "star"},
                hovertemplate="chosen k=%{x}<extra></extra>",
            )
        )
    _style(fig, 440)
    fig.update_layout(
        xaxis={"title": {"text": "number of segments k"}, "dtick": 1},
        yaxis={"title": {"text": "within-cluster sum of squares"}},
        legend={"x": 0.98, "y": 0.98, "xanchor": "right", "bgcolor": "rgba(255,255,255,.8)"},
    )
    knee_text = f"The knee is at k={knee}" if knee is not None else "The curve has no clear knee"
    return Chart(
        "elbow",
        "Elbow: within-cluster sum of squares by k",
        fig,
        "WCSS always falls as k grows; the knee is where adding a segment stops paying off. "
        f"{knee_text}; the report uses k={seg.k}.",
        height=440,
    )


METRICS = (
    ("silhouette", "Silhouette (higher is better)", False),
    ("calinski_harabasz", "Calinski-Harabasz (higher is better)", False),
    ("davies_bouldin", "Davies-Bouldin (lower is better)", True),
)


def metrics_by_k(seg: Segmentation) -> Chart | None:
    """Silhouette, Calinski-Harabasz and Davies-Bouldin by k, each with its best k marked."""
    choice = seg.k_choice
    if not choice.metrics:
        return None
    ks = choice.ks
    fig = make_subplots(
        rows=1, cols=3, subplot_titles=[t for _, t, _ in METRICS], horizontal_spacing=0.08
    )
    for i, (name, _, _lower) in enumerate(METRICS, start=1):
        ys = [np.nan if v is None else v for v in choice.metric(name)]
        fig.add_trace(
            go.Scatter(
                x=ks,
                y=ys,
                mode="lines+markers",
                line={"color": "#4e79a7", "width": 2},
                marker={"size": 7},
                showlegend=False,
                hovertemplate="k=%{x}<br>%{y:,.4g}<extra></extra>",
            ),
            row=1,
            col=i,
        )
        best = choice.votes.get(name)
        if best is not None and best in ks:
            fig.add_trace(
                go.Scatter(
                    x=[best],
                    y=[ys[ks.index(best)]],
                    mode="markers",
                    marker={
                        "color": KNEE,
                        "size": 14,
                        "symbol": "circle-open",
                        "line": {"width": 3},
                    },
                    showlegend=False,
                    hovertemplate="best k=%{x}<extra></extra>",
                ),
                row=1,
                col=i,
            )
        fig.add_vline(x=seg.k, line={"color": "#e15759", "width": 1.5}, row=1, col=i)
        fig.update_xaxes(title={"text": "k"}, dtick=1, row=1, col=i)
    _style(fig, 380)
    fig.update_layout(margin={"t": 50})
    fig.update_annotations(font_size=12)
    caption = "Orange rings mark the k each criterion prefers; the red line marks the k used."
    if choice.silhouette_sample:
        caption += f" Silhouette computed on a seeded sample of {choice.silhouette_sample:,} rows."
    return Chart("metrics", "Quality criteria by k", fig, caption, height=380, wide=True)


def silhouette_plot(seg: Segmentation, colors: dict[int, str]) -> tuple[Chart, int] | None:
    """Per-customer silhouette at the chosen k (on a seeded sample of at most 3,000 rows)."""
    from sklearn.metrics import silhouette_samples

    if seg.k < 2:
        return None
    positions = sample_positions(seg, SILHOUETTE_SAMPLE_MAX, seed=SEED)
    labels = seg.labels[positions]
    n_found = len(np.unique(labels))
    if n_found < 2 or len(positions) <= n_found:
        return None
    Z = model_space_rows(seg, positions)
    scores = silhouette_samples(Z, labels)
    fig = go.Figure()
    gap = max(2, len(scores) // 100)
    start = 0
    ticks, names = [], []
    for p in seg.profiles:
        s = np.sort(scores[labels == p.id])[::-1]
        if not len(s):
            continue
        y = start + np.arange(len(s))
        fig.add_trace(
            go.Scatter(
                x=_f32(s),
                y=y,
                mode="lines",
                fill="tozerox",
                name=esc(p.name),
                line={"color": colors[p.id], "width": 1},
                fillcolor=colors[p.id],
                hovertemplate=f"{esc_hover(p.name)}<br>silhouette %{{x:.2f}}<extra></extra>",
            )
        )
        ticks.append(start + (len(s) - 1) / 2)
        names.append(esc(p.name))
        start += len(s) + gap
    mean = float(scores.mean())
    fig.add_vline(
        x=mean,
        line={"color": INK, "dash": "dash", "width": 1.5},
        annotation={"text": f"mean {mean:.2f}", "font": {"color": INK}},
        annotation_position="top right",
    )
    height = 440
    _style(fig, height, showlegend=False)
    fig.update_layout(
        xaxis={
            "title": {"text": "silhouette"},
            "range": [min(-0.1, float(scores.min()) - 0.02), 1],
        },
        yaxis={
            "autorange": "reversed",
            "tickvals": ticks,
            "ticktext": names,
            "showgrid": False,
            "zeroline": False,
            "automargin": True,
        },
    )
    note = sample_note(len(positions), int(seg.used.sum()))
    return (
        Chart(
            "silhouette",
            f"Silhouette of each customer at k={seg.k} ({note})",
            fig,
            "Each band is a segment, its customers sorted by silhouette: wide bands reaching far "
            "right are well separated; values below 0 sit closer to another segment.",
            height=height,
        ),
        len(positions),
    )


# ---------------------------------------------------------------- segments
def _centre_legend(fig: go.Figure, scatter=go.Scatter) -> None:
    fig.add_trace(
        scatter(
            **({"x": [None], "y": [None]} | ({"z": [None]} if scatter is go.Scatter3d else {})),
            mode="markers",
            name="segment centre",
            marker={
                "color": "#ffffff",
                "symbol": "diamond",
                "size": 10,
                "line": {"color": INK, "width": 2},
            },
            hoverinfo="skip",
        )
    )


def _segment_points(
    fig: go.Figure,
    seg: Segmentation,
    points: np.ndarray,
    labels: np.ndarray,
    centres: np.ndarray,
    colors: dict[int, str],
    *,
    hover: str,
    size: float,
    centre_size: float,
    opacity: float = 0.7,
) -> None:
    """One marker trace per segment, then a diamond at each segment centre (2D or 3D).

    ``points`` and ``centres`` (row = segment id) have 2 or 3 columns, drawn on x, y (and z).
    """
    trace = go.Scatter3d if points.shape[1] == 3 else go.Scatter
    axes = "xyz"[: points.shape[1]]
    customers = [
        trace(
            **{a: _f32(points[labels == p.id, j]) for j, a in enumerate(axes)},
            mode="markers",
            name=esc(p.name),
            legendgroup=str(p.id),
            marker={"color": colors[p.id], "size": size, "opacity": opacity},
            hovertemplate=hover + f"<extra>{esc_hover(p.name)}</extra>",
        )
        for p in seg.profiles
    ]
    diamonds = [
        trace(
            **{a: [float(centres[p.id, j])] for j, a in enumerate(axes)},
            mode="markers",
            name=esc(p.name),
            legendgroup=str(p.id),
            showlegend=False,
            marker={
                "color": colors[p.id],
                "symbol": "diamond",
                "size": centre_size,
                "line": {"color": INK, "width": 2},
            },
            hovertemplate=f"centre of {esc_hover(p.name)}<br>" + hover + "<extra></extra>",
        )
        for p in seg.profiles
    ]
    fig.add_traces(customers + diamonds)


def scatter_2d(
    seg: Segmentation,
    values: pd.DataFrame,
    positions: np.ndarray,
    colors: dict[int, str],
    note: str,
) -> Chart | None:
    """Two features (income x spending when present) with the segment centres."""
    axes = pick_axes(seg, 2)
    if not axes:
        return None
    x_name, y_name = axes
    data = values.iloc[positions][axes].to_numpy(dtype=float)
    hover = f"{esc_hover(x_name)} %{{x:,.4g}}<br>{esc_hover(y_name)} %{{y:,.4g}}"
    fig = go.Figure()
    _segment_points(
        fig, seg, data, seg.labels[positions], seg.centers[axes].to_numpy(dtype=float), colors,
        hover=hover, size=7 if len(positions) <= 1000 else 4, centre_size=16,
    )  # fmt: skip
    _centre_legend(fig)
    _style(fig, 520)
    fig.update_layout(
        xaxis={"title": {"text": esc(x_name)}}, yaxis={"title": {"text": esc(y_name)}}
    )
    return Chart(
        "scatter2d",
        f"Segments on {x_name} and {y_name} ({note})",
        fig,
        "Each dot is a customer coloured by segment; diamonds mark the segment centres.",
        height=520,
        wide=True,
    )


def scatter_3d(
    seg: Segmentation,
    values: pd.DataFrame,
    positions: np.ndarray,
    colors: dict[int, str],
    note: str,
) -> Chart | None:
    """Three features (age, income, spending when present) in 3D, with the centres."""
    axes = pick_axes(seg, 3)
    if not axes:
        return None
    data = values.iloc[positions][axes].to_numpy(dtype=float)
    hover = "<br>".join(f"{esc_hover(a)} %{{{c}:,.4g}}" for a, c in zip(axes, "xyz", strict=True))
    fig = go.Figure()
    _segment_points(
        fig, seg, data, seg.labels[positions], seg.centers[axes].to_numpy(dtype=float), colors,
        hover=hover, size=2.5 if len(positions) > 1000 else 3.5, centre_size=9, opacity=0.8,
    )  # fmt: skip
    _style(fig, 600)
    fig.update_layout(
        margin={"l": 0, "r": 0, "t": 40, "b": 0},
        scene={
            "xaxis": {"title": {"text": esc(axes[0])}},
            "yaxis": {"title": {"text": esc(axes[1])}},
            "zaxis": {"title": {"text": esc(axes[2])}},
            "camera": {"eye": {"x": 1.6, "y": 1.6, "z": 1.05}},
        },
    )
    return Chart(
        "scatter3d",
        f"Segments in 3D: {', '.join(axes)} ({note})",
        fig,
        "Drag to rotate, scroll to zoom; diamonds mark the segment centres.",
        height=600,
        wide=True,
    )


def pca_view(
    seg: Segmentation, positions: np.ndarray, colors: dict[int, str], note: str
) -> Chart | None:
    """All model features projected on their two principal components (more than 3 features)."""
    from sklearn.decomposition import PCA

    if len(positions) < 3:
        return None
    Z = model_space_rows(seg, positions)
    if Z.shape[1] <= 3:
        return None
    pca = PCA(n_components=2, random_state=SEED).fit(Z)
    P = pca.transform(Z)
    C = pca.transform(np.asarray(seg.model.cluster_centers_, dtype=float))
    var = pca.explained_variance_ratio_
    fig = go.Figure()
    _segment_points(
        fig, seg, P, seg.labels[positions], C, colors,
        hover="PC1 %{x:.2f}<br>PC2 %{y:.2f}", size=7 if len(positions) <= 1000 else 4,
        centre_size=16,
    )  # fmt: skip
    _centre_legend(fig)
    _style(fig, 520)
    fig.update_layout(
        xaxis={"title": {"text": f"PC1 ({var[0]:.0%} of variance)"}},
        yaxis={"title": {"text": f"PC2 ({var[1]:.0%} of variance)"}},
    )
    return Chart(
        "pca",
        f"All {Z.shape[1]} model features in 2D (PCA, {note})",
        fig,
        f"The two principal components of the scaled features keep {var.sum():.0%} of the "
        "variance; segments that overlap here may still be apart in other directions.",
        height=520,
        wide=True,
    )


def profile_heatmap(seg: Segmentation) -> Chart | None:
    """Each segment's mean as an index against the population (100 = average)."""
    features = list(seg.plan.numeric)
    if not features or not seg.profiles:
        return None
    index = profile_matrix(seg, "index", features)
    means = profile_matrix(seg, "means", features)
    ratio = index_colour(index)
    text = [["–" if not np.isfinite(v) else f"{v:.0f}" for v in row] for row in index]
    fig = go.Figure(
        go.Heatmap(
            z=np.round(ratio, 3),
            x=[esc(f) for f in features],
            y=[esc(p.name) for p in seg.profiles],
            text=text,
            texttemplate="%{text}",
            customdata=np.dstack([means, index]),
            zmid=0,
            zmin=-INDEX_OCTAVES,
            zmax=INDEX_OCTAVES,
            colorscale="RdBu_r",
            colorbar={
                "title": {"text": "index"},
                "thickness": 12,
                "tickvals": list(range(-INDEX_OCTAVES, INDEX_OCTAVES + 1)),
                "ticktext": [f"{100 * 2.0**i:g}" for i in range(-INDEX_OCTAVES, INDEX_OCTAVES + 1)],
            },
            hovertemplate="%{y}<br>%{x}: mean %{customdata[0]:,.4g} "
            "(index %{customdata[1]:.0f})<extra></extra>",
        )
    )
    height = max(300, 44 * len(seg.profiles) + 140)
    _style(fig, height)
    fig.update_layout(
        yaxis={"autorange": "reversed", "automargin": True}, xaxis={"automargin": True}
    )
    return Chart(
        "profiles",
        "Segment profiles: index against all customers",
        fig,
        "Segment mean ÷ mean of all customers × 100: 100 is average, 200 twice, 50 half "
        "(colours on a ratio scale). Hover for the means in original units.",
        height=height,
        wide=len(features) > 4,
    )


def segment_sizes(seg: Segmentation, colors: dict[int, str]) -> Chart | None:
    """Customers per segment."""
    if not seg.profiles:
        return None
    fig = go.Figure(
        go.Bar(
            x=[p.size for p in seg.profiles],
            y=[esc(p.name) for p in seg.profiles],
            orientation="h",
            marker={"color": [colors[p.id] for p in seg.profiles]},
            text=[f"{p.size:,} ({p.share:.1%})" for p in seg.profiles],
            textposition="auto",
            hovertemplate="%{y}<br>%{x:,} customers<extra></extra>",
        )
    )
    height = max(260, 38 * len(seg.profiles) + 100)
    _style(fig, height)
    fig.update_layout(
        xaxis={"title": {"text": "customers"}},
        yaxis={"autorange": "reversed", "automargin": True},
    )
    return Chart(
        "sizes",
        "Segment sizes",
        fig,
        "Number of customers in each segment (share of all segmented customers).",
        height=height,
    )
