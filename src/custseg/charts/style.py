"""What every Plotly chart shares: the ``Chart`` record, escaping, styling, the one-call finish."""

from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go

from custseg.exceptions import ConfigError
from custseg.text import humanise

FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
INK, MUTED, ACCENT, KNEE = "#1f2937", "#6b7280", "#4f46e5", "#f28e2b"
CATEGORY_COLORS = ("#6366f1", "#14b8a6", "#f59e0b", "#ec4899", "#84cc16", "#0ea5e9", "#a8a29e")


@dataclass
class Chart:
    """One chart of the report."""

    key: str
    title: str
    figure: go.Figure
    caption: str = ""
    height: int = 440
    wide: bool = False


@dataclass
class Charts:
    """The report's charts by section, and facts about how they were drawn."""

    overview: list[Chart] = field(default_factory=list)
    choosing_k: list[Chart] = field(default_factory=list)
    segments: list[Chart] = field(default_factory=list)
    previous: list[Chart] = field(default_factory=list)  # compared with a previous run
    trust: list[Chart] = field(default_factory=list)  # segment stability
    points_shown: int = 0
    points_total: int = 0
    silhouette_sample: int | None = None


def label(summary: dict, column: str) -> str:
    """The name a person reads for ``column``: the run's display name, else its words."""
    return (summary.get("display_names") or {}).get(column) or humanise(column)


def esc(text: object) -> str:
    """User text for a Plotly label: shown as written, never read as markup."""
    return html.escape(str(text), quote=False)


def wrapped(text: object, width: int = 26) -> str:
    """A long axis label broken into lines, so a narrow chart shows it whole rather than cut."""
    return "<br>".join(textwrap.wrap(esc(text), width, break_long_words=False)) or esc(text)


def esc_hover(text: object) -> str:
    """User text for a Plotly hover template: also keeps ``%{...}`` from being substituted."""
    return esc(text).replace("%", "&#37;")


def present(*charts: Chart | None) -> list[Chart]:
    """The charts that apply (a builder returns ``None`` when its chart does not)."""
    return [c for c in charts if c is not None]


def style(fig: go.Figure, height: int, **layout) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 60, "r": 20, "t": 40, "b": 50},
        font={"family": FONT, "size": 12, "color": INK},
        hoverlabel={"font": {"family": FONT}},
        legend={"itemsizing": "constant", "font": {"size": 11}, "traceorder": "normal"},
        **layout,
    )
    return fig


def style_splom(fig: go.Figure, n_features: int) -> int:
    """Style a scatter matrix (box-select to highlight); returns its height."""
    height = int(min(900, max(460, 150 * n_features + 80)))
    style(fig, height, dragmode="select")
    return height


def f32(array) -> np.ndarray:
    return np.asarray(array, dtype=np.float32)


def shown(chart: Chart | None, why: str, height: int | None, width: int | None) -> go.Figure:
    """A chart's figure for a one-call plot: its title on the figure, sized as asked.

    ``why`` says why the chart cannot be drawn when the builder returned ``None``.
    """
    if chart is None:
        raise ConfigError(f"This chart cannot be drawn for this result: {why}")
    fig = chart.figure
    top = max(70, int(fig.layout.margin.t or 0) + 30)
    fig.update_layout(
        title={"text": esc(chart.title), "x": 0.01, "xanchor": "left", "font": {"size": 15}},
        margin={"t": top},
        height=_pixels(height, "height") or chart.height + top - 40,
    )
    if width is not None:
        fig.update_layout(width=_pixels(width, "width"))
    return fig


def _pixels(value: object, parameter: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 100:
        raise ConfigError(
            f"{parameter} must be a whole number of pixels (at least 100), not {value!r}"
        )
    return int(value)


# Features log-transformed for the model are drawn on the same log1p scale, with ticks labelled
# in the original units: raw units would pile every customer up at 0 beside a few big spenders.
LOG_NOTE = " (log scale)"


def on_log_scale(values) -> np.ndarray:
    """Values as a log axis draws them: ``log1p``, the model's own transform (0 stays 0)."""
    return np.log1p(np.clip(np.asarray(values, dtype=float), 0, None))


def _short(number: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if number >= size:
            return f"{number / size:g}{suffix}"
    return f"{number:g}"


def log_ticks(top: float) -> dict:
    """Axis settings labelling a :func:`on_log_scale` axis in original units, up to ``top``."""
    top = float(top) if np.isfinite(top) and top > 0 else 1.0
    powers = [10.0**p for p in range(int(np.floor(np.log10(top))) + 1)]
    steps = [m * p for p in powers for m in (1, 2, 5)] if len(powers) <= 3 else powers
    ticks = [0.0, *(s for s in steps if s <= top * 1.05)]
    return {"tickvals": on_log_scale(ticks).tolist(), "ticktext": [_short(t) for t in ticks]}
