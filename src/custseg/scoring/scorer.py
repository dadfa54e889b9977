"""Assign new customers to the segments of a saved model, and say how far they drifted.

Two paths give the same answer. ``SegmentModel.assign`` runs the fitted scikit-learn pipeline on a
table (the reference). ``SegmentModel.scorer`` is the same arithmetic in plain NumPy on arrays,
for the scoring service's hot path; it is checked against the pipeline when built and is only used
when it agrees.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

from custseg.exceptions import DataError
from custseg.features import FeaturePlan, feature_frame
from custseg.model import Segmenter
from custseg.read import (
    Table,
    examples,
    free_column_name,
    infinite_values,
    load,
    non_numeric_cells,
    normalise_name,
)
from custseg.scoring.drift import DriftReport, drift_report
from custseg.text import plural

MAX_MODEL_VALUE = 1e150  # model-space magnitude above which a row cannot be scored


@dataclass
class Prediction:
    """What :meth:`SegmentModel.predict` found: assignments, drift, and what it noticed.

    Attributes
    ----------
    assignments : DataFrame
        The input rows untouched plus ``segment``, ``segment_name`` and ``distance``.
    drift : DriftReport
        Segment shares and feature distributions now against training.
    mapping : dict
        Model feature -> the input column used for it.
    unused : list of str
        Input columns the model does not use (ignored).
    notes : list of str
        Imputed values, unseen categories, renamed result columns, ...
    """

    assignments: pd.DataFrame
    drift: DriftReport
    mapping: dict[str, str]
    unused: list[str]
    notes: list[str] = field(default_factory=list)


@dataclass
class SegmentModel:
    """A fitted segmentation loaded from a model file: preprocessing, K-Means, profiles.

    Load one with :func:`custseg.load_model`.
    """

    preprocessor: ColumnTransformer
    model: Segmenter
    plan: FeaturePlan
    roles: dict[str, str]
    profiles: list[dict]
    training: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    format_version: int = 3
    notes: list[str] = field(default_factory=list)

    # ------------------------------------------------------------ views
    @cached_property
    def names(self) -> dict[int, str]:
        """Segment id -> segment name."""
        return {int(p["id"]): p["name"] for p in self.profiles}

    @property
    def k(self) -> int:
        return int(self.model.n_clusters)

    @property
    def feature_names(self) -> list[str]:
        return self.plan.columns

    def features(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The model's feature columns of ``frame`` (named as in the model), for the pipeline."""
        return feature_frame(frame, self.plan)

    # ------------------------------------------------------------ columns and values
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

    def check_values(self, table: Table, mapping: dict[str, str]) -> dict[str, int]:
        """Raise one :class:`DataError` listing every non-numeric or infinite feature value.

        The same checks as :func:`custseg.read.validate`, without the role rules that only make
        sense for training (a batch of new customers may well have one age only). Returns the
        number of missing values per feature; they are imputed with the training statistics.
        """
        problems, missing = [], {}
        for feature in self.plan.numeric:
            col = mapping[feature]
            raw = table.frame[col]
            values, positions = non_numeric_cells(raw)
            if len(positions):
                problems.append(
                    f"Column {col!r} has {len(positions)} non-numeric value"
                    f"{'s' if len(positions) > 1 else ''} (e.g. {examples(table, raw, positions)}"
                    f"); the model needs numbers for {feature!r}: clean them or leave the cells "
                    "empty (imputed)"
                )
            infinite = infinite_values(table, col, values.to_numpy())
            if infinite:
                problems.append(infinite)
            # empty cells only: the non-numeric text cells are reported above
            missing[feature] = int(values.isna().sum()) - len(positions)
        for feature in self.plan.categorical:
            missing[feature] = int(table.frame[mapping[feature]].isna().sum())
        if problems:
            raise DataError(problems)
        return missing

    # ------------------------------------------------------------ scoring
    def score(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Segment and distance to its centre for each row of a feature frame (see ``features``)."""
        with np.errstate(all="ignore"):
            Z = self.preprocessor.transform(X)
            # Beyond this, squared distances overflow and scikit-learn returns clipped garbage.
            finite = (np.abs(Z) < MAX_MODEL_VALUE).all(axis=1)
            labels = np.zeros(len(X), dtype=np.int64)
            dist = np.full(len(X), np.nan)
            if finite.any():
                labels[finite], dist[finite] = self.model.distances(Z[finite])
        bad = ~(finite & np.isfinite(dist))
        if bad.any():
            raise OverflowRows(np.flatnonzero(bad))
        return labels, dist

    def assign(
        self, data: str | Path | pd.DataFrame | Table, *, id_column: str | None = None
    ) -> pd.DataFrame:
        """Input rows untouched plus ``segment``, ``segment_name`` and ``distance``.

        Parameters
        ----------
        data : path, DataFrame or Table
            New customers, with the model's feature columns (recognised as ``custseg run`` does).
        id_column : str, optional
            The customer id column when loading from a path or DataFrame.
        """
        return self._assign(self._table(data, id_column))[0]

    def predict(
        self, data: str | Path | pd.DataFrame | Table, *, id_column: str | None = None
    ) -> Prediction:
        """Assign segments and compare the new customers with the training customers.

        Returns
        -------
        Prediction
            Assignments, drift report, column mapping, unused columns and notes.
        """
        table = self._table(data, id_column)
        assignments, mapping, X, labels, notes = self._assign(table)
        drift = drift_report(self, X, labels)
        used = set(mapping.values())
        unused = [str(c) for c in table.frame.columns if c not in used]
        return Prediction(assignments, drift, mapping, unused, notes)

    @staticmethod
    def _table(data, id_column) -> Table:
        return data if isinstance(data, Table) else load(data, id_column=id_column)

    def _assign(self, table: Table):
        mapping = self.match_columns(table)
        missing = self.check_values(table, mapping)
        frame = table.frame[list(mapping.values())]
        frame = frame.set_axis(list(mapping), axis=1)
        X = self.features(frame)
        try:
            labels, dist = self.score(X)
        except OverflowRows as exc:
            where = ", ".join(table.where(int(p)) for p in exc.positions[:3])
            raise DataError(
                f"{len(exc.positions)} row(s) have feature values too large to score (e.g. on "
                f"{where}); check the units of {self.plan.numeric!r}"
            ) from None
        out = table.frame.copy(deep=False)
        notes = [
            f"imputed {n} missing value{'s' if n > 1 else ''} in {mapping[f]!r} with the "
            "training statistics"
            for f, n in missing.items()
            if n
        ]
        for feature in self.plan.categorical:
            known = set(self.training.get("categories", {}).get(feature, {}))
            text = X[feature].dropna()
            unseen = sorted(set(text) - known) if known else []
            if unseen:
                notes.append(
                    f"{plural(int(text.isin(unseen).sum()), 'row')} with {mapping[feature]!r} "
                    "values not "
                    f"seen in training ({', '.join(map(repr, unseen[:5]))}); they count as none of "
                    "the known categories"
                )
        columns = {}
        for name in ("segment", "segment_name", "distance"):
            free = free_column_name(out.columns, name)
            if free != name:
                notes.append(f"the input already has a {name!r} column; wrote {free!r} instead")
            columns[name] = free
        out[columns["segment"]] = labels.astype(np.int64)
        out[columns["segment_name"]] = pd.Series(labels, index=out.index).map(self.names)
        out[columns["distance"]] = dist
        return out, mapping, X, labels, notes

    @cached_property
    def scorer(self) -> FastScorer:
        """The NumPy scoring path (checked against the pipeline; see :class:`FastScorer`)."""
        return FastScorer.build(self)


class OverflowRows(ArithmeticError):
    """Rows whose transformed values or distances are not finite."""

    def __init__(self, positions: np.ndarray):
        super().__init__(f"{len(positions)} rows overflow")
        self.positions = positions


class FastScorer:
    """The fitted preprocessing and nearest-centre search as plain NumPy arithmetic.

    Built from a fitted ``ColumnTransformer`` shaped as
    :func:`custseg.features.build_preprocessor` makes it (median impute, optional log1p,
    standard/min-max/robust scaling, one-hot). ``build`` compares it with the scikit-learn
    pipeline and falls back to the pipeline when it cannot reproduce it.
    """

    def __init__(self, model: SegmentModel):
        self.model = model
        self.numeric = list(model.plan.numeric)
        self.categorical = list(model.plan.categorical)
        self.centers = np.asarray(model.model.cluster_centers_, dtype=float)
        self.names = [model.names.get(i, f"Segment {i}") for i in range(len(self.centers))]
        self.exact = False  # True when the NumPy path is in use
        ct = model.preprocessor
        num = ct.named_transformers_["num"]
        steps = dict(num.steps) if isinstance(num, Pipeline) else {}
        self.medians = np.asarray(steps["impute"].statistics_, dtype=float)
        self.log_mask = None
        if "log" in steps:
            self.log_mask = np.asarray(steps["log"].kw_args["mask"], dtype=bool)
        scaler = steps.get("scale", "passthrough")
        n = len(self.numeric)
        self.shift, self.factor = np.zeros(n), np.ones(n)
        if isinstance(scaler, StandardScaler):
            if scaler.with_mean:
                self.shift = np.asarray(scaler.mean_, dtype=float)
            if scaler.with_std:
                self.factor = 1.0 / np.asarray(scaler.scale_, dtype=float)
        elif isinstance(scaler, MinMaxScaler):  # x * scale_ + min_ = (x + min_/scale_) * scale_
            if scaler.clip:
                raise NotImplementedError("clipping MinMaxScaler")
            self.factor = np.asarray(scaler.scale_, dtype=float)
            self.shift = -np.asarray(scaler.min_, dtype=float) / self.factor
        elif isinstance(scaler, RobustScaler):
            if scaler.with_centering:
                self.shift = np.asarray(scaler.center_, dtype=float)
            if scaler.with_scaling:
                self.factor = 1.0 / np.asarray(scaler.scale_, dtype=float)
        elif scaler != "passthrough":
            raise NotImplementedError(type(scaler).__name__)
        self.cat_fill: list[str] = []
        self.cat_index: list[dict[str, int]] = []
        self.cat_width = 0
        if self.categorical:
            cat = dict(ct.named_transformers_["cat"].steps)
            encoder = cat["onehot"]
            if encoder.drop_idx_ is not None:
                raise NotImplementedError("one-hot drop")
            self.cat_fill = [str(v) for v in cat["impute"].statistics_]
            offset = 0
            for cats in encoder.categories_:
                self.cat_index.append({str(c): offset + i for i, c in enumerate(cats)})
                offset += len(cats)
            self.cat_width = offset

    @classmethod
    def build(cls, model: SegmentModel) -> FastScorer:
        """A scorer that reproduces the pipeline on the training probe points and random rows."""
        try:
            scorer = cls(model)
        except (NotImplementedError, KeyError, AttributeError, TypeError):
            scorer = _PipelineScorer(model)
            return scorer
        scorer.exact = scorer._agrees()
        return scorer if scorer.exact else _PipelineScorer(model)

    def _agrees(self) -> bool:
        rng = np.random.default_rng(0)
        bins = self.model.training.get("bins", {})
        rows = []
        for _ in range(64):
            row = {}
            for c in self.numeric:
                edges = bins.get(c, {}).get("edges") or [0.0, 1.0]
                lo, hi = min(edges), max(edges)
                span = (hi - lo) or 1.0
                row[c] = float(rng.uniform(lo - span, hi + span)) if rng.random() > 0.05 else None
            for c, index in zip(self.categorical, self.cat_index, strict=True):
                options = [*index, "unseen", None]
                row[c] = options[rng.integers(len(options))]
            rows.append(row)
        frame = pd.DataFrame(rows, columns=[*self.numeric, *self.categorical])
        with np.errstate(all="ignore"):
            Z = self.model.preprocessor.transform(self.model.features(frame))
            want = self.model.model.transform(Z)
        got_labels, got_dist = self.score(*self.arrays(rows))
        return bool(
            np.allclose(self.distances_all(*self.arrays(rows)), want, rtol=1e-9, atol=1e-9)
            and (got_labels == want.argmin(axis=1)).all()
            and np.allclose(got_dist, want.min(axis=1), rtol=1e-9, atol=1e-9)
        )

    def arrays(self, rows: Sequence[dict]) -> tuple[np.ndarray, list[list]]:
        """Numeric matrix (NaN for None) and categorical values from dicts keyed by feature."""
        num = np.array([[r[c] for c in self.numeric] for r in rows], dtype=float).reshape(
            len(rows), len(self.numeric)
        )
        cats = [[r[c] for c in self.categorical] for r in rows] if self.categorical else []
        return num, cats

    def transform(self, num: np.ndarray, cats: list[list] | None = None) -> np.ndarray:
        """Model-space rows from raw numeric values (NaN = missing) and categorical values."""
        X = np.where(np.isnan(num), self.medians, num)
        if self.log_mask is not None:
            X[:, self.log_mask] = np.log1p(np.clip(X[:, self.log_mask], 0, None))
        X = (X - self.shift) * self.factor
        if not self.categorical:
            return X
        onehot = np.zeros((len(X), self.cat_width))
        for i, row in enumerate(cats or []):
            for j, value in enumerate(row):
                key = self.cat_fill[j] if value is None else str(value)
                pos = self.cat_index[j].get(key)
                if pos is not None:
                    onehot[i, pos] = 1.0
        return np.hstack([X, onehot])

    def distances_all(self, num: np.ndarray, cats: list[list] | None = None) -> np.ndarray:
        with np.errstate(all="ignore"):
            Z = self.transform(num, cats)
            diff = Z[:, None, :] - self.centers[None, :, :]
            return np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))

    def score(
        self, num: np.ndarray, cats: list[list] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Nearest segment and distance per row; non-finite distance where a row overflows."""
        D = self.distances_all(num, cats)
        labels = D.argmin(axis=1)
        dist = D[np.arange(len(D)), labels]
        bad = ~np.isfinite(dist)
        if bad.any():  # NaN/inf somewhere in the row: no meaningful nearest centre
            labels[bad] = 0
            dist[bad] = np.inf
        return labels, dist

    def score_rows(
        self, rows: Sequence[Sequence[float | None]], cats: Sequence[Sequence] | None = None
    ) -> tuple[list[int], list[float]]:
        """Like :meth:`score`, for a few rows given as lists, in plain Python (no NumPy setup).

        NumPy's per-call overhead dominates for one customer; this is the service's
        single-customer path. Same arithmetic, so the same segments (distances may differ in
        the last bit).
        """
        if not self.exact or self.categorical:
            labels, dist = self.score(np.array(rows, dtype=float).reshape(len(rows), -1), cats)
            return labels.tolist(), dist.tolist()
        medians = self._py["medians"]
        shift, factor, log = self._py["shift"], self._py["factor"], self._py["log"]
        centers = self._py["centers"]
        labels, dists = [], []
        for row in rows:
            z = []
            for j, v in enumerate(row):
                x = medians[j] if v is None or v != v else v
                if log[j]:
                    x = math.log1p(x if x > 0 else 0.0)
                z.append((x - shift[j]) * factor[j])
            best, best_d = 0, math.inf
            for i, c in enumerate(centers):
                try:
                    d = sum((a - b) * (a - b) for a, b in zip(z, c, strict=True))
                except OverflowError:
                    d = math.inf
                if d < best_d:
                    best, best_d = i, d
            labels.append(best)
            dists.append(math.sqrt(best_d) if best_d < math.inf else math.inf)
        return labels, dists

    @cached_property
    def _py(self) -> dict:
        n = len(self.numeric)
        mask = self.log_mask if self.log_mask is not None else np.zeros(n, dtype=bool)
        return {
            "medians": self.medians.tolist(),
            "shift": self.shift.tolist(),
            "factor": self.factor.tolist(),
            "log": mask.tolist(),
            "centers": self.centers.tolist(),
        }


class _PipelineScorer(FastScorer):
    """Fallback with the same interface, through the scikit-learn pipeline."""

    def __init__(self, model: SegmentModel):  # noqa: D107 - deliberately skips the NumPy setup
        self.model = model
        self.numeric = list(model.plan.numeric)
        self.categorical = list(model.plan.categorical)
        self.centers = np.asarray(model.model.cluster_centers_, dtype=float)
        self.names = [model.names.get(i, f"Segment {i}") for i in range(len(self.centers))]
        self.exact = False

    def distances_all(self, num: np.ndarray, cats: list[list] | None = None) -> np.ndarray:
        frame = pd.DataFrame(num, columns=self.numeric)
        for j, c in enumerate(self.categorical):
            frame[c] = [row[j] for row in cats or []]
        with np.errstate(all="ignore"):
            Z = self.model.preprocessor.transform(self.model.features(frame))
            finite = (np.abs(Z) < MAX_MODEL_VALUE).all(axis=1)
            D = np.full((len(Z), len(self.centers)), np.inf)
            if finite.any():
                D[finite] = self.model.model.transform(Z[finite])
        return D
