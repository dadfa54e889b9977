"""The k evidence charts: the elbow curve and the criteria by k, from the numbers alone.

They read a run summary's ``metrics``, ``k_votes``, ``k`` and ``silhouette_sample_size``; the
report draws them from ``summary.json``'s dict, :class:`KChoicePlot` from a k search's result.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from custseg.charts.style import KNEE, Chart, shown, style

# The criteria compared by k: summary key, chart title, whether lower is better.
METRICS = (
    ("silhouette", "Silhouette (higher is better)", False),
    ("calinski_harabasz", "Calinski-Harabasz (higher is better)", False),
    ("davies_bouldin", "Davies-Bouldin (lower is better)", True),
)


def k_metric(summary: dict, name: str) -> tuple[list[int], list]:
    """The candidate ks and one criterion's value at each, from the summary's ``metrics``."""
    metrics = summary["metrics"]
    return [m["k"] for m in metrics], [m[name] for m in metrics]


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


def k_summary(
    metrics: list[dict], votes: dict, k: int, silhouette_sample: int | None = None
) -> dict:
    """The part of a run summary the k evidence charts read."""
    return {
        "metrics": metrics,
        "k_votes": votes,
        "k": k,
        "silhouette_sample_size": silhouette_sample,
    }


NO_SEARCH = (
    "too few distinct customers to compare numbers of segments, so there is no comparison of k "
    "to show"
)


class KChoicePlot:
    """The k evidence of a k search, one call each; calling it draws the elbow.

    ``choice.plot()`` or ``choice.plot.elbow()``, and ``choice.plot.criteria()``: the same
    figures as the report's "Choosing k" section, with the recommended k marked.
    """

    def __init__(self, summary: dict):
        self._summary = summary

    def __call__(self, *, height: int | None = None, width: int | None = None) -> go.Figure:
        return self.elbow(height=height, width=width)

    def __repr__(self) -> str:
        return "<charts of a k search: elbow, criteria>"

    def elbow(self, *, height: int | None = None, width: int | None = None) -> go.Figure:
        """Within-cluster sum of squares by k, with the knee and the recommended k marked."""
        return shown(elbow(self._summary), NO_SEARCH, height, width)

    def criteria(self, *, height: int | None = None, width: int | None = None) -> go.Figure:
        """Silhouette, Calinski-Harabasz and Davies-Bouldin by k, the recommended k marked."""
        return shown(metrics_by_k(self._summary), NO_SEARCH, height, width)
