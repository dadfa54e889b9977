"""Charts for choosing k: the elbow curve, the criteria by k and the silhouette of each customer."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from sklearn.metrics import silhouette_samples

from custseg.outputs.report._common import METRICS, k_metric, sample_note
from custseg.outputs.report.chart_data import ChartData
from custseg.outputs.report.figures.base import INK, KNEE, Chart, esc, esc_hover, f32, style


def elbow(summary: dict) -> Chart | None:
    """WCSS by k with the knee and the chosen k marked."""
    if not summary["metrics"]:
        return None
    k = summary["k"]
    ks, inertia = k_metric(summary, "inertia")
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
    knee = summary["k_votes"].get("elbow")
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
    if k in by_k:
        fig.add_vline(x=k, line={"color": "#e15759", "width": 1.5})
        fig.add_trace(
            go.Scatter(
                x=[k],
                y=[by_k[k]],
                mode="markers",
                name=f"chosen k={k}",
                marker={"color": "#e15759", "size": 16, "symbol": "star"},
                hovertemplate="chosen k=%{x}<extra></extra>",
            )
        )
    style(fig, 440)
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
        f"{knee_text}; the report uses k={k}.",
        height=440,
    )


def metrics_by_k(summary: dict) -> Chart | None:
    """Silhouette, Calinski-Harabasz and Davies-Bouldin by k, each with its best k marked."""
    if not summary["metrics"]:
        return None
    fig = make_subplots(
        rows=1, cols=3, subplot_titles=[t for _, t, _ in METRICS], horizontal_spacing=0.08
    )
    for i, (name, _, _lower) in enumerate(METRICS, start=1):
        ks, values = k_metric(summary, name)
        ys = [np.nan if v is None else v for v in values]
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
        best = summary["k_votes"].get(name)
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
        fig.add_vline(x=summary["k"], line={"color": "#e15759", "width": 1.5}, row=1, col=i)
        fig.update_xaxes(title={"text": "k"}, dtick=1, row=1, col=i)
    style(fig, 380)
    fig.update_layout(margin={"t": 50})
    fig.update_annotations(font_size=12)
    caption = "Orange rings mark the k each criterion prefers; the red line marks the k used."
    sample = summary["silhouette_sample_size"]
    if sample:
        caption += f" Silhouette computed on a seeded sample of {sample:,} rows."
    return Chart("metrics", "Quality criteria by k", fig, caption, height=380, wide=True)


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
