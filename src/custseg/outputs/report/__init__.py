"""The report: run summary -> figures -> one self-contained HTML file (and static PNG charts).

As skrub's TableReport, the summary is computed once (``seg.summary()``, the dict of
``summary.json``); the rows the charts draw are taken once into a :class:`ChartData`; figures
are drawn from both, and the Jinja templates read the summary.

``render_html`` writes the interactive report (plotly.js embedded once, works offline);
``write_png`` writes the main charts as PNG images with matplotlib. ``render_report`` and
``write_charts_png`` do the same from a summary and chart data already at hand.
"""

from __future__ import annotations

from custseg.outputs.report.chart_data import ChartData
from custseg.outputs.report.html import render_html, render_report
from custseg.outputs.report.static import write_charts_png, write_png
from custseg.outputs.summary import build_summary

__all__ = [
    "ChartData",
    "build_summary",
    "render_html",
    "render_report",
    "write_charts_png",
    "write_png",
]
