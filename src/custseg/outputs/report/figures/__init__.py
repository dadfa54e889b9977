"""The report's interactive charts (Plotly), drawn from the run summary and its chart data.

Every chart is a :class:`Chart`: a plain-text title and caption (escaped by the template) and a
Plotly figure. User text (column and segment names) goes into figures through :func:`esc`, so
Plotly, which reads a little HTML in labels, shows it literally. Scatter charts draw one seeded
sample of at most ``max_points`` rows and say so in their title.

Modules: :mod:`.data` (distributions, correlations, pairs), :mod:`.choosing_k` (elbow, criteria,
silhouette), :mod:`.segments` (scatter views, sizes, profiles) and :mod:`.trust`
(the stability of each segment).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from custseg.outputs.report._common import check_max_points, summary_colors
from custseg.outputs.report.chart_data import ChartData
from custseg.outputs.report.figures.base import Chart, Charts, esc, esc_hover, present
from custseg.outputs.report.figures.choosing_k import elbow, metrics_by_k, silhouette_plot
from custseg.outputs.report.figures.data import (
    correlation,
    distributions,
    feature_correlation,
    feature_histograms,
    gender_mix,
    pairs,
    scatter_matrix,
)
from custseg.outputs.report.figures.migration import migration_heatmap
from custseg.outputs.report.figures.segments import (
    pca_view,
    profile_heatmap,
    scatter_2d,
    scatter_3d,
    segment_sizes,
)
from custseg.outputs.report.figures.trust import stability_chart

if TYPE_CHECKING:
    from custseg.segmentation import Segmentation

__all__ = [
    "Chart",
    "ChartData",
    "Charts",
    "build_charts",
    "correlation",
    "distributions",
    "draw_charts",
    "elbow",
    "esc",
    "esc_hover",
    "feature_correlation",
    "feature_histograms",
    "gender_mix",
    "metrics_by_k",
    "migration_heatmap",
    "pairs",
    "pca_view",
    "profile_heatmap",
    "scatter_2d",
    "scatter_3d",
    "scatter_matrix",
    "segment_sizes",
    "silhouette_plot",
    "stability_chart",
]


def draw_charts(summary: dict, data: ChartData) -> Charts:
    """Draw every chart of the report from a run summary and its chart data."""
    colors = summary_colors(summary)
    silhouette = silhouette_plot(summary, data, colors)
    return Charts(
        overview=present(
            distributions(summary, data, colors),
            gender_mix(summary, data),
            feature_correlation(summary, data),
            scatter_matrix(summary, data, colors),
        ),
        choosing_k=present(
            elbow(summary), silhouette[0] if silhouette else None, metrics_by_k(summary)
        ),
        segments=present(
            scatter_2d(summary, data, colors),
            segment_sizes(summary, colors),
            profile_heatmap(summary),
            scatter_3d(summary, data, colors),
            pca_view(summary, data, colors),
        ),
        previous=present(migration_heatmap(summary)),
        trust=present(stability_chart(summary, colors)),
        points_shown=len(data.positions),
        points_total=data.n_used,
        silhouette_sample=silhouette[1] if silhouette else None,
    )


def build_charts(seg: Segmentation, *, max_points: int = 5000) -> Charts:
    """Draw every chart of the report for ``seg``.

    Parameters
    ----------
    seg : Segmentation
        The result of :func:`custseg.segment`.
    max_points : int
        Scatter charts draw a seeded random sample of at most this many customers.

    Returns
    -------
    Charts
        The charts by report section; each has a Plotly ``figure``.
    """
    max_points = check_max_points(max_points)
    return draw_charts(seg.summary(), ChartData.from_result(seg, max_points=max_points))
