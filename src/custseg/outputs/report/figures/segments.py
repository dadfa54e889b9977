"""Charts of the segments: customers on two or three features or on principal components, each
with the segment centres, then the segment sizes and profiles."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from sklearn.decomposition import PCA

from custseg.charts.profiles import profile_heatmap
from custseg.charts.style import (
    INK,
    LOG_NOTE,
    Chart,
    esc,
    esc_hover,
    f32,
    label,
    log_ticks,
    on_log_scale,
    style,
    wrapped,
)
from custseg.outputs.report._common import SEED, centre_matrix, separating_features
from custseg.outputs.report.chart_data import ChartData

__all__ = ["pca_view", "profile_heatmap", "scatter_2d", "scatter_3d", "segment_sizes"]


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
    raw: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    """One marker trace per segment, then a diamond at each segment centre (2D or 3D).

    ``points`` and ``centres`` (row = segment id) have 2 or 3 columns, drawn on x, y (and z).
    ``raw``: the same points and centres in original units when an axis is on a log scale, for
    the hover (``%{customdata[j]}``).
    """
    trace = go.Scatter3d if points.shape[1] == 3 else go.Scatter
    axes = "xyz"[: points.shape[1]]

    def extra(rows: np.ndarray | None, which: int) -> dict:
        if raw is None:
            return {}
        return {"customdata": f32(raw[which] if rows is None else raw[which][rows])}

    customers = [
        trace(
            **{a: f32(points[labels == p["id"], j]) for j, a in enumerate(axes)},
            **extra(labels == p["id"], 0),
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
            **({"customdata": [raw[1][p["id"]].tolist()]} if raw is not None else {}),
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


def _on_log_axes(
    summary: dict, axes: list[str], points: np.ndarray, centres: np.ndarray
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None, dict[int, float], str]:
    """Points and centres with the log-transformed features on a log scale.

    Returns the drawn points and centres, the originals (for the hover) or ``None``, the largest
    original value per log axis (for its ticks), and the hover template.
    """
    logged = set(summary.get("log_features") or ())
    tops = {
        j: float(np.nanmax(points[:, j], initial=0.0)) for j, a in enumerate(axes) if a in logged
    }
    hover = "<br>".join(
        f"{esc_hover(a)} %{{{'customdata[' + str(j) + ']' if tops else c}:,.4g}}"
        for j, (a, c) in enumerate(zip(axes, "xyz", strict=False))
    )
    if not tops:
        return points, centres, None, tops, hover
    drawn, drawn_centres = points.copy(), centres.copy()
    for j in tops:
        drawn[:, j], drawn_centres[:, j] = on_log_scale(points[:, j]), on_log_scale(centres[:, j])
    return drawn, drawn_centres, (points, centres), tops, hover


def _axis_title(name: str, j: int, tops: dict[int, float]) -> dict:
    title = {"title": {"text": esc(name) + (LOG_NOTE if j in tops else "")}}
    return title | (log_ticks(tops[j]) if j in tops else {})


def _marker_size(data: ChartData, few: float, many: float) -> float:
    return few if len(data.positions) <= 1000 else many


def scatter_2d(
    summary: dict, data: ChartData, colors: dict[int, str], axes: list[str] | None = None
) -> Chart | None:
    """Two features (by default the two that separate the segments best) with the centres."""
    axes = list(axes) if axes else separating_features(summary, data, 2)
    if not axes:
        return None
    x_name, y_name = axes
    points = data.values.iloc[data.positions][axes].to_numpy(dtype=float)
    points, centres, raw, tops, hover = _on_log_axes(
        summary, axes, points, centre_matrix(summary, axes)
    )
    fig = go.Figure()
    _segment_points(
        fig, summary["segments"], points, data.labels[data.positions],
        centres, colors, hover=hover, size=_marker_size(data, 7, 4),
        centre_size=16, raw=raw,
    )  # fmt: skip
    _centre_legend(fig)
    style(fig, 520)
    fig.update_layout(
        xaxis=_axis_title(label(summary, x_name), 0, tops),
        yaxis=_axis_title(label(summary, y_name), 1, tops),
    )
    return Chart(
        "scatter2d",
        f"Segments on {x_name} and {y_name} ({data.note})",
        fig,
        "Each dot is a customer coloured by segment; diamonds mark the segment centres.",
        height=520,
        wide=True,
    )


def scatter_3d(
    summary: dict, data: ChartData, colors: dict[int, str], axes: list[str] | None = None
) -> Chart | None:
    """Three features (by default the three that separate the segments best), with the centres."""
    axes = list(axes) if axes else separating_features(summary, data, 3)
    if not axes:
        return None
    points = data.values.iloc[data.positions][axes].to_numpy(dtype=float)
    points, centres, raw, tops, hover = _on_log_axes(
        summary, axes, points, centre_matrix(summary, axes)
    )
    fig = go.Figure()
    _segment_points(
        fig, summary["segments"], points, data.labels[data.positions],
        centres, colors, hover=hover, size=_marker_size(data, 3.5, 2.5),
        centre_size=9, opacity=0.8, raw=raw,
    )  # fmt: skip
    style(fig, 600)
    fig.update_layout(
        margin={"l": 0, "r": 0, "t": 40, "b": 0},
        scene={
            "xaxis": _axis_title(label(summary, axes[0]), 0, tops),
            "yaxis": _axis_title(label(summary, axes[1]), 1, tops),
            "zaxis": _axis_title(label(summary, axes[2]), 2, tops),
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
    # Long names (many features) wrap onto lines: a narrow dashboard column would cut them.
    names = [esc(p["name"]) for p in segments]
    labels = [wrapped(p["name"]) for p in segments]
    height = max(260, 38 * len(segments) + 16 * sum(t.count("<br>") for t in labels) + 100)
    style(fig, height)
    fig.update_layout(
        xaxis={"title": {"text": "customers"}},
        yaxis={"autorange": "reversed", "automargin": True, "tickvals": names, "ticktext": labels},
    )
    return Chart(
        "sizes",
        "Segment sizes",
        fig,
        "Number of customers in each segment (share of all segmented customers).",
        height=height,
    )
