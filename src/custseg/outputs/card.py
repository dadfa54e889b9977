"""How a result shows itself in a notebook (``_repr_html_``) and at a prompt (``__repr__``).

A headline (k, customers, features, confidence when the run measured it), one small card per
segment (name, size, share and the features that set it apart most) and why k is what it is.
Plain HTML with inline styles: no plotly.js and no scripts, so a notebook stays light.
"""

from __future__ import annotations

import html
import math
import re
from typing import TYPE_CHECKING

from custseg.outputs.report._common import colors_for

if TYPE_CHECKING:
    from custseg.pipeline.explain import SegmentProfile
    from custseg.segmentation import Segmentation

DISTINCTIVE = 3  # features shown per segment card


def distinctive(profile: SegmentProfile, n: int = DISTINCTIVE) -> list[tuple[str, float, float]]:
    """The ``n`` features furthest from average in this segment: (feature, mean, index).

    "Furthest" is on a ratio scale (twice and half the average are as far), as the report's
    profile colours.
    """
    scored = []
    for feature, index in profile.index.items():
        if index is None or not math.isfinite(index) or index <= 0:
            continue
        scored.append((abs(math.log2(index / 100)), feature, profile.means[feature], index))
    scored.sort(key=lambda t: -t[0])
    return [(f, mean, index) for _, f, mean, index in scored[:n]]


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"


def _versus_average(index: float) -> str:
    ratio = index / 100
    if ratio >= 1.05:
        return f"{ratio:.1f}× average"
    if ratio <= 0.95:
        return f"{ratio:.0%} of average"
    return "about average"


def _confidence(seg: Segmentation) -> str | None:
    # Runs whose k search rates its confidence carry it; results without the field show none.
    level = getattr(seg.k_choice, "confidence", None)
    return f"{level} confidence in k" if isinstance(level, str) else None


def _headline(seg: Segmentation) -> str:
    rows = f"{seg.n_used:,} customers"
    if seg.n_used < seg.n_rows:
        rows += f" (of {seg.n_rows:,} rows)"
    return f"{seg.k} segments of {rows} on {', '.join(seg.features)}"


def _why_k(seg: Segmentation) -> str:
    # the reason may start with "k=5: ", which the "Why k = 5" in front of it already says
    return f"Why k = {seg.k}: " + re.sub(r"^k=\d+: ", "", seg.k_reason)


def text_repr(seg: Segmentation) -> str:
    """The plain-text view: headline, one line per segment, the k reason."""
    lines = [f"Segmentation: {_headline(seg)}"]
    confidence = _confidence(seg)
    if confidence:
        lines.append(f"  {confidence}")
    for p in seg.profiles:
        traits = ", ".join(f"{f} {_versus_average(i)}" for f, _, i in distinctive(p))
        lines.append(
            f"  [{p.id}] {p.name}: {p.size:,} ({p.share:.0%})" + (f"; {traits}" if traits else "")
        )
    lines.append(f"  {_why_k(seg)}")
    return "\n".join(lines)


def html_repr(seg: Segmentation) -> str:
    """The notebook view: headline, a card per segment, the k reason (no scripts)."""
    esc = html.escape
    colors = colors_for(p.id for p in seg.profiles)
    confidence = _confidence(seg)
    head = f"<b>custseg</b>: {esc(_headline(seg))}"
    if confidence:
        head += f"; {esc(confidence)}"
    cards = []
    for p in seg.profiles:
        traits = "".join(
            f"<li>{esc(f)}: {esc(_number(mean))} ({esc(_versus_average(i))})</li>"
            for f, mean, i in distinctive(p)
        )
        cards.append(
            f'<div style="border:1px solid #e5e7eb;border-top:4px solid {colors[p.id]};'
            'border-radius:6px;padding:6px 10px;min-width:190px;max-width:260px">'
            f'<div style="font-weight:600">{esc(p.name)}</div>'
            f'<div style="color:#6b7280">segment {p.id}: {p.size:,} customers, {p.share:.0%}</div>'
            f'<ul style="margin:4px 0 0 1.1em;padding:0">{traits}</ul></div>'
        )
    return (
        '<div class="custseg-result" style="font-size:13px;line-height:1.4">'
        f"<p>{head}</p>"
        f'<div style="display:flex;flex-wrap:wrap;gap:8px">{"".join(cards)}</div>'
        f'<p style="color:#374151">{esc(_why_k(seg))}</p>'
        '<p style="color:#6b7280">Charts: <code>.plot.scatter()</code>, '
        "<code>.plot.profiles()</code>, <code>.plot.elbow()</code>, ...; the numbers: "
        "<code>.profile_table()</code>.</p></div>"
    )
