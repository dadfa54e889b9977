"""Charts of the segments: customers on two or three features or on principal components, each
with the segment centres, then the segment sizes and profiles."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from sklearn.decomposition import PCA

from custseg.outputs.report._common import (
    INDEX_OCTAVES,
    SEED,
    centre_matrix,
    index_colour,
    pick_axes,
    profile_matrix,
)
from custseg.outputs.report.chart_data import ChartData
from custseg.outputs.report.figures.base import INK, Chart, esc, esc_hover, f32, label, style


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
    segments: list[dict],
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
            **{a: f32(points[labels == p["id"], j]) for j, a in enumerate(axes)},
            mode="markers",
            name=esc(p["name"]),
            legendgroup=str(p["id"]),
            marker={"color": colors[p["id"]], "size": size, "opacity": opacity},
            hovertemplate=hover + f"<extra>{esc_hover(p['name'])}</extra>",
        )
        for p in segments
    ]
    diamonds = [
        trace(
            **{a: [float(centres[p["id"], j])] for j, a in enumerate(axes)},
            mode="markers",
            name=esc(p["name"]),
            legendgroup=str(p["id"]),
            showlegend=False,
            marker={
                "color": colors[p["id"]],
                "symbol": "diamond",
                "size": centre_size,
                "line": {"color": INK, "width": 2},
            },
            hovertemplate=f"centre of {esc_hover(p['name'])}<br>" + hover + "<extra></extra>",
        )
        for p in segments
    ]
    fig.add_traces(customers + diamonds)


def _marker_size(data: ChartData, few: float, many: float) -> float:
    return few if len(data.positions) <= 1000 else many


def scatter_2d(summary: dict, data: ChartData, colors: dict[int, str]) -> Chart | None:
    """Two features (income x spending when present) with the segment centres."""
    axes = pick_axes(summary, 2)
    if not axes:
        return None
    x_name, y_name = axes
    points = data.values.iloc[data.positions][axes].to_numpy(dtype=float)
    hover = f"{esc_hover(x_name)} %{{x:,.4g}}<br>{esc_hover(y_name)} %{{y:,.4g}}"
    fig = go.Figure()
    _segment_points(
        fig, summary["segments"], points, data.labels[data.positions],
        centre_matrix(summary, axes), colors, hover=hover, size=_marker_size(data, 7, 4),
        centre_size=16,
    )  # fmt: skip
    _centre_legend(fig)
    style(fig, 520)
    fig.update_layout(
        xaxis={"title": {"text": esc(label(summary, x_name))}},
        yaxis={"title": {"text": esc(label(summary, y_name))}},
    )
    return Chart(
        "scatter2d",
        f"Segments on {x_name} and {y_name} ({data.note})",
        fig,
        "Each dot is a customer coloured by segment; diamonds mark the segment centres.",
        height=520,
        wide=True,
    )


def scatter_3d(summary: dict, data: ChartData, colors: dict[int, str]) -> Chart | None:
    """Three features (age, income, spending when present) in 3D, with the centres."""
    axes = pick_axes(summary, 3)
    if not axes:
        return None
    points = data.values.iloc[data.positions][axes].to_numpy(dtype=float)
    hover = "<br>".join(f"{esc_hover(a)} %{{{c}:,.4g}}" for a, c in zip(axes, "xyz", strict=True))
    fig = go.Figure()
    _segment_points(
        fig, summary["segments"], points, data.labels[data.positions],
        centre_matrix(summary, axes), colors, hover=hover, size=_marker_size(data, 3.5, 2.5),
        centre_size=9, opacity=0.8,
    )  # fmt: skip
    style(fig, 600)
    fig.update_layout(
        margin={"l": 0, "r": 0, "t": 40, "b": 0},
        scene={
            "xaxis": {"title": {"text": esc(label(summary, axes[0]))}},
            "yaxis": {"title": {"text": esc(label(summary, axes[1]))}},
            "zaxis": {"title": {"text": esc(label(summary, axes[2]))}},
            "camera": {"eye": {"x": 1.6, "y": 1.6, "z": 1.05}},
        },
    )
    return Chart(
        "scatter3d",
        f"Segments in 3D: {', '.join(axes)} ({data.note})",
        fig,
        "Drag to rotate, scroll to zoom; diamonds mark the segment centres.",
        height=600,
        wide=True,
    )


def pca_view(summary: dict, data: ChartData, colors: dict[int, str]) -> Chart | None:
    """All model features projected on their two principal components (more than 3 features)."""
    if len(data.positions) < 3:
        return None
    Z = data.model_rows
    if Z.shape[1] <= 3:
        return None
    pca = PCA(n_components=2, random_state=SEED).fit(Z)
    var = pca.explained_variance_ratio_
    fig = go.Figure()
    _segment_points(
        fig, summary["segments"], pca.transform(Z), data.labels[data.positions],
        pca.transform(data.model_centres), colors, hover="PC1 %{x:.2f}<br>PC2 %{y:.2f}",
        size=_marker_size(data, 7, 4), centre_size=16,
    )  # fmt: skip
    _centre_legend(fig)
    style(fig, 520)
    fig.update_layout(
        xaxis={"title": {"text": f"PC1 ({var[0]:.0%} of variance)"}},
        yaxis={"title": {"text": f"PC2 ({var[1]:.0%} of variance)"}},
    )
    return Chart(
        "pca",
        f"All {Z.shape[1]} model features in 2D (PCA, {data.note})",
        fig,
        f"The two principal components of the scaled features keep {var.sum():.0%} of the "
        "variance; segments that overlap here may still be apart in other directions.",
        height=520,
        wide=True,
    )


def profile_heatmap(summary: dict) -> Chart | None:
    """Each segment's mean as an index against the population (100 = average)."""
    features = list(summary["numeric_features"])
    segments = summary["segments"]
    if not features or not segments:
        return None
    index = profile_matrix(segments, "index", features)
    means = profile_matrix(segments, "means", features)
    ratio = index_colour(index)
    text = [["–" if not np.isfinite(v) else f"{v:.0f}" for v in row] for row in index]
    fig = go.Figure(
        go.Heatmap(
            z=np.round(ratio, 3),
            x=[esc(label(summary, f)) for f in features],
            y=[esc(p["name"]) for p in segments],
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
    height = max(300, 44 * len(segments) + 140)
    style(fig, height)
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


def segment_sizes(summary: dict, colors: dict[int, str]) -> Chart | None:
    """Customers per segment."""
    segments = summary["segments"]
    if not segments:
        return None
    fig = go.Figure(
        go.Bar(
            x=[p["size"] for p in segments],
            y=[esc(p["name"]) for p in segments],
            orientation="h",
            marker={"color": [colors[p["id"]] for p in segments]},
            text=[f"{p['size']:,} ({p['share']:.1%})" for p in segments],
            textposition="auto",
            hovertemplate="%{y}<br>%{x:,} customers<extra></extra>",
        )
    )
    height = max(260, 38 * len(segments) + 100)
    style(fig, height)
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
