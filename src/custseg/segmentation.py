"""``segment()``: the whole run in one call, returning one frozen ``Segmentation``.

It chains the pipeline's steps (prepare -> search k -> fit -> explain) and assembles the result.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer

from custseg.features import FeaturePlan, feature_frame, numeric_to_original
from custseg.model import Segmenter
from custseg.outputs.card import html_repr, text_repr
from custseg.outputs.model_file import save_model
from custseg.outputs.plot import SegmentationPlot
from custseg.outputs.report import render_html
from custseg.outputs.runs import FinishedRun, read_previous
from custseg.outputs.summary import build_summary
from custseg.pipeline.explain import SegmentProfile, describe, label_of, load_rules
from custseg.pipeline.fit import distance_to_centre, fit
from custseg.pipeline.identity import Identity, carry_names, match_segments, relabel
from custseg.pipeline.migration import Migration, migrate
from custseg.pipeline.options import SegmentOptions
from custseg.pipeline.prepare import Prepared, prepare, with_roles
from custseg.pipeline.rules import SegmentRules, fit_rules
from custseg.pipeline.search import KChoice, Search, search_k
from custseg.pipeline.stability import Stability
from custseg.read import Table, free_column_name, load
from custseg.scoring.scorer import SegmentModel
from custseg.text import humanise, plural

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Segmentation:
    """The result of a run: data, feature plan, fitted pipeline, k evidence and profiles.

    Made by :func:`segment`; frozen. Everything the report, ``summary.json``, ``segments.csv``
    and the model file show comes from here.

    Attributes
    ----------
    table : Table
        The input rows, untouched, and the role of each column.
    plan : FeaturePlan
        The feature columns and their transforms: numeric, one-hot, log, scaling.
    preprocessor : sklearn.compose.ColumnTransformer
        The fitted imputation, log, scaling and one-hot steps.
    model : Segmenter
        The fitted K-Means.
    labels : numpy.ndarray
        Segment of each input row; -1 where the row was left out (``missing="drop"``).
    distances : numpy.ndarray
        Distance of each input row to its segment centre, in model units (NaN when left out).
    k_choice : KChoice
        The metrics of every k compared and the recommendation, with its reason.
    profiles : list of SegmentProfile
        Per segment: size, share, statistics, name, persona and suggested actions.
    missing : dict
        Number of missing values per feature column.
    missing_policy : str
        What was done with them: ``"impute"``, ``"drop"`` or ``"error"``.
    params : dict
        The run's parameters as recorded in ``summary.json``.
    notes : list of str
        What the run noticed (columns left out, sampling, rows dropped, ...).
    options : SegmentOptions
        The options the run was given; ``options.replace(k=6)`` tries another k.
    stability : Stability or None
        Bootstrap stability of each segment and of the whole segmentation (None when k < 2).
    created : str
        When the run finished (UTC, ISO 8601).
    identity : Identity or None
        With ``previous``: which segments were carried over, appeared or vanished.
    migration : Migration or None
        With a previous run that has customer ids: who moved between segments.
    rules : SegmentRules or None
        Each segment as a short rule on the numeric features, with its fidelity (the share of
        customers the rules put in their own segment); ``rules.to_sql()`` is the ``rules.sql``
        expression. None when the run has no numeric feature.
    display_names : dict
        Feature column -> the name a person reads ("cash advance frequency"), from the rules
        file's ``[display]`` section or the column name in words.
    features_advice : list of FeatureAdvice or None
        Feature guidance on each candidate column (when the run was not told its columns).
    """

    table: Table
    plan: FeaturePlan
    preprocessor: ColumnTransformer
    model: Segmenter
    labels: np.ndarray  # per input row; -1 where the row was left out (--missing drop)
    distances: np.ndarray  # to the row's segment centre, in model space (NaN when left out)
    k_choice: KChoice
    profiles: list[SegmentProfile]
    missing: dict[str, int]
    missing_policy: str
    params: dict
    notes: list[str] = field(default_factory=list)
    options: SegmentOptions = field(default_factory=SegmentOptions)  # what the run was told
    stability: Stability | None = None  # bootstrap stability per segment (None: k < 2)
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    identity: Identity | None = None
    migration: Migration | None = None
    rules: SegmentRules | None = None
    display_names: dict[str, str] = field(default_factory=dict)
    features_advice: list | None = None  # FeatureAdvice per candidate column, when guided

    # ------------------------------------------------------------ views
    @property
    def k(self) -> int:
        """Number of segments."""
        return int(self.model.n_clusters)

    @property
    def features(self) -> list[str]:
        """The feature columns: numeric ones, then categorical ones (one-hot encoded)."""
        return self.plan.columns

    @property
    def k_reason(self) -> str:
        """Why the run has ``k`` segments: the recommendation's reason, or, when k was chosen,
        that it was chosen and what the recommendation was."""
        choice = self.k_choice
        if self.options.k == "auto":
            return choice.reason
        why = re.sub(r"^k=\d+: ", "", choice.reason)
        if self.k == choice.recommended:
            return f"You chose k = {self.k}, which is also the recommendation: {why}"
        return f"You chose k = {self.k}; the recommendation was k = {choice.recommended}: {why}"

    def label(self, column: str) -> str:
        """The name a person reads for ``column`` (see ``display_names``)."""
        return self.display_names.get(column) or humanise(column)

    @property
    def names(self) -> dict[int, str]:
        """Segment id -> segment name."""
        return {p.id: p.name for p in self.profiles}

    @property
    def used(self) -> np.ndarray:
        """Which input rows were segmented (all of them unless ``missing="drop"``)."""
        return self.labels >= 0

    @property
    def n_rows(self) -> int:
        """Rows in the input (a Spark run holds only a sample of them in ``table``)."""
        return len(self.table.frame)

    @property
    def n_used(self) -> int:
        """Rows segmented (input rows minus those left out for missing values)."""
        return int(self.used.sum())

    @property
    def centers(self) -> pd.DataFrame:
        """Segment centres of the numeric features in original units, one row per segment."""
        centers = numeric_to_original(self.preprocessor, self.plan, self.model.cluster_centers_)
        centers.index.name = "segment"
        return centers

    @cached_property
    def _values(self) -> pd.DataFrame:
        return feature_frame(self.table.frame, FeaturePlan(self.plan.numeric))

    def values(self) -> pd.DataFrame:
        """Numeric feature values in original units (as float), one row per input row."""
        return self._values

    def model_space(self, positions: np.ndarray | None = None) -> np.ndarray:
        """The used rows (or those at ``positions`` among them) as the model sees them."""
        frame = self.table.frame.loc[self.used]
        if positions is not None:
            frame = frame.iloc[positions]
        return self.preprocessor.transform(feature_frame(frame, self.plan))

    def assignments(self) -> pd.DataFrame:
        """Every input row, values untouched, plus ``segment`` and ``segment_name``."""
        frame = self.table.frame
        seg_col = free_column_name(frame.columns, "segment")
        name_col = free_column_name(frame.columns, "segment_name")
        segment = pd.array(np.where(self.used, self.labels, 0), dtype="Int64")
        segment[~self.used] = pd.NA
        added = pd.DataFrame({seg_col: segment}, index=frame.index)
        added[name_col] = added[seg_col].map(self.names).astype("string")
        return pd.concat([frame, added], axis=1)

    def profile_table(self) -> pd.DataFrame:
        """Size, share and mean of each feature per segment."""
        rows = [
            {"segment": p.id, "name": p.name, "size": p.size, "share": round(p.share, 4)}
            | {f: p.means[f] for f in self.plan.numeric}
            for p in self.profiles
        ]
        return pd.DataFrame(rows).set_index("segment")

    def summary(self) -> dict:
        """Everything the report, ``summary.json`` and the terminal show (JSON-ready)."""
        return build_summary(self)

    def save(self, path: str | Path) -> Path:
        """Save the fitted model safely (skops format)."""
        return save_model(self, path)

    def report(self, path: str | Path | None = None, **options) -> str:
        """Render the self-contained HTML report; write it to ``path`` when given."""
        return render_html(self, path, **options)

    @cached_property
    def plot(self) -> SegmentationPlot:
        """The report's charts, one call each: ``seg.plot.scatter()``, ``seg.plot.profiles()``..."""
        return SegmentationPlot(self)

    def __repr__(self) -> str:
        return text_repr(self)

    def _repr_html_(self) -> str:
        return html_repr(self)


