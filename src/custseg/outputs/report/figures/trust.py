"""The stability chart: would each segment come back if the customers were resampled?"""

from __future__ import annotations

import plotly.graph_objects as go

from custseg.outputs.report.figures.base import MUTED, Chart, esc, style
from custseg.pipeline.stability import THRESHOLDS

# Hennig's bounds as drawn: each line is labelled with what a segment at or above it is.
LINES = ((0.5, "dissolves at or below"), *((b, f"{label} from") for b, label in THRESHOLDS[::-1]))

READING = (
    "Each bar is one segment's stability: custseg drew {resamples} resamples of the "
    "{rows} customers, found the segments again in each, and measured how many of the "
    "segment's customers come back together (the mean Jaccard similarity, 0 to 1). Read the bars "
    "against the lines: 0.85 or more is very stable, 0.75 or more is stable (a real, "
    "reproducible segment), 0.60 to 0.75 is doubtful (a real pattern, but which customers "
    "belong to it is uncertain), below 0.60 is not to be trusted, and 0.50 or less means the "
    "segment usually falls apart. A doubtful or unstable segment is best merged with its "
    "neighbour or read as a tendency rather than a group of customers to target one by one. "
    "Across resamples the segmentation as a whole agrees at {ari:.2f} (adjusted Rand index, "
    "1 = always the same segments)."
)


def reading(summary: dict) -> str | None:
    """The paragraph on how to read the stability chart, or ``None`` without stability."""
    s = summary.get("stability")
    if not s:
        return None
    rows = f"{s['sample_size']:,}" + (
        f" (a seeded sample of the {s['n_rows']:,})" if s["sample_size"] < s["n_rows"] else ""
    )
    return READING.format(resamples=s["resamples"], rows=rows, ari=s["ari"])


def stability_chart(summary: dict, colors: dict[int, str]) -> Chart | None:
    """One bar per segment, its stability, with Hennig's thresholds marked."""
    if not summary.get("stability"):
        return None
    segments = [p for p in summary["segments"] if p.get("stability") is not None]
    if not segments:
        return None
    fig = go.Figure(
        go.Bar(
            x=[p["stability"] for p in segments],
            y=[esc(p["name"]) for p in segments],
            orientation="h",
            marker={"color": [colors[p["id"]] for p in segments]},
            text=[f"{p['stability']:.2f} {p['stability_label']}" for p in segments],
            textposition="auto",
            hovertemplate="%{y}<br>stability %{x:.2f}<extra></extra>",
        )
    )
    for bound, words in LINES:
        fig.add_vline(x=bound, line={"color": MUTED, "dash": "dot", "width": 1})
        # Above the bars, slanted, so close lines (0.75, 0.85) keep readable labels.
        fig.add_annotation(
            x=bound, y=1, xref="x", yref="paper", yanchor="bottom", xanchor="left",
            text=f"{words} {bound:.2f}", textangle=-30, showarrow=False,
            font={"size": 10, "color": MUTED},
        )  # fmt: skip
    height = max(320, 38 * len(segments) + 170)
    style(fig, height)
    fig.update_layout(
        xaxis={"title": {"text": "stability (mean Jaccard over resamples)"}, "range": [0, 1.02]},
        yaxis={"autorange": "reversed", "automargin": True},
        margin={"t": 110},
    )
    s = summary["stability"]
    return Chart(
        "stability",
        "Stability of each segment",
        fig,
        f"{s['resamples']} bootstrap resamples; dotted lines: Hennig's thresholds.",
        height=height,
    )
