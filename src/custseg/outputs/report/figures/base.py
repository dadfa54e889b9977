"""The report's chart style; it lives in :mod:`custseg.charts.style`, below the pipeline, so the
k search and a loaded model draw their charts with it too."""

from custseg.charts.style import (
    ACCENT,
    CATEGORY_COLORS,
    FONT,
    INK,
    KNEE,
    LOG_NOTE,
    MUTED,
    Chart,
    Charts,
    esc,
    esc_hover,
    f32,
    log_ticks,
    on_log_scale,
    present,
    style,
    style_splom,
    wrapped,
)

__all__ = [
    "ACCENT",
    "CATEGORY_COLORS",
    "FONT",
    "INK",
    "KNEE",
    "LOG_NOTE",
    "MUTED",
    "Chart",
    "Charts",
    "esc",
    "esc_hover",
    "f32",
    "log_ticks",
    "on_log_scale",
    "present",
    "style",
    "style_splom",
    "wrapped",
]
