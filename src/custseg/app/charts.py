"""The dashboard's charts: the report's own figure builders (``custseg.outputs.report.figures``).

The app draws what the HTML report draws, from the same code and the same inputs (the run
summary and its chart data); it only takes a smaller seeded sample for the scatter charts, so a
k change on a large table redraws quickly in the browser (in headless Chromium, 5,000 SVG
points took 2-4 s to redraw, 2,000 under 1 s).
"""

from __future__ import annotations

from custseg.outputs.report import figures
from custseg.outputs.report._common import summary_colors
from custseg.outputs.report.chart_data import ChartData
from custseg.outputs.report.figures import Chart, present
from custseg.outputs.report.figures.trust import reading as stability_reading
from custseg.segmentation import Segmentation

MAX_POINTS = 2000

__all__ = [
    "MAX_POINTS",
    "Chart",
    "data_charts",
    "k_charts",
    "profile_charts",
    "scatter_charts",
    "trust_charts",
]


def _inputs(seg: Segmentation) -> tuple[dict, ChartData, dict[int, str]]:
    """The summary, the chart data (at most ``MAX_POINTS`` points) and the segment colours."""
    summary = seg.summary()
    return summary, ChartData.from_result(seg, max_points=MAX_POINTS), summary_colors(summary)


def scatter_charts(seg: Segmentation, dims: int) -> list[Chart]:
    """``dims=2``: the 2D scatter with centres, then the segment sizes; ``dims=3``: the 3D
    scatter and, beyond three features, the principal-component view."""
    summary, data, colors = _inputs(seg)
    if dims == 2:
        return present(
            figures.scatter_2d(summary, data, colors), figures.segment_sizes(summary, colors)
        )
    return present(
        figures.scatter_3d(summary, data, colors), figures.pca_view(summary, data, colors)
    )


def k_charts(seg: Segmentation) -> list[Chart]:
    """The elbow, the quality criteria by k and the silhouette of the k shown."""
    summary, data, colors = _inputs(seg)
    silhouette = figures.silhouette_plot(summary, data, colors)
    return present(
        figures.elbow(summary),
        figures.metrics_by_k(summary),
        silhouette[0] if silhouette else None,
    )


def trust_charts(seg: Segmentation) -> list[tuple[Chart, str]]:
    """The stability of each segment, with the paragraph on how to read it (none without)."""
    summary = seg.summary()
    chart = figures.stability_chart(summary, summary_colors(summary))
    reading = stability_reading(summary)
    return [(chart, reading)] if chart is not None and reading else []


def profile_charts(seg: Segmentation) -> list[Chart]:
    """Each segment's features against the average (heatmap)."""
    return present(figures.profile_heatmap(seg.summary()))


def data_charts(seg: Segmentation) -> list[Chart]:
    """Distributions by segment, gender mix and correlations."""
    summary, data, colors = _inputs(seg)
    return present(
        figures.distributions(summary, data, colors),
        figures.gender_mix(summary, data),
        figures.feature_correlation(summary, data),
    )
