"""``render_html``: the run summary and its charts in one self-contained, offline HTML file."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
import numpy as np
import plotly.io as pio
from markupsafe import Markup

from custseg.atomic import atomic_write
from custseg.outputs.report._common import check_max_points, segment_colors
from custseg.outputs.report.figures import CATEGORY_COLORS, Chart, build_charts

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
# JSON inside <script>: nothing in it may close the element or start markup.
_JSON_SWAPS = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
               ("\u2029", "\\u2029"))  # fmt: skip


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
    page = (
        _environment()
        .get_template(TEMPLATE)
        .render(_context(seg, title=title, max_points=max_points))
    )
    if path is not None:
        atomic_write(path, lambda handle: handle.write(page.encode("utf-8")))
    return page


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("custseg.outputs.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = _num
    env.filters["count"] = lambda v: "–" if v is None else f"{int(v):,}"
    env.filters["pct"] = lambda v, digits=1: "–" if v is None else f"{v:.{digits}%}"
    return env


@functools.cache
def _plotly_js() -> Markup:
    from plotly.offline import get_plotlyjs

    js = get_plotlyjs()
    if "</script" in js.lower():  # never expected; would end the inline script early
        js = js.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")
    return Markup(js)


def _num(value: float | None) -> str:
    """Readable number: ``12,669``, ``86.9``, ``0.44``."""
    if value is None or not np.isfinite(value):
        return "–"
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:,.1f}"
    return f"{value:.2f}"


def _figure_json(chart: Chart) -> Markup:
    text = pio.to_json(chart.figure, validate=False, remove_uids=True)
    for unsafe, safe in _JSON_SWAPS:
        text = text.replace(unsafe, safe)
    return Markup(text)


def _charts(charts: list[Chart], prefix: str) -> list[dict]:
    """Template entries; a half-width chart without a half-width neighbour takes the full row."""
    wide = [c.wide for c in charts]
    i = 0
    while i < len(charts):
        if not wide[i] and i + 1 < len(charts) and not wide[i + 1]:
            i += 2
            continue
        wide[i] = True
        i += 1
    return [
        {
            "id": f"chart-{prefix}-{i}-{c.key}",
            "title": c.title,
            "caption": c.caption,
            "height": int(c.height),
            "wide": w,
            "json": _figure_json(c),
        }
        for i, (c, w) in enumerate(zip(charts, wide, strict=True), start=1)
    ]


def _context(seg: Segmentation, *, title: str | None, max_points: int) -> dict:
    summary = seg.summary()
    charts = build_charts(seg, max_points=max_points)
    colors = segment_colors(seg)
    frame = seg.table.frame
    features = set(seg.features)
    missing = summary["missing"]["counts"] or {}
    n_rows = summary["n_rows"]
    columns = []
    for name, role in seg.table.roles.items():
        n_missing = missing.get(name)
        if n_missing is None:
            n_missing = int(frame[name].isna().sum())
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
    for p in seg.profiles:
        for g, share in p.gender.items():
            totals[g] = totals.get(g, 0.0) + (share or 0.0) * p.size
    gender_colors = {
        g: CATEGORY_COLORS[i % len(CATEGORY_COLORS)]
        for i, g in enumerate(sorted(totals, key=lambda g: -totals[g]))
    }
    votes = [
        {"label": VOTE_LABELS.get(key, key), "k": k, "agrees": k == seg.k}
        for key, k in summary["k_votes"].items()
    ]
    return {
        "title": title or "Customer segments",
        "s": summary,
        "features": seg.features,
        "columns": columns,
        "missing_total": int(sum(missing.values())),
        "votes": votes,
        "overview_charts": _charts(charts.overview, "overview"),
        "k_charts": _charts(charts.choosing_k, "k"),
        "segment_charts": _charts(charts.segments, "segments"),
        "points_shown": charts.points_shown,
        "points_total": charts.points_total,
        "max_points": max_points,
        "cards": [_card(seg, p, colors[p.id], gender_colors) for p in seg.profiles],
        "rfm": _rfm(summary, colors) if "rfm" in summary else None,
        "version": summary["versions"]["custseg"],
        "plotly_js": _plotly_js(),
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


def _card(seg: Segmentation, profile, color: str, gender_colors: dict[str, str]) -> dict:
    numeric = list(seg.plan.numeric)
    shown = numeric
    if len(numeric) > CARD_MAX_FEATURES:
        z = profile.zscores
        shown = sorted(numeric, key=lambda f: -abs(z.get(f) or 0.0))[:CARD_MAX_FEATURES]
        shown = [f for f in numeric if f in shown]
    means = [
        {
            "feature": f,
            "mean": profile.means.get(f),
            "index": profile.index.get(f),
            "level": profile.levels.get(f, "average"),
        }
        for f in shown
    ]
    gender = [
        {"label": g, "share": profile.gender[g] or 0.0, "color": c}
        for g, c in gender_colors.items()
        if profile.gender.get(g)
    ]
    return {
        "id": profile.id,
        "name": profile.name,
        "color": color,
        "size": profile.size,
        "share": profile.share,
        "persona": profile.persona,
        "actions": [
            {"label": ACTION_LABELS.get(kind, kind.title()), "text": text}
            for kind, text in profile.actions.items()
        ],
        "means": means,
        "hidden_features": len(numeric) - len(shown),
        "gender": gender,
    }
