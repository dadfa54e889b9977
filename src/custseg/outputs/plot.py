"""``seg.plot``: every chart of the report, one call away, as a Plotly figure.

An accessor, as pandas' ``df.plot``: the charts stay grouped under one name that tab completion
lists, and the result class keeps a short list of its own methods. Each method calls the same
figure builder the report calls (``outputs/report/figures``), with the same summary and the same
seeded sample, so a chart in a notebook and the chart in the report never disagree. The only
addition is the chart's title on the figure itself, which says when it shows a sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from custseg.charts.k import NO_SEARCH
from custseg.charts.style import shown
from custseg.exceptions import ConfigError
from custseg.outputs.report import figures
from custseg.outputs.report._common import by_separation, summary_colors
from custseg.outputs.report.chart_data import ChartData

if TYPE_CHECKING:
    from custseg.segmentation import Segmentation

DEFAULT_SAMPLE = 5000  # the report's own default, so the default chart is the report's chart

CHARTS = (
    "scatter",
    "scatter_3d",
    "pca",
    "elbow",
    "criteria",
    "silhouette",
    "profiles",
    "sizes",
    "distributions",
    "pairs",
)


class SegmentationPlot:
    """The report's charts of one segmentation, one method each: ``seg.plot.scatter()``.

    Every method returns a Plotly ``Figure`` (shown as a chart in Jupyter).
    Scatter charts draw a seeded random sample of at most ``sample`` customers (5,000 by
    default, as the report) and say so in their title. ``height`` and ``width`` are in pixels.
    """

    def __init__(self, seg: Segmentation):
        self._seg = seg
        self._summary: dict | None = None
        self._data: dict[int, ChartData] = {}

    def __repr__(self) -> str:
        return f"<charts of a {self._seg.k}-segment result: {', '.join(CHARTS)}>"

    def __dir__(self) -> list[str]:
        return list(CHARTS)

    # ------------------------------------------------------------ segments
    def scatter(
        self,
        x: str | None = None,
        y: str | None = None,
        *,
        sample: int = DEFAULT_SAMPLE,
        height: int | None = None,
        width: int | None = None,
    ) -> go.Figure:
        """Customers on two features, coloured by segment, with the segment centres.

        ``x`` and ``y`` default to the features that separate the segments best.
        """
        summary, data, colors = self._inputs(sample)
        axes = self._axes({"x": x, "y": y}, summary, data)
        chart = figures.scatter_2d(summary, data, colors, axes)
        return shown(chart, "a scatter chart needs two numeric features", height, width)

    def scatter_3d(
        self,
        x: str | None = None,
        y: str | None = None,
        z: str | None = None,
        *,
        sample: int = DEFAULT_SAMPLE,
        height: int | None = None,
        width: int | None = None,
    ) -> go.Figure:
        """Customers on three features in 3D (drag to rotate), with the segment centres.

        Features not given are the ones that separate the segments best.
        """
        summary, data, colors = self._inputs(sample)
        axes = self._axes({"x": x, "y": y, "z": z}, summary, data)
        chart = figures.scatter_3d(summary, data, colors, axes)
        return shown(chart, "a 3D chart needs three numeric features", height, width)

    def pca(
        self, *, sample: int = DEFAULT_SAMPLE, height: int | None = None, width: int | None = None
    ) -> go.Figure:
        """All model features projected on their two principal components."""
        summary, data, colors = self._inputs(sample)
        chart = figures.pca_view(summary, data, colors)
        why = "the principal-component view needs more than three model features"
        return shown(chart, why, height, width)

    def profiles(
        self,
        *,
        features: str | Sequence[str] | None = None,
        height: int | None = None,
        width: int | None = None,
    ) -> go.Figure:
        """Each segment's mean of each feature as an index against all customers (100 = average)."""
        summary = self._get_summary()
        chart = figures.profile_heatmap(summary, self._features(features))
        return shown(chart, "there are no numeric features to profile", height, width)

    def sizes(self, *, height: int | None = None, width: int | None = None) -> go.Figure:
        """Customers per segment, with each segment's share."""
        summary = self._get_summary()
        chart = figures.segment_sizes(summary, summary_colors(summary))
        return shown(chart, "there are no segments", height, width)

    # ------------------------------------------------------------ choosing k
    def elbow(self, *, height: int | None = None, width: int | None = None) -> go.Figure:
        """Within-cluster sum of squares by k, with the knee and the chosen k marked."""
        chart = figures.elbow(self._get_summary())
        return shown(chart, NO_SEARCH, height, width)

    def criteria(self, *, height: int | None = None, width: int | None = None) -> go.Figure:
        """Silhouette, Calinski-Harabasz and Davies-Bouldin by k, with the chosen k marked."""
        chart = figures.metrics_by_k(self._get_summary())
        return shown(chart, NO_SEARCH, height, width)

    def silhouette(self, *, height: int | None = None, width: int | None = None) -> go.Figure:
        """The silhouette of each customer at the chosen k (a seeded sample of 3,000 at most)."""
        summary, data, colors = self._inputs(DEFAULT_SAMPLE)
        drawn = figures.silhouette_plot(summary, data, colors)
        why = "the silhouette needs at least two segments with customers"
        return shown(drawn[0] if drawn else None, why, height, width)

    # ------------------------------------------------------------ the data
    def distributions(
        self,
        feature: str | None = None,
        *,
        features: str | Sequence[str] | None = None,
        height: int | None = None,
        width: int | None = None,
    ) -> go.Figure:
        """A histogram of one feature (or of each), stacked by segment."""
        if feature is not None and features is not None:
            raise ConfigError("Give feature or features, not both")
        summary, data, colors = self._inputs(DEFAULT_SAMPLE)
        chosen = self._features(feature if feature is not None else features, "feature")
        chart = figures.distributions(summary, data, colors, chosen)
        return shown(chart, "there are no numeric features", height, width)

    def pairs(
        self,
        *,
        features: str | Sequence[str] | None = None,
        sample: int = DEFAULT_SAMPLE,
        height: int | None = None,
        width: int | None = None,
    ) -> go.Figure:
        """Every pair of features (up to eight) in one grid, coloured by segment."""
        summary, data, colors = self._inputs(sample)
        chart = figures.scatter_matrix(summary, data, colors, self._features(features))
        return shown(chart, "pairs need at least two numeric features", height, width)

    # Charts still to come (stability of the segments, the naming rules, migration between two
    # runs) join here: one method each, calling the report's figure builder.

    # ------------------------------------------------------------ helpers
    def _get_summary(self) -> dict:
        if self._summary is None:
            self._summary = self._seg.summary()
        return self._summary

    def _inputs(self, sample: int) -> tuple[dict, ChartData, dict[int, str]]:
        sample = _check_sample(sample)
        if sample not in self._data:
            self._data[sample] = ChartData.from_result(self._seg, max_points=sample)
        summary = self._get_summary()
        return summary, self._data[sample], summary_colors(summary)

    def _feature(self, name: object, parameter: str) -> str:
        """A numeric feature by column name or by role (``"income"``), else a clear error."""
        numeric = list(self._seg.plan.numeric)
        if not isinstance(name, str):
            raise ConfigError(f"{parameter} must be a feature name, not {name!r}")
        if name in numeric:
            return name
        by_role = [c for c in numeric if self._seg.table.roles.get(c) == name]
        if len(by_role) == 1:
            return by_role[0]
        listed = ", ".join(repr(c) for c in numeric) or "none"
        if name in self._seg.plan.categorical:
            raise ConfigError(
                f"{parameter}={name!r} is a categorical feature; charts plot numeric features: "
                f"{listed}"
            )
        raise ConfigError(
            f"{parameter}={name!r} is not a feature of this segmentation; its numeric features "
            f"are {listed}"
        )

    def _features(self, given: str | Sequence[str] | None, parameter: str = "features"):
        if given is None:
            return None
        names = [given] if isinstance(given, str) else list(given)
        if not names:
            raise ConfigError(f"{parameter} is empty; name at least one feature or leave it out")
        chosen = [self._feature(n, parameter) for n in names]
        _no_repeats(chosen, [parameter] * len(chosen))
        return chosen

    def _axes(
        self, given: dict[str, str | None], summary: dict, data: ChartData
    ) -> list[str] | None:
        """The features on each axis: those given, then the best separating ones."""
        named = {axis: self._feature(v, axis) for axis, v in given.items() if v is not None}
        _no_repeats(list(named.values()), list(named))
        if not named:
            return None  # the figure builder's own default, as in the report
        if len(named) == len(given):
            return list(named.values())
        rest = [f for f in by_separation(summary, data) if f not in named.values()]
        axes = [named[a] if a in named else rest.pop(0) if rest else None for a in given]
        return [] if None in axes else axes


def _no_repeats(features: list[str], parameters: list[str]) -> None:
    for i, f in enumerate(features):
        if f in features[:i]:
            first = parameters[features.index(f)]
            raise ConfigError(
                f"{first} and {parameters[i]} are both {f!r}; pick different features"
                if first != parameters[i]
                else f"{f!r} is named twice in {first}; name each feature once"
            )


def _check_sample(sample: object) -> int:
    if isinstance(sample, bool) or not isinstance(sample, int | np.integer) or sample < 1:
        raise ConfigError(
            f"sample must be a whole number of customers (at least 1), not {sample!r}"
        )
    return int(sample)
