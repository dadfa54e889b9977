"""The dashboard's Plotly charts, drawn from a ``Segmentation``.

Scatter charts draw one seeded sample of at most ``MAX_POINTS`` customers, so a k change on a
large table stays fast in the browser (in headless Chromium 5,000 SVG points took 2-4 s to
redraw, 2,000 under 1 s). User text (column and segment names) is escaped, since
Plotly reads a little HTML in labels.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..features import FeaturePlan, feature_frame
from ..report._common import pick_axes, sample_note, sample_positions, segment_colors
from ..segmentation import Segmentation

MAX_POINTS = 2000
INK, CHOSEN, BEST = "#1f2937", "#e15759", "#f28e2b"
K_METRICS = (
    ("inertia", "WCSS (elbow)", "elbow"),
    ("silhouette", "Silhouette (higher is better)", "silhouette"),
    ("calinski_harabasz", "Calinski-Harabasz (higher is better)", "calinski_harabasz"),
    ("davies_bouldin", "Davies-Bouldin (lower is better)", "davies_bouldin"),
)


def esc(text: object) -> str:
    """User text for a Plotly label, shown as written; ``%`` kept from hover substitution."""
    return html.escape(str(text), quote=False).replace("%", "&#37;")


def _style(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 50, "r": 20, "t": 40, "b": 40},
        legend={"itemsizing": "constant"},
    )
    return fig


def k_charts(seg: Segmentation) -> go.Figure | None:
    """WCSS, silhouette, Calinski-Harabasz and Davies-Bouldin by k; best and chosen k marked."""
    choice = seg.k_choice
    if not choice.metrics:
        return None
    ks = choice.ks
    fig = make_subplots(rows=2, cols=2, subplot_titles=[t for _, t, _ in K_METRICS])
    for i, (metric, _, vote) in enumerate(K_METRICS):
        row, col = divmod(i, 2)
        ys = [np.nan if v is None else v for v in choice.metric(metric)]
        fig.add_trace(
            go.Scatter(x=ks, y=ys, mode="lines+markers", line={"color": "#4e79a7"},
                       showlegend=False, hovertemplate="k=%{x}<br>%{y:,.4g}<extra></extra>"),
            row=row + 1, col=col + 1,
        )  # fmt: skip
        best = choice.votes.get(vote)
        if best in ks:
            fig.add_trace(
                go.Scatter(
                    x=[best], y=[ys[ks.index(best)]], mode="markers", showlegend=False,
                    marker={"color": BEST, "size": 14, "symbol": "circle-open",
                            "line": {"width": 3}},
                    hovertemplate="preferred k=%{x}<extra></extra>",
                ),
                row=row + 1, col=col + 1,
            )  # fmt: skip
        fig.add_vline(x=seg.k, line={"color": CHOSEN, "width": 1.5}, row=row + 1, col=col + 1)
        fig.update_xaxes(dtick=1, row=row + 1, col=col + 1)
    return _style(fig, 560)


def _sample(seg: Segmentation, axes: list[str]) -> tuple[np.ndarray, np.ndarray, str]:
    positions = sample_positions(seg, MAX_POINTS)
    rows = seg.table.frame.iloc[positions]
    values = feature_frame(rows, FeaturePlan(tuple(axes))).to_numpy(dtype=float)
    return values, seg.labels[positions], sample_note(len(positions), int(seg.used.sum()))


def scatter(seg: Segmentation, dims: int) -> tuple[go.Figure, str] | None:
    """Customers on two (income x spending) or three (age, income, spending) features, with
    the segment centres as diamonds; ``None`` when there are too few numeric features."""
    axes = pick_axes(seg, dims)
    if not axes:
        return None
    values, labels, note = _sample(seg, axes)
    centers, colors = seg.centers, segment_colors(seg)
    trace = go.Scatter if dims == 2 else go.Scatter3d
    coords = "xyz"[:dims]
    hover = "<br>".join(f"{esc(a)} %{{{c}:,.4g}}" for a, c in zip(axes, coords, strict=True))
    fig = go.Figure()
    small = 6 if dims == 2 else 3
    for p in seg.profiles:
        mine = labels == p.id
        fig.add_trace(
            trace(
                **{c: values[mine, i].astype(np.float32) for i, c in enumerate(coords)},
                mode="markers",
                name=esc(p.name),
                legendgroup=str(p.id),
                marker={"color": colors[p.id], "size": small, "opacity": 0.7},
                hovertemplate=hover + f"<extra>{esc(p.name)}</extra>",
            )
        )
        fig.add_trace(
            trace(
                **{c: [centers.loc[p.id, a]] for c, a in zip(coords, axes, strict=True)},
                mode="markers",
                name=f"centre of {esc(p.name)}",
                legendgroup=str(p.id),
                showlegend=False,
                marker={
                    "color": colors[p.id],
                    "symbol": "diamond",
                    "size": 16 if dims == 2 else 9,
                    "line": {"color": INK, "width": 2},
                },
                hovertemplate=f"centre of {esc(p.name)}<br>{hover}<extra></extra>",
            )
        )
    if dims == 2:
        fig.update_layout(xaxis_title=esc(axes[0]), yaxis_title=esc(axes[1]))
    else:
        fig.update_layout(
            scene={
                f"{c}axis": {"title": {"text": esc(a)}} for c, a in zip(coords, axes, strict=True)
            },
            margin={"l": 0, "r": 0, "t": 30, "b": 0},
        )
    return _style(fig, 520 if dims == 2 else 600), note


def sizes(seg: Segmentation) -> go.Figure:
    """Customers per segment."""
    colors = segment_colors(seg)
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
    fig.update_layout(xaxis_title="customers", yaxis={"autorange": "reversed"})
    return _style(fig, max(260, 40 * len(seg.profiles) + 90))
