"""The run summary: computed once, it serves ``summary.json``, the terminal and the reports."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from custseg.text import capitalise
from custseg.versions import versions

if TYPE_CHECKING:
    from custseg.segmentation import Segmentation


def json_ready(value):
    """JSON-ready: numpy scalars to Python, NaN/inf to None, floats to 10 digits."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        # 10 significant digits: the same run gives the same file whatever the thread count
        # (parallel sums differ in the last bits).
        return float(f"{value:.10g}") if np.isfinite(value) else None
    return value


def build_summary(seg: Segmentation) -> dict:
    """The run summary: what ``summary.json`` holds and what the report and the terminal show.

    Parameters
    ----------
    seg : Segmentation
        The result of :func:`custseg.segment`.

    Returns
    -------
    dict
        JSON-ready (see :func:`json_ready`); RFM runs add an ``"rfm"`` section to it.
    """
    choice = seg.k_choice
    chosen = next((m for m in choice.metrics if m["k"] == seg.k), {})
    # A result may carry no stability (k < 2, or an engine that does not measure it).
    stability = getattr(seg, "stability", None)
    segments = [_segment(seg, p) for p in seg.profiles]
    for entry in segments:
        entry.update(
            stability.segment(entry["id"])
            if stability is not None
            else {"stability": None, "stability_label": None}
        )
    summary = {
        "created": seg.created,
        "source": seg.table.source,
        "n_rows": seg.n_rows,
        "n_rows_used": seg.n_used,
        "n_columns": int(seg.table.frame.shape[1]),
        "roles": dict(seg.table.roles),
        "features": seg.features,
        "numeric_features": list(seg.plan.numeric),
        "categorical_features": list(seg.plan.categorical),
        "log_features": list(seg.plan.log),
        "scale": seg.plan.scale,
        "missing": {"policy": seg.missing_policy, "counts": seg.missing},
        "k": seg.k,
        "k_recommended": choice.recommended,
        "k_reason": seg.k_reason,
        "k_votes": choice.votes,
        "k_choice": {
            "recommended": choice.recommended,
            "confidence": getattr(choice, "confidence", None),
            "reason": choice.reason,
        },
        "stability": stability.to_dict() if stability is not None else None,
        "silhouette_sample_size": choice.silhouette_sample,
        "metrics": choice.metrics,
        "inertia": seg.model.inertia_,
        "silhouette": chosen.get("silhouette"),
        "segments": segments,
        "rules": seg.rules.to_dict(seg.label) if seg.rules is not None else None,
        "display_names": {c: seg.label(c) for c in seg.features},
        "features_advice": [
            a.to_dict() | {"label": seg.label(a.column)} for a in seg.features_advice or []
        ]
        or None,
        "centers": seg.centers.to_dict(orient="records"),
        "params": seg.params,
        "notes": seg.notes,
        "versions": versions(),
    }
    if seg.identity is not None:  # run with a previous model: what was carried over
        summary["identity"] = seg.identity.summary()
    if seg.migration is not None:  # and the previous run's customers: who moved
        summary["migration"] = seg.migration.summary()
    return json_ready(summary)


def _segment(seg: Segmentation, profile) -> dict:
    """One segment's profile plus its rule (in display names) and that rule's fidelity."""
    out = profile.to_dict()
    rules = getattr(seg, "rules", None)  # a Spark run has no rules: the keys say so with None
    rule = rules.rule(profile.id, seg.label) if rules is not None else None
    out["rule"] = capitalise(rule) if rule else None
    out["rule_fidelity"] = rules.segment_fidelity.get(profile.id) if rules is not None else None
    return out
