"""Charts for choosing k: the elbow curve and the criteria by k (from :mod:`custseg.charts.k`),
and the silhouette of each customer."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from sklearn.metrics import silhouette_samples

from custseg.charts.k import elbow, metrics_by_k
from custseg.charts.style import INK, Chart, esc, esc_hover, f32, style
from custseg.outputs.report._common import sample_note
from custseg.outputs.report.chart_data import ChartData

__all__ = ["elbow", "metrics_by_k", "silhouette_plot"]


def silhouette_plot(
    summary: dict, data: ChartData, colors: dict[int, str]
) -> tuple[Chart, int] | None:
    """Per-customer silhouette at the chosen k (on a seeded sample of at most 3,000 rows)."""
    k = summary["k"]
    if k < 2:
        return None
    positions = data.silhouette_positions
    labels = data.labels[positions]
    n_found = len(np.unique(labels))
    if n_found < 2 or len(positions) <= n_found:
        return None
    scores = silhouette_samples(data.silhouette_rows, labels)
    fig = go.Figure()
    gap = max(2, len(scores) // 100)
    start = 0
    ticks, names = [], []
    for p in summary["segments"]:
        s = np.sort(scores[labels == p["id"]])[::-1]
        if not len(s):
            continue
        y = start + np.arange(len(s))
        fig.add_trace(
            go.Scatter(
                x=f32(s),
                y=y,
                mode="lines",
                fill="tozerox",
                name=esc(p["name"]),
                line={"color": colors[p["id"]], "width": 1},
                fillcolor=colors[p["id"]],
                hovertemplate=f"{esc_hover(p['name'])}<br>silhouette %{{x:.2f}}<extra></extra>",
            )
        )
        ticks.append(start + (len(s) - 1) / 2)
        names.append(esc(p["name"]))
        start += len(s) + gap
    mean = float(scores.mean())
    fig.add_vline(
        x=mean,
        line={"color": INK, "dash": "dash", "width": 1.5},
        annotation={"text": f"mean {mean:.2f}", "font": {"color": INK}},
        annotation_position="top right",
    )
    height = 440
    style(fig, height, showlegend=False)
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
    note = sample_note(len(positions), data.n_used)
    return (
        Chart(
            "silhouette",
            f"Silhouette of each customer at k={k} ({note})",
            fig,
            "Each band is a segment, its customers sorted by silhouette: wide bands reaching far "
            "right are well separated; values below 0 sit closer to another segment.",
            height=height,
        ),
        len(positions),
    )
