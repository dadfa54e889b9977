"""Assign new customers to the segments of a saved model."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer

from .exceptions import DataError
from .features import FeaturePlan, feature_frame
from .io import Table, load, normalise_name
from .model import Segmenter


@dataclass
class SegmentModel:
    """A fitted segmentation loaded from a model file: preprocessing, K-Means, profiles."""

    preprocessor: ColumnTransformer
    model: Segmenter
    plan: FeaturePlan
    roles: dict[str, str]
    profiles: list[dict]
    training: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)

    @property
    def names(self) -> dict[int, str]:
        return {int(p["id"]): p["name"] for p in self.profiles}

    def match_columns(self, table: Table) -> dict[str, str]:
        """Model feature -> column of ``table``: same name, same normalised name, or same role."""
        by_norm = {normalise_name(c): c for c in table.frame.columns}
        mapping, absent = {}, []
        for feature in self.plan.columns:
            role = self.roles.get(feature)
            if feature in table.frame.columns:
                mapping[feature] = feature
            elif normalise_name(feature) in by_norm:
                mapping[feature] = by_norm[normalise_name(feature)]
            elif role in ("age", "income", "spending", "gender") and table.columns_with(role):
                mapping[feature] = table.columns_with(role)[0]
            else:
                absent.append(feature)
        if absent:
            raise DataError(
                f"The data lacks the model's feature column(s) {absent!r} (the model needs "
                f"{self.plan.columns!r}); add them or rename the matching columns"
            )
        return mapping

    def assign(self, data: str | Path | pd.DataFrame | Table) -> pd.DataFrame:
        """Input rows untouched plus ``segment``, ``segment_name`` and ``distance``."""
        table = data if isinstance(data, Table) else load(data)
        mapping = self.match_columns(table)
        frame = table.frame.rename(columns={v: k for k, v in mapping.items()})
        X = feature_frame(frame, self.plan)
        labels, dist = self.model.distances(self.preprocessor.transform(X))
        out = table.frame.copy(deep=False)
        out["segment"] = labels.astype(np.int64)
        out["segment_name"] = pd.Series(labels, index=out.index).map(self.names)
        out["distance"] = dist
        return out