def segment(
    data: str | Path | pd.DataFrame | Table,
    options: SegmentOptions | None = None,
    *,
    progress: Progress | None = None,
    k_choice: KChoice | None = None,
    previous: str | Path | SegmentModel | FinishedRun | None = None,
    **settings: Any,
) -> Segmentation:
    """Segment customers with K-Means, end to end.

    Parameters
    ----------
    data : path, DataFrame or Table
        The customer table (see :func:`custseg.load` for the formats).
    options : SegmentOptions, optional
        What the run is told; any of its fields may also be passed by name (``k=5``,
        ``features="income,spending"``), overriding ``options``. See
        :class:`~custseg.SegmentOptions` for each.
    progress : callable(step, done, total), optional
        Progress callback, e.g. for a progress bar.
    k_choice : KChoice, optional
        The k search of an earlier run on the same table, features, scaling, missing policy and
        seed (its ``seg.k_choice``): reused, with its fitted models, instead of searching again,
        so trying another k gives the same result as a fresh run at a fraction of the cost.
        ``k_range`` is then ignored.
    previous : path or SegmentModel, optional
        An earlier run to keep segment identity with: its output folder, its model file, or a
        model from :func:`custseg.load_model` (older model files work too). The new segments are
        matched to its segments by their centres; matched segments keep their id and name (see
        :mod:`custseg.pipeline.identity` for the distance rule). With its output folder (or the
        model file inside it) and customer ids in both runs, ``migration`` says who moved.
        With ``k="auto"`` the run keeps the previous number of segments.

    Returns
    -------
    Segmentation
    """
    options = SegmentOptions.build(options, **settings)
    rules = load_rules(options.rules)  # a bad rules file fails before any work
    before = read_previous(previous) if previous is not None else None  # fails before any work
    kept_k = before is not None and before.model is not None and options.k == "auto"
    if kept_k:  # comparing runs: the same number of segments unless asked otherwise
        options = options.replace(k=before.model.k)
    table = data if isinstance(data, Table) else load(data, id_column=options.id_column)
    table = with_roles(table, options)
    prepared = prepare(table, options)
    search = search_k(
        prepared.Z, options, features=prepared.plan.columns, k_choice=k_choice, progress=progress
    )
    if progress:
        progress("fit segments", 0, 1)
    model = fit(
        prepared.Z, search.k, search.choice.models.get(search.k), search.sample is not None, options
    )
    if progress:
        progress("fit segments", 1, 1)
    identity = None
    if before is not None and before.model is not None:
        rows = table.frame if prepared.keep is None else table.frame.loc[prepared.keep]
        identity = match_segments(before.model, rows, model.labels_, prepared.plan)
        model = relabel(model, identity.order)
    seg = assemble(table, options, prepared, search, model, rules, identity, before)
    if kept_k:
        seg.notes.append(
            f"kept the previous run's {seg.k} segments so they can be matched (the "
            f"recommendation for this data is k={search.choice.recommended}); set k to change it"
        )
    return seg


