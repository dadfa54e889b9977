"""The segments' rules, printed as a short block under the results table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape

from custseg.cli.common import out

if TYPE_CHECKING:
    from custseg.segmentation import Segmentation

NO_RULE = "no rule of its own: its customers fall under others' rules (--rule-depth 4 gives more)"


def print_rules(seg: Segmentation) -> None:
    """One line per segment: its rule and the share of its customers the rule keeps."""
    summary_rules = getattr(seg, "rules", None)
    if summary_rules is None:
        return
    out.print(
        f"[bold]Segments as rules[/] ({summary_rules.method}): they put "
        f"{summary_rules.fidelity:.1%} of customers in their own segment; rules.sql holds them "
        "as one SQL expression.",
        highlight=False,
    )
    for p in seg.profiles:
        rule = summary_rules.rule(p.id, seg.label)
        kept = summary_rules.segment_fidelity.get(p.id, 0.0)
        text = (rule[:1].upper() + rule[1:]) if rule else NO_RULE
        out.print(
            f"  {p.id} {escape(p.name)}: {escape(text)} [dim]({kept:.0%} of its customers)[/]",
            highlight=False,
        )
