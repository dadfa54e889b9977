"""The profile heatmap: each segment's mean as an index against all customers (100 = average).

It reads profiles as dicts (a run summary's ``segments``, or a model file's ``profiles``), so the
report, a result and a loaded model draw the same chart.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from custseg.charts.style import Chart, esc, label, shown, style


def profile_matrix(segments: list[dict], attribute: str, features: list[str]) -> np.ndarray:
    """Segments x features array of a profile statistic (``"index"``, ``"means"``), NaN for None."""
    rows = []
    for p in segments:
        stats = p[attribute]
        rows.append([np.nan if stats.get(f) is None else stats[f] for f in features])
    return np.array(rows, dtype=float).reshape(len(segments), len(features))


INDEX_OCTAVES = 2  # profile heatmap colours saturate at a quarter and four times the average


def index_colour(index: np.ndarray) -> np.ndarray:
    """Index (100 = average) on a symmetric ratio scale: log2(index / 100), clipped; NaN if <= 0."""
    with np.errstate(all="ignore"):
        ratio = np.log2(np.where(index > 0, index, np.nan) / 100)
    return np.clip(ratio, -INDEX_OCTAVES, INDEX_OCTAVES)


def profile_heatmap(summary: dict, features: list[str] | None = None) -> Chart | None:
    """Each segment's mean as an index against the population (100 = average)."""
    features = list(features or summary["numeric_features"])
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


class ModelPlot:
    """The charts a loaded model can draw without its training rows: ``model.plot.profiles()``."""

    def __init__(self, features: list[str], profiles: list[dict]):
        self._summary = {"numeric_features": list(features), "segments": profiles}

    def __repr__(self) -> str:
        return "<charts of a saved model: profiles>"

    def profiles(self, *, height: int | None = None, width: int | None = None) -> go.Figure:
        """Each segment's mean of each feature as an index against all customers (100 = average)."""
        chart = profile_heatmap(self._summary)
        return shown(chart, "the model has no numeric features to profile", height, width)
