"""``ChartData``: the rows the charts draw, taken once from a result.

The summary holds every statistic the report shows; charts also need customers (a seeded
sample of them in original units and as the model sees them), which a summary does not keep.
This is the one place that reads them from the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from custseg.features import feature_frame
from custseg.outputs.report._common import (
    SEED,
    SILHOUETTE_SAMPLE_MAX,
    sample_note,
    sample_positions,
)

if TYPE_CHECKING:
    from custseg.segmentation import Segmentation


@dataclass(frozen=True)
class ChartData:
    """Row-level data behind the charts of one result (the summary holds the rest)."""

    values: pd.DataFrame  # numeric features in original units, one row per input row
    labels: np.ndarray  # segment of each input row; -1 where the row was left out
    positions: np.ndarray  # seeded sample of segmented rows for the scatter charts
    model_rows: np.ndarray  # the rows at ``positions`` as the model sees them
    silhouette_positions: np.ndarray  # seeded sample of segmented rows for the silhouette
    silhouette_rows: np.ndarray  # the rows at ``silhouette_positions`` as the model sees them
    model_centres: np.ndarray  # segment centres as the model sees them (row = segment id)
    gender: pd.Series | None  # the table's first gender column, one value per input row
    missing_by_column: dict[str, int]  # missing values of the columns the summary does not count

    @property
    def used(self) -> np.ndarray:
        return self.labels >= 0

    @property
    def n_used(self) -> int:
        """Segmented rows held here (a Spark run holds a sample of them)."""
        return int(self.used.sum())

    @property
    def note(self) -> str:
        """What the scatter charts show: ``"all 200 customers"`` or a sample of them."""
        return sample_note(len(self.positions), self.n_used)

    @classmethod
    def from_result(cls, seg: Segmentation, *, max_points: int = 5000) -> ChartData:
        """The rows the charts of ``seg`` draw; scatter charts show ``max_points`` at most."""
        used = np.flatnonzero(seg.used)
        positions = sample_positions(used, max_points)
        silhouette = sample_positions(used, SILHOUETTE_SAMPLE_MAX, seed=SEED)
        frame = seg.table.frame
        gender = seg.table.columns_with("gender")
        counted = seg.missing or {}
        return cls(
            values=seg.values(),
            labels=seg.labels,
            positions=positions,
            model_rows=_model_space(seg, positions),
            silhouette_positions=silhouette,
            silhouette_rows=_model_space(seg, silhouette),
            model_centres=np.asarray(seg.model.cluster_centers_, dtype=float),
            gender=frame[gender[0]] if gender else None,
            missing_by_column={
                c: int(frame[c].isna().sum()) for c in seg.table.roles if c not in counted
            },
        )


def _model_space(seg: Segmentation, positions: np.ndarray) -> np.ndarray:
    """Rows at ``positions`` (all segmented) as the model sees them."""
    if not len(positions):
        return np.empty((0, 0))
    X = feature_frame(seg.table.frame.iloc[positions], seg.plan)
    with np.errstate(all="ignore"):
        return np.asarray(seg.preprocessor.transform(X), dtype=float)
