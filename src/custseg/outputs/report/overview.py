"""``custseg explore --html``: a self-contained page describing a customer table before any
segmentation: its columns and their recognised roles, missing values, statistics, the
distribution of each numeric column, their correlations and pairs.

Like the report: the table is summarised once (:func:`describe_table`), the charts are drawn
from its numeric values, and the template reads the summary.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from custseg import __version__
from custseg.features import FeaturePlan, feature_frame
from custseg.outputs.report._common import check_max_points, sample_note, sample_positions
from custseg.outputs.report.figures import correlation, feature_histograms, pairs, present
from custseg.outputs.report.page import chart_entries, plotly_js, render_page
from custseg.pipeline.guidance import advise
from custseg.read import NUMERIC_ROLES, Table
from custseg.text import humanise

TEMPLATE = "overview.html.j2"


def render_overview(table: Table, path: str | Path | None = None, *, max_points: int = 5000) -> str:
    """Render the overview page of ``table`` (from :func:`custseg.read.load`).

    Parameters
    ----------
    table : Table
        The loaded customer table.
    path : path, optional
        Where to write the page (atomically).
    max_points : int
        The pairs chart draws a seeded random sample of at most this many rows.

    Returns
    -------
    str
        The HTML page.
    """
    max_points = check_max_points(max_points)
    values = feature_frame(table.frame, FeaturePlan(tuple(table.columns_with(*NUMERIC_ROLES))))
    n = len(values)
    rows = sample_positions(np.arange(n), max_points)
    charts = present(
        feature_histograms(values),
        correlation(values),
        pairs(values.iloc[rows], sample_note(len(rows), n)),
    )
    context = {
        "title": "Customer table overview",
        **describe_table(table, values),
        "charts": chart_entries(charts, "overview"),
        "guidance": guidance_rows(table, list(values.columns)),
        "version": __version__,
        "plotly_js": plotly_js(),
    }
    return render_page(TEMPLATE, context, path)


def describe_table(table: Table, values: pd.DataFrame) -> dict:
    """What the overview says about ``table``: its size and notes, and for each column its role,
    missing and distinct values and, for the numeric ``values``, mean, min, median and max."""
    frame = table.frame
    n = len(frame)
    columns = []
    for name, role in table.roles.items():
        missing = int(frame[name].isna().sum())
        stats = values[name].describe() if name in values.columns else None
        columns.append(
            {
                "name": name,
                "role": role,
                "missing": missing,
                "missing_share": missing / n if n else 0.0,
                "distinct": int(frame[name].nunique()),
                "stats": None
                if stats is None or not stats["count"]
                else {k: float(stats[k]) for k in ("mean", "min", "50%", "max")},
            }
        )
    return {
        "source": table.source,
        "n_rows": n,
        "n_columns": frame.shape[1],
        "n_numeric": len(values.columns),
        "notes": table.notes,
        "columns": columns,
    }


def guidance_rows(table: Table, columns: list[str]) -> list[dict]:
    """Feature guidance on the numeric columns, as rows for the page (column names in words)."""
    if len(columns) < 2:
        return []
    return [
        a.to_dict() | {"label": humanise(a.column)}
        for a in advise(table.frame, columns, label=humanise)
    ]
