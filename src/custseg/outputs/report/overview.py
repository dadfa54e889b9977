"""``custseg explore --html``: a self-contained page describing a customer table before any
segmentation: its columns and their recognised roles, missing values, statistics, the
distribution of each numeric column, their correlations and pairs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from custseg import __version__
from custseg.atomic import atomic_write
from custseg.features import FeaturePlan, feature_frame
from custseg.outputs.report._common import SEED, check_max_points, sample_note
from custseg.outputs.report.figures import correlation, feature_histograms, pairs
from custseg.outputs.report.html import _charts, _environment, _plotly_js
from custseg.read import NUMERIC_ROLES, Table

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
    frame = table.frame
    numeric = table.columns_with(*NUMERIC_ROLES)
    values = feature_frame(frame, FeaturePlan(tuple(numeric)))
    n = len(frame)
    rows = np.arange(n)
    if n > max_points:
        rows = np.sort(np.random.default_rng(SEED).choice(n, max_points, replace=False))
    charts = [
        c
        for c in (
            feature_histograms(values),
            correlation(values),
            pairs(values.iloc[rows], sample_note(len(rows), n)),
        )
        if c is not None
    ]
    columns = []
    for name, role in table.roles.items():
        missing = int(frame[name].isna().sum())
        stats = values[name].describe() if name in numeric else None
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
    page = (
        _environment()
        .get_template(TEMPLATE)
        .render(
            title="Customer table overview",
            source=table.source,
            n_rows=n,
            n_columns=frame.shape[1],
            n_numeric=len(numeric),
            notes=table.notes,
            columns=columns,
            charts=_charts(charts, "overview"),
            version=__version__,
            plotly_js=_plotly_js(),
        )
    )
    if path is not None:
        atomic_write(path, lambda handle: handle.write(page.encode("utf-8")))
    return page
