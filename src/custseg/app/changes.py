"""The dashboard's view of a segmentation matched to a previous run (``custseg app --previous``)."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from custseg.outputs.report.figures import migration_heatmap
from custseg.segmentation import Segmentation

TAB = "Since the previous run"
STATUS_WORDS = {"carried": "carried over", "appeared": "new", "vanished": "vanished"}


def changes_tab(seg: Segmentation) -> None:
    """Which segments were carried over, how far they moved, and who moved between them."""
    summary = seg.summary()
    identity = summary["identity"]
    st.markdown(_md(f"Matched to {seg.params.get('previous', 'the previous run')}. "
                    f"Rule: {identity['rule']}."))  # fmt: skip
    rows = [
        {
            "id": s["id"],
            "was": s["previous_id"],
            "segment": s["name"],
            "status": STATUS_WORDS[s["status"]],
            "centre moved (share of the gap)": s["moved_share"],
            **{f"change of {f}": d for f, d in s["shift"].items()},
        }
        for s in identity["segments"]
    ]
    st.dataframe(
        pd.DataFrame(rows).style.format(precision=2, na_rep=""),
        hide_index=True,
    )
    migration = summary.get("migration")
    if migration is None:
        st.info(
            "Who moved between segments shows when the previous run is its output folder and "
            "both runs have customer ids."
        )
        return
    st.markdown("**Who moved**")
    st.markdown("\n".join(f"- {_md(line)}" for line in migration["sentences"]))
    chart = migration_heatmap(summary)
    if chart is not None:
        st.markdown(f"**{_md(chart.title)}**")
        st.plotly_chart(chart.figure, key="migration")
        st.caption(_md(chart.caption))


def _md(text: object) -> str:
    """Text shown literally in Streamlit markdown (as ``views.md``, which imports this module)."""
    return re.sub(r"([\\`*_\[\]<>#|~$])", r"\\\1", str(text))
