"""``render_html``: the run summary and its charts in one self-contained, offline HTML file.

As skrub's TableReport: the summary is computed once (the dict of ``summary.json``), the charts
are drawn from it and the rows in :class:`ChartData`, and the Jinja template reads the summary.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from custseg.outputs.report._common import check_max_points, summary_colors
from custseg.outputs.report.chart_data import ChartData
from custseg.outputs.report.figures import draw_charts
from custseg.outputs.report.figures.base import CATEGORY_COLORS
from custseg.outputs.report.figures.trust import reading
from custseg.outputs.report.page import chart_entries, plotly_js, render_page

if TYPE_CHECKING:
    from custseg.segmentation import Segmentation

TEMPLATE = "report.html.j2"
CARD_MAX_FEATURES = 6
VOTE_LABELS = {
    "elbow": "Elbow (knee of the WCSS curve)",
    "silhouette": "Silhouette (highest)",
    "calinski_harabasz": "Calinski-Harabasz (highest)",
    "davies_bouldin": "Davies-Bouldin (lowest)",
}
ACTION_LABELS = {"promotions": "Promotions", "campaigns": "Campaigns", "resources": "Resources"}


def render_html(
    seg: Segmentation,
    path: str | Path | None = None,
    *,
    title: str | None = None,
    max_points: int = 5000,
) -> str:
    """Render the report of a segmentation as one self-contained HTML page.

    The page embeds plotly.js once and needs no network. Every user-provided text (column and
    segment names, the source) is escaped.

    Parameters
    ----------
    seg : Segmentation
        The result of :func:`custseg.segment`.
    path : path, optional
        Where to write the page (atomically: a temporary file in the same folder, then renamed).
    title : str, optional
        The page title; default ``"Customer segments"``.
    max_points : int
        Scatter charts draw a seeded random sample of at most this many customers.

    Returns
    -------
    str
        The HTML page.
    """
    max_points = check_max_points(max_points)
    data = ChartData.from_result(seg, max_points=max_points)
    return render_report(seg.summary(), data, path, title=title)


def render_report(
    summary: dict, data: ChartData, path: str | Path | None = None, *, title: str | None = None
) -> str:
    """Render the report from a run summary (``seg.summary()``) and its chart data.

    Parameters
    ----------
    summary : dict
        The run summary, as written to ``summary.json``.
    data : ChartData
        The rows the charts draw (``ChartData.from_result(seg)``).
    path : path, optional
        Where to write the page (atomically).
    title : str, optional
        The page title; default ``"Customer segments"``.

    Returns
    -------
    str
        The HTML page.
    """
    return render_page(TEMPLATE, _context(summary, data, title=title), path)


def _context(summary: dict, data: ChartData, *, title: str | None) -> dict:
    charts = draw_charts(summary, data)
    colors = summary_colors(summary)
    features = summary["features"]
    missing = summary["missing"]["counts"] or {}
    n_rows = summary["n_rows"]
    columns = []
    for name, role in summary["roles"].items():
        n_missing = missing.get(name)
        if n_missing is None:
            n_missing = data.missing_by_column[name]
        columns.append(
            {
                "name": name,
                "role": role,
                "feature": name in features,
                "missing": n_missing,
                "missing_share": n_missing / n_rows if n_rows else 0.0,
            }
        )
    totals: dict[str, float] = {}
    for p in summary["segments"]:
        for g, share in p["gender"].items():
            totals[g] = totals.get(g, 0.0) + (share or 0.0) * p["size"]
    gender_colors = {
        g: CATEGORY_COLORS[i % len(CATEGORY_COLORS)]
        for i, g in enumerate(sorted(totals, key=lambda g: -totals[g]))
    }
    votes = [
        {"label": VOTE_LABELS.get(key, key), "k": k, "agrees": k == summary["k"]}
        for key, k in summary["k_votes"].items()
    ]
    numeric = list(summary["numeric_features"])
    return {
        "title": title or "Customer segments",
        "s": summary,
        "features": features,
        "columns": columns,
        "missing_total": int(sum(missing.values())),
        "votes": votes,
        "overview_charts": chart_entries(charts.overview, "overview"),
        "k_charts": chart_entries(charts.choosing_k, "k"),
        "segment_charts": chart_entries(charts.segments, "segments"),
        "trust_charts": chart_entries(charts.trust, "trust"),
        "stability_reading": reading(summary),
        # Older summaries (and runs without a k search) carry no confidence.
        "confidence": (summary.get("k_choice") or {}).get("confidence"),
        "points_shown": charts.points_shown,
        "points_total": charts.points_total,
        "cards": [
            _card(numeric, p, colors[p["id"]], gender_colors, summary.get("display_names") or {})
            for p in summary["segments"]
        ],
        "rules": summary.get("rules"),
        "guidance": summary.get("features_advice"),
        "rfm": _rfm(summary, colors) if "rfm" in summary else None,
        "clv": _clv(summary, colors) if "clv" in summary else None,
        "identity": summary.get("identity"),
        "migration": summary.get("migration"),
        "previous_charts": chart_entries(charts.previous, "previous"),
        "version": summary["versions"]["custseg"],
        "plotly_js": plotly_js(),
    }


def _rfm(summary: dict, colors: dict[int, str]) -> dict:
    """The RFM section: the transactions read, mean R/F/M scores and the K-Means x classic grid."""
    rfm = summary["rfm"]
    crosstab = rfm["crosstab"]
    totals: dict[str, int] = {}
    for row in crosstab.values():
        for classic, n in row.items():
            totals[classic] = totals.get(classic, 0) + n
    classics = sorted(totals, key=lambda c: -totals[c])
    rows = []
    for means in rfm["score_means"]:
        counts = crosstab.get(means["name"], {})
        size = sum(counts.values())
        top = max(counts, key=counts.get) if counts else None
        rows.append(
            {
                "name": means["name"],
                "color": colors.get(means["segment"], "#999"),
                "scores": [means["R"], means["F"], means["M"]],
                "cells": [
                    {
                        "n": counts.get(c, 0),
                        "share": counts.get(c, 0) / size if size else 0.0,
                        "top": c == top,
                    }
                    for c in classics
                ],  # fmt: skip
            }
        )
    return {"facts": rfm, "classics": classics, "rows": rows}


def _clv(summary: dict, colors: dict[int, str]) -> dict:
    """Customer value: segments ranked by their total expected value (summary is ranked)."""
    clv = summary["clv"]
    rows = [{**row, "color": colors.get(row["segment"], "#999")} for row in clv["segments"]]
    return {"facts": clv, "rows": rows}


def _card(
    numeric: list[str],
    profile: dict,
    color: str,
    gender_colors: dict[str, str],
    labels: dict[str, str],
) -> dict:
    """One segment card from the summary's profile of that segment (features in words)."""
    shown = numeric
    if len(numeric) > CARD_MAX_FEATURES:
        z = profile["zscores"]
        shown = sorted(numeric, key=lambda f: -abs(z.get(f) or 0.0))[:CARD_MAX_FEATURES]
        shown = [f for f in numeric if f in shown]
    means = [
        {
            "feature": labels.get(f, f),
            "mean": profile["means"].get(f),
            "index": profile["index"].get(f),
            "level": profile["levels"].get(f, "average"),
        }
        for f in shown
    ]
    gender = profile["gender"]
    return {
        "id": profile["id"],
        "name": profile["name"],
        "color": color,
        "size": profile["size"],
        "share": profile["share"],
        "stability": profile.get("stability"),  # None: not measured
        "stability_label": profile.get("stability_label"),
        "persona": profile["persona"],
        "rule": profile.get("rule"),
        "rule_fidelity": profile.get("rule_fidelity"),
        "actions": [
            {"label": ACTION_LABELS.get(kind, kind.title()), "text": text}
            for kind, text in profile["actions"].items()
        ],
        "means": means,
        "hidden_features": len(numeric) - len(shown),
        "gender": [
            {"label": g, "share": gender[g] or 0.0, "color": c}
            for g, c in gender_colors.items()
            if gender.get(g)
        ],
    }