def assemble(
    table: Table,
    options: SegmentOptions,
    prepared: Prepared,
    search: Search,
    model: Segmenter,
    rules: dict,
    identity: Identity | None = None,
    before: FinishedRun | None = None,
) -> Segmentation:
    """Labels and distances per input row, segment profiles, and the run's parameters; with a
    previous run, carried-over names and the customers' migration."""
    Z, keep, notes = prepared.Z, prepared.keep, list(prepared.notes)
    k, sample = search.k, search.sample
    if sample is not None:
        notes.append(
            f"compared k on a seeded sample of {len(sample):,} of {len(Z):,} rows, then fitted "
            f"k={k} on every row starting from the sample's centres"
        )
    labels = np.full(len(table.frame), -1, dtype=int)
    distances = np.full(len(table.frame), np.nan)
    dist = distance_to_centre(Z, model.cluster_centers_, model.labels_)
    if keep is None:
        labels[:], distances[:] = model.labels_, dist
    else:
        labels[keep], distances[keep] = model.labels_, dist
        notes.append(f"dropped {plural(int((~keep).sum()), 'row')} with missing feature values")
    gender_cols = table.columns_with("gender")
    values = feature_frame(table.frame, FeaturePlan(prepared.plan.numeric))
    profiles = describe(
        values,
        labels,
        table.roles,
        gender=table.frame[gender_cols[0]] if gender_cols else None,
        rules=rules,
    )
    if identity is not None:
        carry_names(profiles, identity)
    segment_rules = fit_rules(
        values,
        labels,
        dict(zip(prepared.plan.numeric, imputed_values(prepared.preprocessor), strict=True)),
        depth=options.rule_depth,
        drop_missing=options.missing == "drop",
        seed=options.seed,
    )
    params = {
        "k": k,
        "k_range": search.choice.ks,
        "scale": options.scale,
        "n_init": options.n_init,
        "seed": options.seed,
        "engine": options.engine,
        "missing": options.missing,
        "rules": str(options.rules) if options.rules else "built-in",
        "k_search_rows": len(Z) if sample is None else len(sample),
        "k_search_seed": options.seed,
        "dtype": str(Z.dtype),
        "rule_depth": options.rule_depth,
    }
    if before is not None:
        params["previous"] = before.source
    names = {p.id: p.name for p in profiles}
    migration = _migration(table, labels, names, identity, before)
    if before is not None and migration is None:
        notes.append(
            "no migration between the runs: "
            + (
                "this table has no customer id column (name it with id_column)"
                if table.id_column is None
                else "give the previous run's output folder, with its segments.csv, rather "
                "than a model file alone"
                if before.summary is None
                else "the previous run had no customer id column"
            )
        )
    result = Segmentation(
        table=table,
        plan=prepared.plan,
        preprocessor=prepared.preprocessor,
        model=model,
        labels=labels,
        distances=distances,
        k_choice=search.choice,
        profiles=profiles,
        missing=prepared.missing,
        missing_policy=options.missing,
        params=params,
        notes=notes,
        options=options,
        identity=identity,
        migration=migration,
        rules=segment_rules,
        features_advice=prepared.advice,
        display_names={
            c: label_of(c, rules) for c in (*prepared.plan.numeric, *prepared.plan.categorical)
        },
        stability=search.stability,
    )
    result.__dict__["_values"] = values  # computed above; cached for the report and model file
    return result


def _migration(
    table: Table,
    labels: np.ndarray,
    names: dict[int, str],
    identity: Identity | None,
    before: FinishedRun | None,
) -> Migration | None:
    """Who moved, when the previous run's customers are known and both runs have ids."""
    if before is None or before.assignments is None or table.id_column is None:
        return None
    current = pd.DataFrame(
        {
            "id": table.frame[table.id_column].astype("string").to_numpy(),
            "segment": pd.array(np.where(labels >= 0, labels, 0), dtype="Int64"),
        }
    )
    current.loc[labels < 0, "segment"] = pd.NA
    return migrate(
        before.assignments,
        current,
        id_column=table.id_column,
        previous_names=before.names,
        names=names,
        carried=identity.carried if identity is not None else None,
    )


def imputed_values(preprocessor: ColumnTransformer) -> list[float]:
    """The value a missing numeric feature is read as (its median), in original units."""
    if not any(name == "num" for name, *_ in preprocessor.transformers_):
        return []
    return [float(v) for v in preprocessor.named_transformers_["num"]["impute"].statistics_]
