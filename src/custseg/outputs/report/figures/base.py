"""What every Plotly chart of the report shares: the ``Chart`` record, escaping and styling."""

from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go

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
    trust: list[Chart] = field(default_factory=list)  # segment stability
    points_shown: int = 0
    points_total: int = 0
    silhouette_sample: int | None = None


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
