"""``segment_rfm``: transactions -> RFM features (the prepare step) -> the ordinary segmentation."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from custseg.outputs.summary import json_ready
from custseg.pipeline.options import SegmentOptions
from custseg.read import Table
from custseg.rfm.features import rfm_features
from custseg.rfm.options import RFMOptions, rfm_run_options, split_settings
from custseg.rfm.scores import rfm_scores
from custseg.segmentation import Progress, Segmentation, segment
from custseg.text import plural

RFM_FILENAME = "rfm_features.csv"
FEATURE_ROLES = {
    "recency": "recency",
    "frequency": "frequency",
    "monetary": "monetary",
    "tenure": "tenure",
    "avg_order_value": "order_value",
}


@dataclass(frozen=True)
class RFMSegmentation(Segmentation):
    """A :class:`Segmentation` of RFM features, with the RFM report and score comparison."""

    rfm_report: dict = field(default_factory=dict)
    rfm_options: RFMOptions = field(default_factory=RFMOptions)  # what the prepare step was told

    @property
    def rfm_table(self) -> pd.DataFrame:
        """Per-customer RFM features and classic scores (what ``rfm_features.csv`` holds)."""
        return self.table.frame

    def comparison(self) -> pd.DataFrame:
        """K-Means segment x classic RFM segment: number of customers in each pair."""
        frame = self.assignments().loc[self.used]
        return pd.crosstab(frame["segment_name"], frame["rfm_segment"])

    def score_means(self) -> pd.DataFrame:
        """Mean R, F and M score of each K-Means segment."""
        frame = self.assignments().loc[self.used]
        means = frame.groupby("segment")[["R", "F", "M"]].mean().round(2)
        means.insert(0, "name", means.index.map(self.names))
        return means

    def summary(self) -> dict:
        summary = super().summary()
        crosstab = self.comparison()
        summary["rfm"] = json_ready(
            {
                **self.rfm_report,
                "scores": "quintiles 1..5; R higher = more recent; ties share a score",
                "score_means": self.score_means().reset_index().to_dict(orient="records"),
                "crosstab": {
                    name: {k: int(v) for k, v in row.items() if v}
                    for name, row in crosstab.iterrows()
                },
            }
        )
        return summary


def segment_rfm(
    transactions: str | Path | pd.DataFrame | pa.Table | Table,
    options: SegmentOptions | None = None,
    *,
    rfm: RFMOptions | None = None,
    progress: Progress | None = None,
    **settings: Any,
) -> RFMSegmentation:
    """Segment customers from their transactions: RFM features, then :func:`custseg.segment`.

    Parameters
    ----------
    transactions : path, DataFrame, pyarrow.Table or Table
        One row per transaction or order line (see :func:`read_transactions` for the formats).
    options : SegmentOptions, optional
        The run's options, as for :func:`custseg.segment`. Where they say nothing, RFM's own
        defaults apply: the features ``recency, frequency, monetary`` (others:
        ``tenure, avg_order_value``), the skewed-by-nature ``frequency``, ``monetary`` and
        ``avg_order_value`` logged (``log="none"`` for none), and the shipped ``rfm_rules.toml``
        naming rules (Champions, Loyal, At risk, ...).
    rfm : RFMOptions, optional
        The transactions' columns, ``as_of``, ``dayfirst`` and ``returns``.
    progress : callable(step, done, total), optional
        Progress callback, e.g. for a progress bar.
    **settings
        Any field of either options object by name (``k=4``, ``as_of="1998-07-01"``),
        overriding it.

    Returns
    -------
    RFMSegmentation
        Its table holds the RFM features and classic R, F, M scores of every customer.
    """
    options, rfm = split_settings(options, rfm, settings)
    run = rfm_run_options(options)
    if progress:
        progress("RFM features", 0, 1)
    features, report = rfm_features(transactions, rfm)
    if progress:
        progress("RFM features", 1, 1)
    seg = segment(rfm_table(features, report), run, progress=progress)
    params = dict(seg.params)
    params["rules"] = str(options.rules) if options.rules else "built-in RFM rules"
    params |= {"returns": rfm.returns, "as_of": report["as_of"], "dayfirst": rfm.dayfirst}
    values = {f.name: getattr(seg, f.name) for f in fields(seg)}
    values["params"] = params
    result = RFMSegmentation(**values, rfm_report=report, rfm_options=rfm)
    for key, cached in vars(seg).items():  # cached views (e.g. feature values) carry over
        if key not in values:
            vars(result)[key] = cached
    return result


def rfm_table(features: pd.DataFrame, report: dict) -> Table:
    """The customer table the pipeline segments: RFM features, classic scores and their roles."""
    frame = pd.concat([features, rfm_scores(features)], axis=1)
    roles = {c: "numeric" for c in frame.columns}
    roles |= {"customer": "id", "first_purchase": "date", "last_purchase": "date"}
    roles |= {"RFM": "text", "rfm_segment": "categorical", **FEATURE_ROLES}
    table = Table(frame=frame, roles=roles, source=report["source"], notes=list(report["notes"]))
    table.notes.insert(
        0,
        f"{plural(report['customers'], 'customer')} from "
        f"{plural(report['rows_used'], 'transaction')} "
        f"({report['first_date']} to {report['last_date']}), as of {report['as_of']}",
    )
    return table
