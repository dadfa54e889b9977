"""The main charts as static PNG images (matplotlib/seaborn), for slides and documents.

Drawn, like the HTML report, from the run summary and its :class:`ChartData`.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

from custseg.atomic import atomic_write
from custseg.charts.k import METRICS, k_metric
from custseg.charts.profiles import INDEX_OCTAVES, index_colour, profile_matrix
from custseg.outputs.report._common import (
    centre_matrix,
    check_max_points,
    separating_features,
    summary_colors,
)
from custseg.outputs.report.chart_data import ChartData
from custseg.outputs.report.figures.base import LOG_NOTE, log_ticks

if TYPE_CHECKING:
    from custseg.segmentation import Segmentation

DPI = 120
INK, KNEE, CHOSEN = "#1f2937", "#f28e2b", "#e15759"


def write_png(seg: Segmentation, folder: str | Path, *, max_points: int = 5000) -> list[Path]:
    """Write the main charts of ``seg`` as PNG images into ``folder``.

    The charts are the elbow curve with its knee, the criteria by k, the 2D scatter with the
    segment centres, the segment sizes and the profile heatmap (those that apply). Each file is
    written atomically; existing files of the same name are replaced.

    Parameters
    ----------
    seg : Segmentation
        The result of :func:`custseg.segment`.
    folder : path
        Output folder, created when missing.
    max_points : int
        The scatter chart draws a seeded random sample of at most this many customers.

    Returns
    -------
    list of Path
        The files written.
    """
    max_points = check_max_points(max_points)
    data = ChartData.from_result(seg, max_points=max_points)
    return write_charts_png(seg.summary(), data, folder)


def write_charts_png(summary: dict, data: ChartData, folder: str | Path) -> list[Path]:
    """Write the PNG charts of a run summary and its chart data into ``folder``.

    Parameters
    ----------
    summary : dict
        The run summary, as written to ``summary.json``.
    data : ChartData
        The rows the charts draw (``ChartData.from_result(seg)``).
    folder : path
        Output folder, created when missing.

    Returns
    -------
    list of Path
        The files written.
    """
    folder = Path(folder)
    colors = summary_colors(summary)
    drawn = {
        "elbow.png": _elbow(summary),
        "metrics_by_k.png": _metrics(summary),
        "segments_scatter.png": _scatter(summary, data, colors),
        "segment_sizes.png": _sizes(summary, colors),
        "profile_heatmap.png": _heatmap(summary),
    }
    written = []
    for name, fig in drawn.items():
        if fig is None:
            continue
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", facecolor="white")
        png = buffer.getvalue()
        written.append(atomic_write(folder / name, lambda handle, png=png: handle.write(png)))
    return written


def _text(value: object) -> str:
    """User text for matplotlib: ``$`` would otherwise start math mode."""
    return str(value).replace("$", r"\$")


def _figure(width: float, height: float) -> Figure:
    # Agg canvases on bare Figures: headless, and the user's pyplot backend is left alone
    # (matplotlib.use("Agg") would switch it, e.g. in a notebook).
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _tidy(ax) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(True, color="#e5e7eb", linewidth=0.8)
    ax.set_axisbelow(True)


def _elbow(summary: dict) -> Figure | None:
    if not summary["metrics"]:
        return None
    k = summary["k"]
    ks, inertia = k_metric(summary, "inertia")
    by_k = dict(zip(ks, inertia, strict=True))
    fig = _figure(7, 4.2)
    ax = fig.add_subplot()
    ax.plot(ks, inertia, marker="o", color="#4e79a7", linewidth=2.2, label="WCSS")
    knee = summary["k_votes"].get("elbow")
    if knee is not None and knee in by_k:
        ax.axvline(knee, color=KNEE, linestyle="--", linewidth=1.4)
        ax.plot(
            [knee],
            [by_k[knee]],
            "o",
            markersize=15,
            markerfacecolor="none",
            markeredgecolor=KNEE,
            markeredgewidth=2.5,
            label=f"knee (elbow) k={knee}",
        )
    if k in by_k:
        ax.axvline(k, color=CHOSEN, linewidth=1.2)
        ax.plot([k], [by_k[k]], "*", markersize=16, color=CHOSEN, label=f"chosen k={k}")
    ax.set_xticks(ks)
    ax.set_xlabel("number of segments k")
    ax.set_ylabel("within-cluster sum of squares")
    ax.set_title("Elbow: WCSS by k", loc="left", fontweight="bold")
    ax.legend(frameon=False)
    _tidy(ax)
    return fig


def _metrics(summary: dict) -> Figure | None:
    if not summary["metrics"]:
        return None
    k = summary["k"]
    fig = _figure(13, 3.8)
    axes = fig.subplots(1, 3)
    for ax, (name, title, _) in zip(axes, METRICS, strict=True):
        ks, values = k_metric(summary, name)
        ys = np.array([np.nan if v is None else v for v in values], dtype=float)
        ax.plot(ks, ys, marker="o", color="#4e79a7", linewidth=2)
        best = summary["k_votes"].get(name)
        if best is not None and best in ks:
            ax.plot(
                [best],
                [ys[ks.index(best)]],
                "o",
                markersize=14,
                markerfacecolor="none",
                markeredgecolor=KNEE,
                markeredgewidth=2.5,
            )
        ax.axvline(k, color=CHOSEN, linewidth=1.2)
        ax.set_xticks(ks)
        ax.set_xlabel("k")
        ax.set_title(title, fontsize=11)
        _tidy(ax)
    fig.suptitle(
        f"Quality criteria by k (red line: k={k} used; rings: each one's best)",
        x=0.01,
        ha="left",
        fontweight="bold",
    )
    return fig


def _scatter(summary: dict, data: ChartData, colors: dict[int, str]) -> Figure | None:
    axes = separating_features(summary, data, 2)
    if not axes:
        return None
    positions = data.positions
    points = data.values.iloc[positions][axes].to_numpy(dtype=float)
    labels = data.labels[positions]
    centres = centre_matrix(summary, axes)
    segments = summary["segments"]
    size = 22 if len(positions) <= 1000 else 6
    fig = _figure(8.5, 6)
    ax = fig.add_subplot()
    for p in segments:
        rows = labels == p["id"]
        ax.scatter(
            points[rows, 0],
            points[rows, 1],
            s=size,
            color=colors[p["id"]],
            alpha=0.7,
            linewidths=0,
            label=_text(p["name"]),
        )
    for p in segments:
        ax.scatter(
            [centres[p["id"], 0]],
            [centres[p["id"], 1]],
            s=190,
            marker="D",
            color=colors[p["id"]],
            edgecolors=INK,
            linewidths=2,
            zorder=3,
        )
    ax.scatter(
        [],
        [],
        s=90,
        marker="D",
        color="white",
        edgecolors=INK,
        linewidths=2,
        label="segment centre",
    )
    logged = set(summary.get("log_features") or ())
    for j, (name, axis) in enumerate(zip(axes, (ax.xaxis, ax.yaxis), strict=True)):
        if name in logged:  # the model's log1p scale, as in the HTML report
            _log_axis(ax, axis, "x" if j == 0 else "y", np.nanmax(points[:, j], initial=0.0))
    ax.set_xlabel(_text(axes[0]) + (LOG_NOTE if axes[0] in logged else ""))
    ax.set_ylabel(_text(axes[1]) + (LOG_NOTE if axes[1] in logged else ""))
    ax.set_title(
        _text(f"Segments on {axes[0]} and {axes[1]} ({data.note})"),
        loc="left",
        fontweight="bold",
        fontsize=11,
    )
    ax.legend(frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9)
    _tidy(ax)
    return fig


def _log_axis(ax, axis, which: str, top: float) -> None:
    """A ``log1p`` axis with ticks in original units (0, 1, 10, 100, 1k, ...)."""
    scale = (lambda v: np.log1p(np.clip(v, 0, None)), np.expm1)
    (ax.set_xscale if which == "x" else ax.set_yscale)("function", functions=scale)
    ticks = log_ticks(top)
    axis.set_major_locator(FixedLocator(np.expm1(ticks["tickvals"])))
    axis.set_major_formatter(FixedFormatter(ticks["ticktext"]))
    axis.set_minor_locator(NullLocator())


def _sizes(summary: dict, colors: dict[int, str]) -> Figure | None:
    segments = summary["segments"]
    if not segments:
        return None
    fig = _figure(8, 0.5 * len(segments) + 1.4)
    ax = fig.add_subplot()
    names = [_text(p["name"]) for p in segments]
    sizes = [p["size"] for p in segments]
    y = np.arange(len(names))
    ax.barh(y, sizes, color=[colors[p["id"]] for p in segments])
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    for yi, p in zip(y, segments, strict=True):
        ax.text(p["size"], yi, f" {p['size']:,} ({p['share']:.1%})", va="center", fontsize=9)
    ax.set_xlim(0, max(sizes) * 1.22)
    ax.set_xlabel("customers")
    ax.set_title("Segment sizes", loc="left", fontweight="bold")
    _tidy(ax)
    ax.grid(False, axis="y")
    return fig


def _heatmap(summary: dict) -> Figure | None:
    features = list(summary["numeric_features"])
    segments = summary["segments"]
    if not features or not segments:
        return None
    index = pd.DataFrame(
        profile_matrix(segments, "index", features),
        index=[_text(p["name"]) for p in segments],
        columns=[_text(f) for f in features],
    )
    fig = _figure(max(6.0, 1.3 * len(features) + 4), 0.55 * len(segments) + 2)
    ax = fig.add_subplot()
    colour = pd.DataFrame(index_colour(index.to_numpy()), index=index.index, columns=index.columns)
    ticks = list(range(-INDEX_OCTAVES, INDEX_OCTAVES + 1))
    with warnings.catch_warnings():  # seaborn's own use of a deprecated colormap call
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        sns.heatmap(
            colour,
            ax=ax,
            annot=index.round(0).to_numpy(),
            fmt=".0f",
            cmap="RdBu_r",
            center=0,
            vmin=-INDEX_OCTAVES,
            vmax=INDEX_OCTAVES,
            linewidths=0.5,
            linecolor="white",
            cbar_kws={"label": "index (100 = all customers)", "ticks": ticks},
        )
    ax.collections[0].colorbar.set_ticklabels([f"{100 * 2.0**t:g}" for t in ticks])
    ax.set_title(
        "Segment profiles: mean as index against all customers", loc="left", fontweight="bold"
    )
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.tick_params(axis="x", rotation=30)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    return fig
