"""The report's view of a run compared with a previous one: where customers went."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from custseg.outputs.report.figures.base import Chart, esc, style


def migration_heatmap(summary: dict) -> Chart | None:
    """Previous segment (rows) by new segment (columns): each cell's share of its row."""
    migration = summary.get("migration")
    if not migration or not migration["matrix"]["counts"]:
        return None
    matrix = migration["matrix"]
    counts = np.asarray(matrix["counts"], dtype=float)
    shares = np.asarray(matrix["row_shares"], dtype=float)
    rows = [
        _label(i, n)
        for i, n in zip(matrix["previous_segments"], matrix["previous_names"], strict=True)
    ]
    cols = [_label(i, n) for i, n in zip(matrix["segments"], matrix["names"], strict=True)]
    text = [
        [f"{int(c):,}<br>{s:.0%}" if c else "" for c, s in zip(rc, rs, strict=True)]
        for rc, rs in zip(counts, shares, strict=True)
    ]
    fig = go.Figure(
        go.Heatmap(
            z=np.round(shares, 4),
            x=cols,
            y=rows,
            text=text,
            texttemplate="%{text}",
            customdata=counts,
            zmin=0,
            zmax=1,
            colorscale="Blues",
            colorbar={"title": {"text": "share"}, "thickness": 12, "tickformat": ".0%"},
            hovertemplate="from %{y}<br>to %{x}: %{customdata:,} customers "
            "(%{z:.0%} of the row)<extra></extra>",
        )
    )
    height = max(320, 44 * len(rows) + 160)
    style(fig, height)
    fig.update_layout(
        yaxis={"autorange": "reversed", "automargin": True, "title": "previous run"},
        xaxis={"automargin": True, "title": "this run"},
    )
    return Chart(
        "migration",
        "Where each previous segment's customers are now",
        fig,
        "Customers in both runs: previous segment (rows) by segment in this run (columns). "
        "Each cell shows the customers and their share of the row.",
        height=height,
        wide=len(cols) > 4,
    )


def _label(segment: int, name: str) -> str:
    return esc(f"{segment} {name}")
