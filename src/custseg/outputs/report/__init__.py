"""The report: run summary -> figures -> one self-contained HTML file (and static PNG charts).

``render_html`` writes the interactive report (plotly.js embedded once, works offline);
``write_png`` writes the main charts as PNG images with matplotlib.
"""

from __future__ import annotations

from custseg.outputs.report.html import render_html
from custseg.outputs.report.static import write_png
from custseg.outputs.summary import build_summary

__all__ = ["build_summary", "render_html", "write_png"]
