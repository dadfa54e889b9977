"""What both HTML pages (the report and the table overview) share: the Jinja environment, the
embedded plotly.js, chart entries for the templates, and the atomic write."""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2
import numpy as np
import plotly.io as pio
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from custseg.atomic import atomic_write
from custseg.outputs.report.figures import Chart

# JSON inside <script>: nothing in it may close the element or start markup.
_JSON_SWAPS = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
               ("\u2029", "\\u2029"))  # fmt: skip


def render_page(template: str, context: dict, path: str | Path | None) -> str:
    """Render ``template`` with ``context``; write it atomically to ``path`` when given."""
    page = environment().get_template(template).render(context)
    if path is not None:
        atomic_write(path, lambda handle: handle.write(page.encode("utf-8")))
    return page


@functools.cache
def environment() -> jinja2.Environment:
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
def plotly_js() -> Markup:
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


def chart_entries(charts: list[Chart], prefix: str) -> list[dict]:
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
