"""The dashboard's charts: the report's own figure builders (``custseg.outputs.report.figures``).

The app draws what the HTML report draws, from the same code; it only picks a smaller seeded
sample for the scatter charts, so a k change on a large table redraws quickly in the browser
(in headless Chromium, 5,000 SVG points took 2-4 s to redraw, 2,000 under 1 s).
"""

from __future__ import annotations

import numpy as np

from custseg.outputs.report import figures
from custseg.outputs.report._common import sample_note, sample_positions, segment_colors
from custseg.outputs.report.figures import Chart
from custseg.segmentation import Segmentation

MAX_POINTS = 2000

__all__ = ["MAX_POINTS", "Chart", "data_charts", "k_charts", "profile_charts", "scatter_charts"]


def _sample(seg: Segmentation) -> tuple[np.ndarray, str]:
    positions = sample_positions(seg, MAX_POINTS)
    return positions, sample_note(len(positions), int(seg.used.sum()))


def _present(*charts: Chart | None) -> list[Chart]:
    return [c for c in charts if c is not None]


def scatter_charts(seg: Segmentation, dims: int) -> list[Chart]:
    """``dims=2``: the 2D scatter with centres, then the segment sizes; ``dims=3``: the 3D
    scatter and, beyond three features, the principal-component view."""
    positions, note = _sample(seg)
    colors = segment_colors(seg)
    if dims == 2:
        return _present(
            figures.scatter_2d(seg, seg.values(), positions, colors, note),
            figures.segment_sizes(seg, colors),
        )
    return _present(
        figures.scatter_3d(seg, seg.values(), positions, colors, note),
        figures.pca_view(seg, positions, colors, note),
    )


def k_charts(seg: Segmentation) -> list[Chart]:
    """The elbow, the quality criteria by k and the silhouette of the k shown."""
    silhouette = figures.silhouette_plot(seg, segment_colors(seg))
    return _present(
        figures.elbow(seg),
        figures.metrics_by_k(seg),
        silhouette[0] if silhouette else None,
    )


def profile_charts(seg: Segmentation) -> list[Chart]:
    """Each segment's features against the average (heatmap)."""
    return _present(figures.profile_heatmap(seg))


def data_charts(seg: Segmentation) -> list[Chart]:
    """Distributions by segment, gender mix and correlations."""
    values = seg.values()
    return _present(
        figures.distributions(seg, values, segment_colors(seg)),
        figures.gender_mix(seg),
        figures.correlation(values.loc[seg.used, list(seg.plan.numeric)]),
    )
